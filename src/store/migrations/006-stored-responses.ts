/**
 * Responses API objects kept for `previous_response_id`, `GET /v1/responses/{id}` and its
 * input items (src/responses). Each row holds the whole context the model saw (earlier
 * turns included) and what it answered, so a chain is rebuilt from one row and deleting an
 * earlier response leaves later ones usable. Rows belong to one tenant and are read only
 * with that tenant's id.
 */
import type { Kysely } from 'kysely';
import { dialectOf } from '../database.js';

export async function up(db: Kysely<any>): Promise<void> {
  const big = dialectOf(db) === 'postgres' ? 'bigint' : 'integer';
  await db.schema
    .createTable('stored_responses')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('model', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('previous_response_id', 'text')
    .addColumn('input_items', 'text', (c) => c.notNull())
    .addColumn('output_items', 'text', (c) => c.notNull())
    .addColumn('response', 'text', (c) => c.notNull())
    .addColumn('created_at', big, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('stored_responses_by_tenant').on('stored_responses').columns(['tenant_id', 'created_at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('stored_responses').execute();
}
