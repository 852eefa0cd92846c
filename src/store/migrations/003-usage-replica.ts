/**
 * Which replica (engine) served each request, so the cost of a GPU can be set against
 * the tokens it actually served (GET /admin/economics). Old rows keep NULL.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('usage_records').addColumn('replica_id', 'text').execute();
  await db.schema.createIndex('usage_by_time').on('usage_records').column('created_at').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('usage_by_time').execute();
  await db.schema.alterTable('usage_records').dropColumn('replica_id').execute();
}
