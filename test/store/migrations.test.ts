import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { sql } from 'kysely';
import { dialectOf, openDatabase, sqliteConnectionOf, sqlitePath } from '../../src/store/database.js';
import { migrateToLatest, migrations, migrator } from '../../src/store/migrations/index.js';
import { dialects } from './dialects.js';

const tables = [
  'api_keys',
  'app_usage_daily',
  'apps',
  'batch_lines',
  'batches',
  'contexts',
  'conversations',
  'end_user_sessions',
  'end_users',
  'endpoints',
  'files',
  'ledger_entries',
  'messages',
  'prices',
  'redeem_codes',
  'stored_responses',
  'tenant_balances',
  'tenants',
  'usage_records',
];

describe.each(dialects)('migrations on $name', (dialect) => {
  it('apply on a fresh database, then do nothing the second time', async () => {
    const store = await dialect.open({ migrate: false });
    expect(dialectOf(store.db)).toBe(dialect.name);
    expect(await migrateToLatest(store.db)).toEqual(Object.keys(migrations));
    expect(await migrateToLatest(store.db)).toEqual([]);
    // SQLite's FTS5 index (messages_fts and its shadow tables) is an index, not a table of ours.
    const names = (await store.db.introspection.getTables())
      .map((t) => t.name)
      .filter((n) => !n.startsWith('kysely_') && !n.startsWith('messages_fts'));
    expect(names.sort()).toEqual(tables);
  });

  it('survive replicas migrating at the same time', async () => {
    const first = await dialect.open({ migrate: false });
    // Postgres: a second pool on the same database (its description is the URL, with no
    // password here); SQLite: the same store twice, as one process holds one connection.
    const second = dialect.name === 'postgres' ? await openDatabase(first.description) : first;
    try {
      const results = await Promise.all([migrateToLatest(first.db), migrateToLatest(second.db)]);
      expect(results.flat()).toEqual(Object.keys(migrations));
    } finally {
      if (second !== first) await second.close();
    }
  });

  it('store money columns as 64-bit integers that come back as JS numbers', async () => {
    const store = await dialect.open();
    const big = 2 ** 40 + 7;
    await store.db
      .insertInto('tenants')
      .values({ id: 'ten_big', name: 'big', status: 'active', currency: 'CNY', tier: 'free', created_at: Date.now() })
      .execute();
    await store.db
      .insertInto('tenant_balances')
      .values({ tenant_id: 'ten_big', balance_micros: big, reserved_micros: 0, updated_at: big })
      .execute();
    const row = await store.db.selectFrom('tenant_balances').selectAll().executeTakeFirstOrThrow();
    expect(row.balance_micros).toBe(big);
    expect(row.updated_at).toBe(big);
    expect(typeof row.balance_micros).toBe('number');
  });

  it('005 releases the holds an older gateway left in the database and drops their table', async () => {
    const store = await dialect.open({ migrate: false });
    const { error } = await migrator(store.db).migrateTo('004-endpoint-fallbacks');
    expect(error).toBeUndefined();
    const db = store.db as unknown as import('kysely').Kysely<any>;
    await db.insertInto('tenants').values({ id: 'ten_held', name: 'held', status: 'active', currency: 'CNY', tier: 'free', created_at: 0 }).execute();
    await db.insertInto('tenant_balances').values({ tenant_id: 'ten_held', balance_micros: 5_000, reserved_micros: 1_200, updated_at: 0 }).execute();
    await db.insertInto('reservations').values({ id: 'req-old', tenant_id: 'ten_held', api_key_id: null, amount_micros: 1_200, owner: 'gw-old', created_at: 0 }).execute();
    // Later migrations apply too; this test is about 005's.
    expect(await migrateToLatest(store.db)).toContain('005-holds-leave-the-database');
    expect(await store.db.selectFrom('tenant_balances').select(['balance_micros', 'reserved_micros']).where('tenant_id', '=', 'ten_held').executeTakeFirst()).toEqual({
      balance_micros: 5_000,
      reserved_micros: 0,
    });
    expect((await store.db.introspection.getTables()).map((t) => t.name)).not.toContain('reservations');
  });

  it('007 gives older prices free media rates and older usage rows no units', async () => {
    const store = await dialect.open({ migrate: false });
    expect((await migrator(store.db).migrateTo('005-holds-leave-the-database')).error).toBeUndefined();
    const db = store.db as unknown as import('kysely').Kysely<any>;
    await db.insertInto('tenants').values({ id: 'ten_old', name: 'old', status: 'active', currency: 'CNY', tier: 'free', created_at: 0 }).execute();
    await db.insertInto('prices').values({
      id: 'price_old', model_id: 'm', version: 1, currency: 'CNY', input_per_m_micros: 1, cached_input_per_m_micros: 0,
      output_per_m_micros: 1, batch_discount_pct: 0, tiers: '[]', effective_from: 0, created_at: 0,
    }).execute();
    await db.insertInto('usage_records').values({
      request_id: 'r-old', tenant_id: 'ten_old', model_id: 'm', prompt_tokens: 1, cached_tokens: 0, completion_tokens: 1,
      price_id: null, cost_micros: 0, queue_ms: 0, generation_ms: 0, status: 'ok', batch: 0, created_at: 0,
    }).execute();
    expect(await migrateToLatest(store.db)).toContain('007-media-units');
    const price = await store.db.selectFrom('prices').select(['image_micros', 'speech_per_m_chars_micros', 'audio_per_minute_micros']).executeTakeFirstOrThrow();
    expect(Object.values(price).map(Number)).toEqual([0, 0, 0]);
    const usage = await store.db.selectFrom('usage_records').select(['units', 'unit_kind']).executeTakeFirstOrThrow();
    expect({ units: Number(usage.units), unit_kind: usage.unit_kind }).toEqual({ units: 0, unit_kind: null });
  });

  it('refuses rows the schema forbids', async () => {
    const store = await dialect.open();
    await expect(
      store.db
        .insertInto('tenants')
        .values({ id: 'ten_x', name: 'x', status: 'gone' as 'active', currency: 'CNY', tier: 'free', created_at: 0 })
        .execute(),
    ).rejects.toThrow();
    // Foreign keys are enforced (SQLite needs PRAGMA foreign_keys = ON for that).
    await expect(
      store.db
        .insertInto('ledger_entries')
        .values({ tenant_id: 'ten_nobody', kind: 'topup', amount_micros: 1, ref: 'x', created_at: 0 })
        .execute(),
    ).rejects.toThrow();
  });
});

