/**
 * The first schema: tenants, keys, endpoints, prices and the money tables.
 * One definition for both dialects; the only differences are the integer width
 * (`bigint` on PostgreSQL, where `integer` is 32-bit; SQLite's `integer` is already
 * 64-bit) and the ledger's auto-numbered key.
 */
import { sql, type Kysely } from 'kysely';
import { dialectOf } from '../database.js';

const oneOf = (column: string, values: readonly string[]) =>
  sql`${sql.ref(column)} in (${sql.join(values.map((v) => sql.lit(v)))})`;

export async function up(db: Kysely<any>): Promise<void> {
  const pg = dialectOf(db) === 'postgres';
  const big = pg ? 'bigint' : 'integer';

  await db.schema
    .createTable('tenants')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('active').check(oneOf('status', ['active', 'suspended'])))
    .addColumn('currency', 'text', (c) => c.notNull().check(oneOf('currency', ['CNY', 'USD'])))
    .addColumn('tier', 'text', (c) => c.notNull().defaultTo('standard').check(oneOf('tier', ['priority', 'standard', 'free'])))
    .addColumn('unlimited', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', big, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('api_keys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('prefix', 'text', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull().unique())
    .addColumn('scopes', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('rpm', 'integer', (c) => c.notNull())
    .addColumn('tpm', 'integer', (c) => c.notNull())
    .addColumn('monthly_budget_micros', big)
    .addColumn('expires_at', big)
    .addColumn('revoked_at', big)
    .addColumn('created_at', big, (c) => c.notNull())
    .addColumn('last_used_at', big)
    .execute();
  await db.schema.createIndex('api_keys_by_tenant').on('api_keys').column('tenant_id').execute();

  await db.schema
    .createTable('endpoints')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.references('tenants.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('model_id', 'text', (c) => c.notNull())
    .addColumn('rpm', 'integer', (c) => c.notNull())
    .addColumn('tpm', 'integer')
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('started').check(oneOf('status', ['started', 'stopped'])))
    .addColumn('created_at', big, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('endpoints_by_tenant').on('endpoints').column('tenant_id').execute();

  await db.schema
    .createTable('prices')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('model_id', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull().check(oneOf('currency', ['CNY', 'USD'])))
    .addColumn('input_per_m_micros', big, (c) => c.notNull().check(sql`input_per_m_micros >= 0`))
    .addColumn('cached_input_per_m_micros', big, (c) => c.notNull().check(sql`cached_input_per_m_micros >= 0`))
    .addColumn('output_per_m_micros', big, (c) => c.notNull().check(sql`output_per_m_micros >= 0`))
    .addColumn('batch_discount_pct', 'integer', (c) =>
      c.notNull().defaultTo(0).check(sql`batch_discount_pct between 0 and 100`),
    )
    .addColumn('tiers', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('effective_from', big, (c) => c.notNull())
    .addColumn('created_at', big, (c) => c.notNull())
    .addUniqueConstraint('prices_model_version', ['model_id', 'version'])
    .execute();
  await db.schema.createIndex('prices_by_model_time').on('prices').columns(['model_id', 'effective_from']).execute();

  await db.schema
    .createTable('ledger_entries')
    // SQLite: `integer primary key` is the rowid, already auto-numbered and never reused
    // while rows are only appended. PostgreSQL needs an identity column.
    .addColumn('id', pg ? 'bigserial' : 'integer', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('kind', 'text', (c) => c.notNull().check(oneOf('kind', ['topup', 'redeem', 'usage', 'adjustment', 'refund'])))
    .addColumn('amount_micros', big, (c) => c.notNull())
    .addColumn('ref', 'text', (c) => c.notNull())
    .addColumn('created_at', big, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('ledger_by_tenant').on('ledger_entries').columns(['tenant_id', 'id']).execute();
  // Belt and braces for "never double-count": even a bug that bypassed the usage_records
  // primary key could not charge one request twice.
  await sql`create unique index ledger_usage_once on ledger_entries (ref) where kind = 'usage'`.execute(db);

  await db.schema
    .createTable('tenant_balances')
    .addColumn('tenant_id', 'text', (c) => c.primaryKey().references('tenants.id'))
    .addColumn('balance_micros', big, (c) => c.notNull().defaultTo(0))
    .addColumn('reserved_micros', big, (c) => c.notNull().defaultTo(0).check(sql`reserved_micros >= 0`))
    .addColumn('updated_at', big, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('usage_records')
    .addColumn('request_id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('api_key_id', 'text')
    .addColumn('endpoint_id', 'text')
    .addColumn('model_id', 'text', (c) => c.notNull())
    .addColumn('prompt_tokens', 'integer', (c) => c.notNull().check(sql`prompt_tokens >= 0`))
    .addColumn('cached_tokens', 'integer', (c) => c.notNull().check(sql`cached_tokens >= 0`))
    .addColumn('completion_tokens', 'integer', (c) => c.notNull().check(sql`completion_tokens >= 0`))
    .addColumn('price_id', 'text')
    .addColumn('cost_micros', big, (c) => c.notNull().check(sql`cost_micros >= 0`))
    .addColumn('queue_ms', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('generation_ms', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('status', 'text', (c) => c.notNull().check(oneOf('status', ['ok', 'aborted', 'error'])))
    .addColumn('batch', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', big, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('usage_by_tenant_time').on('usage_records').columns(['tenant_id', 'created_at']).execute();
  await db.schema.createIndex('usage_by_api_key').on('usage_records').columns(['api_key_id', 'created_at']).execute();

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

  await db.schema
    .createTable('redeem_codes')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('code_hash', 'text', (c) => c.notNull().unique())
    .addColumn('amount_micros', big, (c) => c.notNull().check(sql`amount_micros > 0`))
    .addColumn('currency', 'text', (c) => c.notNull().check(oneOf('currency', ['CNY', 'USD'])))
    .addColumn('expires_at', big)
    .addColumn('redeemed_by', 'text', (c) => c.references('tenants.id'))
    .addColumn('redeemed_at', big)
    .addColumn('created_at', big, (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [
    'redeem_codes',
    'reservations',
    'usage_records',
    'tenant_balances',
    'ledger_entries',
    'prices',
    'endpoints',
    'api_keys',
    'tenants',
  ]) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
