/**
 * The admin commands (tenant, key, endpoint, price, topup, redeem, balance, ledger) run as
 * an operator runs them: the built CLI in a child process, on SQLite (a temp --data dir)
 * and on PostgreSQL (DATABASE_URL). Each spawn costs most of a second, so independent
 * commands run side by side and each test checks a whole story.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openDatabase } from '../src/store/database.js';
import { migrations } from '../src/store/migrations/index.js';
import './store/provided-context.js';
import { runCliToEnd, type Finished } from './support/cli-process.js';
import { createDatabase, postgresUrlKey, startPostgres, type PostgresServer } from './support/postgres.js';

/** A failure as the commands promise it: exit 2, one stderr line, no stack trace. */
function expectInputError(result: Finished, message: string | RegExp): void {
  expect(result.code, result.stderr).toBe(2);
  expect(result.stdout).toBe('');
  expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(result.stderr).toMatch(message);
}

function json<T = any>(result: Finished): T {
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as T;
}

let ownServer: PostgresServer | undefined;
const tempDirs: string[] = [];

async function postgresUrl(): Promise<string> {
  const provided = inject(postgresUrlKey as 'skylarkPostgresUrl');
  if (typeof provided === 'string' && provided !== '') return createDatabase(provided);
  ownServer ??= await startPostgres();
  return createDatabase(ownServer.url);
}

