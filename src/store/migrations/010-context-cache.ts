/**
 * Ark-style context caching (issue 11 item 4). `contexts` keeps a tenant's cached prefix
 * (its messages as JSON, its token count) with its TTL, and the state of its storage
 * charge: `accrued_at` (charged up to), `storage_remainder` (the sub-micro numerator carried
 * to the next accrual, < 3.6e12) and `storage_seq` (the next charge's number: charges are
 * usage rows `ctxstore_{id}_{seq}`, so a retried accrual is settled once). A freed context
 * keeps its row (status `expired` or `deleted`, messages emptied) as the record of what was
 * held and charged. The price catalog gains the storage rate: micros per 1M tokens per hour.
 */
import { sql, type Kysely } from 'kysely';
import { dialectOf } from '../database.js';

export async function up(db: Kysely<any>): Promise<void> {
  const big = dialectOf(db) === 'postgres' ? 'bigint' : 'integer';
  await db.schema
    .alterTable('prices')
    .addColumn('context_storage_per_m_hour_micros', big, (c) => c.notNull().defaultTo(0).check(sql`context_storage_per_m_hour_micros >= 0`))
    .execute();
  await db.schema
    .createTable('contexts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('api_key_id', 'text')
    .addColumn('model', 'text', (c) => c.notNull())
    .addColumn('model_id', 'text', (c) => c.notNull())
    .addColumn('endpoint_id', 'text')
    .addColumn('mode', 'text', (c) => c.notNull().check(sql`mode in ('session', 'common_prefix')`))
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('active', 'expired', 'deleted')`))
    .addColumn('messages', 'text', (c) => c.notNull())
    .addColumn('tokens', big, (c) => c.notNull().check(sql`tokens >= 0`))
    .addColumn('ttl_s', big, (c) => c.notNull())
    .addColumn('created_at', big, (c) => c.notNull())
    .addColumn('last_used_at', big, (c) => c.notNull())
    .addColumn('expires_at', big, (c) => c.notNull())
    .addColumn('freed_at', big)
    .addColumn('accrued_at', big, (c) => c.notNull())
    .addColumn('storage_remainder', big, (c) => c.notNull().defaultTo(0))
    .addColumn('storage_charged_micros', big, (c) => c.notNull().defaultTo(0))
    .addColumn('storage_seq', big, (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.createIndex('contexts_by_tenant').on('contexts').columns(['tenant_id', 'status', 'created_at', 'id']).execute();
  await db.schema.createIndex('contexts_by_expiry').on('contexts').columns(['status', 'expires_at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('contexts').execute();
  await db.schema.alterTable('prices').dropColumn('context_storage_per_m_hour_micros').execute();
}