describe('openDatabase', () => {
  it('reads sqlite: URLs and plain paths alike', () => {
    expect(sqlitePath('sqlite:data/skylark.db')).toBe('data/skylark.db');
    expect(sqlitePath('sqlite:///var/lib/skylark.db')).toBe('/var/lib/skylark.db');
    expect(sqlitePath('/tmp/x.db')).toBe('/tmp/x.db');
    expect(sqlitePath('sqlite::memory:')).toBe(':memory:');
  });

  it('opens SQLite in WAL mode with a busy timeout', async () => {
    const store = await dialects[0]!.open();
    const mode = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(store.db);
    expect(mode.rows[0]?.journal_mode).toBe('wal');
    const timeout = await sql<{ timeout: number }>`pragma busy_timeout`.execute(store.db);
    expect(timeout.rows[0]?.timeout).toBe(5000);
    const sync = await sql<{ synchronous: number }>`pragma synchronous`.execute(store.db);
    expect(sync.rows[0]?.synchronous).toBe(1); // NORMAL
  });

  it('checkpoints the WAL from a worker thread when asked, never inside a commit', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'skylark-ckpt-'));
    try {
      const path = join(dir, 'x.db');
      const store = await openDatabase(path, { backgroundCheckpoints: true, checkpointIntervalMs: 50 });
      const sqlite = sqliteConnectionOf(store.db)!;
      expect(sqlite.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
      sqlite.exec('create table t (id integer primary key, v text)');
      const before = statSync(path).size;
      const insert = sqlite.prepare('insert into t (v) values (?)');
      for (let i = 0; i < 2_000; i++) insert.run('x'.repeat(200));
      // Commits only append to the WAL; the database file grows when the worker copies them in.
      await vi.waitFor(() => expect(statSync(path).size).toBeGreaterThan(before + 200_000), { timeout: 5_000 });
      await store.close();
      // The last connection to close folds the WAL into the database and removes it.
      expect(() => statSync(`${path}-wal`)).toThrow();
      const reopened = await openDatabase(path);
      expect(sqliteConnectionOf(reopened.db)!.prepare('select count(*) as n from t').get()).toEqual({ n: 2_000 });
      await reopened.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps passwords out of the description', async () => {
    const store = await openDatabase('postgres://app:s3cret@127.0.0.1:1/x');
    expect(store.description).not.toContain('s3cret');
    await store.close();
  });
});

