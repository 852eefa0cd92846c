/**
 * Holds on a request's money moved from `reservations` rows (a database write before every
 * request) to the gateways' funds (memory or Redis). Rows left by an older gateway belong
 * to requests that are not running any more: release them and drop the table.
 * `tenant_balances.reserved_micros` stays, at 0, so no view or older reader breaks.
 */
import { sql, type Kysely } from 'kysely';
import { dialectOf } from '../database.js';

export async function up(db: Kysely<any>): Promise<void> {
  await db.updateTable('tenant_balances').set({ reserved_micros: 0 }).execute();
  await db.schema.dropTable('reservations').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  const big = dialectOf(db) === 'postgres' ? 'bigint' : 'integer';
  await db.schema
    .createTable('reservations')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('api_key_id', 'text')
    .addColumn('amount_micros', big, (c) => c.notNull().check(sql`amount_micros >= 0`))
    .addColumn('owner', 'text', (c) => c.notNull())
    .addColumn('created_at', big, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('reservations_by_owner').on('reservations').column('owner').execute();
}