afterAll(async () => {
  await ownServer?.stop();
  await Promise.all(tempDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

interface Target {
  /** Where the database is, as the CLI finds it. */
  env: NodeJS.ProcessEnv;
  args: string[];
  /** The URL or path openDatabase takes, to tamper with rows behind the CLI's back. */
  location: string;
}

const targets: Record<'sqlite' | 'postgres', () => Promise<Target>> = {
  async sqlite() {
    const dir = await mkdtemp(join(tmpdir(), 'skylark-cli-billing-'));
    tempDirs.push(dir);
    // Empty DATABASE_URL counts as unset, so a developer's own setting cannot leak in.
    return { env: { DATABASE_URL: '' }, args: ['--data', dir], location: join(dir, 'skylark.db') };
  },
  async postgres() {
    const url = await postgresUrl();
    // --data points nowhere useful on purpose: DATABASE_URL must win.
    return { env: { DATABASE_URL: url }, args: ['--data', join(tmpdir(), 'skylark-unused')], location: url };
  },
};

describe.each(['sqlite', 'postgres'] as const)('skylark admin commands on %s', (dialect) => {
  let target: Target;
  const cli = (...args: string[]) => runCliToEnd([...args, ...target.args], target.env);
  // Filled in by the first test, used by the later ones (they run in order).
  let tenantId = '';

  beforeAll(async () => {
    target = await targets[dialect]();
  });

  it('migrates, creates a tenant, keys, prices and an endpoint, and refuses bad input with exit 2', async () => {
    expect(json(await cli('migrate', '--json')).applied).toEqual(Object.keys(migrations));

    const [created, badTier, priceV1, unknownTenant, noTenant] = await Promise.all([
      cli('tenant', 'create', 'Acme Corp', '--tier', 'priority', '--currency', 'CNY', '--json'),
      cli('tenant', 'create', 'Nope', '--tier', 'gold'),
      cli('price', 'set', 'doubao-pro', '--input', '0.8', '--output', '2', '--json'),
      cli('key', 'create', '--tenant', 'ten_missing', '--json'),
      cli('key', 'create'),
    ]);
    const tenant = json(created);
    expect(tenant).toMatchObject({ name: 'Acme Corp', tier: 'priority', currency: 'CNY', status: 'active' });
    expect(tenant.id).toMatch(/^ten_/);
    tenantId = tenant.id;
    expectInputError(badTier, /--tier must be one of priority, standard, free, got 'gold'/);
    expectInputError(unknownTenant, /unknown tenant 'ten_missing'/);
    // commander's own usage errors exit 2 as well (with the usage text after the message).
    expect(noTenant.code).toBe(2);
    expect(noTenant.stderr).toContain("required option '--tenant <id>' not specified");
    expect(json(priceV1)).toMatchObject({ modelId: 'doubao-pro', version: 1, inputPerMMicros: 800_000, cachedInputPerMMicros: 160_000, batchDiscountPct: 50 });

    const [keyCreated, priceV2, endpointCreated, badRpm, badExpiry] = await Promise.all([
      cli('key', 'create', '--tenant', tenantId, '--name', 'ci', '--rpm', '30', '--budget', '50.5', '--models', 'doubao-pro, doubao-lite', '--json'),
      cli('price', 'set', 'doubao-pro', '--input', '1', '--output', '2.5', '--cached-input', '0.1', '--batch-discount', '40', '--json'),
      cli('endpoint', 'create', '--tenant', tenantId, '--model', 'doubao-pro', '--json'),
      cli('key', 'create', '--tenant', tenantId, '--rpm', 'fast'),
      cli('key', 'create', '--tenant', tenantId, '--expires', 'next tuesday'),
    ]);
    const key = json(keyCreated);
    expect(key.key).toMatch(/^sk-/);
    expect(key).toMatchObject({ tenantId, name: 'ci', rpm: 30, monthlyBudgetMicros: 50_500_000, scopes: ['doubao-pro', 'doubao-lite'] });
    expect(key.key.startsWith(key.prefix)).toBe(true);
    expect(json(priceV2)).toMatchObject({ version: 2, inputPerMMicros: 1_000_000, cachedInputPerMMicros: 100_000, outputPerMMicros: 2_500_000, batchDiscountPct: 40 });
    const endpoint = json(endpointCreated);
    expect(endpoint).toMatchObject({ tenantId, modelId: 'doubao-pro', name: 'doubao-pro', status: 'started' });
    expect(endpoint.id).toMatch(/^ep-\d{14}-[0-9a-z]{5}$/);
    expectInputError(badRpm, /--rpm must be a whole number ≥ 1, got 'fast'/);
    expectInputError(badExpiry, /--expires must be an ISO 8601 time/);

    const [keysJson, keysTable, prices, versions, stopped, tenants] = await Promise.all([
      cli('key', 'list', '--tenant', tenantId, '--json'),
      cli('key', 'list', '--tenant', tenantId),
      cli('price', 'list', '--json'),
      cli('price', 'list', '--model', 'doubao-pro', '--json'),
      cli('endpoint', 'stop', endpoint.id, '--json'),
      cli('tenant', 'list'),
    ]);
    // The key exists only in the create output: lists show its prefix, never the key.
    expect(json(keysJson)).toEqual([expect.objectContaining({ id: key.id, prefix: key.prefix })]);
    expect(keysJson.stdout).not.toContain(key.key);
    expect(keysTable.code).toBe(0);
    expect(keysTable.stdout).toContain(key.id);
    expect(keysTable.stdout).not.toContain(key.key);
    expect(json(prices)).toEqual([expect.objectContaining({ modelId: 'doubao-pro', version: 2, input: '1.000000', output: '2.500000' })]);
    expect(json<{ version: number }[]>(versions).map((p) => p.version)).toEqual([1, 2]);
    expect(json(stopped)).toMatchObject({ id: endpoint.id, status: 'stopped' });
    expect(tenants.code).toBe(0);
    expect(tenants.stdout).toMatch(new RegExp(`${tenantId}\\s+Acme Corp\\s+active\\s+priority\\s+0\\.000000 CNY`));
  });

  it('prices media: per image unit, per 1M speech characters, per audio minute', async () => {
    const [set, bad] = await Promise.all([
      cli('price', 'set', 'sim-voice', '--input', '0', '--output', '0', '--image', '0.14', '--speech-chars', '105', '--audio-minute', '0.042', '--json'),
      cli('price', 'set', 'sim-voice', '--input', '0', '--output', '0', '--image', 'cheap'),
    ]);
    expect(json(set)).toMatchObject({ modelId: 'sim-voice', imageMicros: 140_000, speechPerMCharsMicros: 105_000_000, audioPerMinuteMicros: 42_000, image: '0.140000', speechChars: '105.000000', audioMinute: '0.042000' });
    expectInputError(bad, /--image/);
    const table = await cli('price', 'list', '--model', 'sim-voice');
    expect(table.stdout).toMatch(/IMAGE\s+SPEECH\/1M CHARS\s+AUDIO\/MIN/);
    expect(table.stdout).toMatch(/0\.140000\s+105\.000000\s+0\.042000/);
  });

  it('tops up, redeems a code once, and reports the balance', async () => {
    const [topup, code, badAmount, seeded] = await Promise.all([
      cli('topup', tenantId, '100', '--ref', 'invoice-42', '--json'),
      cli('redeem', 'create', '5.25', '--json'),
      cli('topup', tenantId, '1.2345678'),
      // Seeding leaves priced models alone: doubao-pro has its two versions from the first test.
      cli('price', 'seed', 'doubao-lite:lite', 'doubao-pro:pro', '--json'),
    ]);
    expect(json(topup)).toMatchObject({ tenantId, balanceMicros: 100_000_000, balance: '100.000000', currency: 'CNY' });
    const redeem = json(code);
    expect(redeem).toMatchObject({ amountMicros: 5_250_000, currency: 'CNY' });
    expect(redeem.code).toMatch(/^SKY-/);
    expectInputError(badAmount, /amount must be a decimal amount with at most 6 decimals/);
    const seed = json(seeded);
    expect(seed.added).toEqual([expect.objectContaining({ modelId: 'doubao-lite', version: 1, input: '0.300000', output: '0.600000' })]);
    expect(seed.skipped).toEqual(['doubao-pro']);

    // Lower case and without dashes: what a person retyping a code produces.
    const used = await cli('redeem', 'use', redeem.code.toLowerCase().replaceAll('-', ''), '--tenant', tenantId, '--json');
    expect(json(used)).toMatchObject({ credited: '5.250000', balanceMicros: 105_250_000 });

    const [again, balance] = await Promise.all([cli('redeem', 'use', redeem.code, '--tenant', tenantId), cli('balance', tenantId, '--json')]);
    expectInputError(again, /already been redeemed/);
    expect(json(balance)).toEqual({
      tenantId,
      currency: 'CNY',
      balanceMicros: 105_250_000,
      reservedMicros: 0,
      availableMicros: 105_250_000,
      balance: '105.250000',
      reserved: '0.000000',
      available: '105.250000',
    });
  });

  it('ledger verify passes on clean books and names the tenant whose balance row was tampered with', async () => {
    const clean = await cli('ledger', 'verify', '--json');
    expect(json(clean)).toMatchObject({ ok: true, problems: [] });

    const store = await openDatabase(target.location);
    try {
      await store.db.updateTable('tenant_balances').set({ balance_micros: 999_000_000 }).where('tenant_id', '=', tenantId).execute();
    } finally {
      await store.close();
    }

    const [text, asJson] = await Promise.all([cli('ledger', 'verify'), cli('ledger', 'verify', '--json')]);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain(`${tenantId}: cached balance ≠ sum of ledger entries: recorded 999.000000, expected 105.250000`);
    expect(asJson.code).toBe(1);
    expect(JSON.parse(asJson.stdout)).toMatchObject({
      ok: false,
      problems: [{ tenantId, check: 'balance', actual: 999_000_000, expected: 105_250_000 }],
    });
  });
});
