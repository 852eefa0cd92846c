/**
 * Issue 3's replica test: two gateway processes on one PostgreSQL and one Redis, traffic
 * fired at both. A key's RPM holds across them (never more than 1% over), a tenant's
 * balance is never overdrawn by the two together, and the ledger verifies.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Ledger } from '../src/billing/ledger.js';
import { openDatabase, type Store } from '../src/store/database.js';
import './store/provided-context.js';
import { runCliToEnd } from './support/cli-process.js';
import { createDatabase, postgresUrlKey, startPostgres, type PostgresServer } from './support/postgres.js';
import { redisUrlKey, startRedis, type RedisServer } from './support/redis.js';
import { serveTiny, type Served } from './support/served.js';
import { tenantWithKey } from './support/tenants.js';

let ownPostgres: PostgresServer | undefined;
let ownRedis: RedisServer | undefined;
let env: NodeJS.ProcessEnv;
let store: Store;
const replicas: Served[] = [];
const dirs: string[] = [];

beforeAll(async () => {
  const pg = inject(postgresUrlKey as 'skylarkPostgresUrl');
  const redis = inject(redisUrlKey as 'skylarkRedisUrl');
  const pgServer = typeof pg === 'string' && pg !== '' ? pg : (ownPostgres = await startPostgres()).url;
  const redisUrl = typeof redis === 'string' && redis !== '' ? redis : (ownRedis = await startRedis()).url;
  const databaseUrl = await createDatabase(pgServer);
  env = { DATABASE_URL: databaseUrl, REDIS_URL: redisUrl };
  for (let i = 0; i < 2; i++) {
    const dir = await mkdtemp(join(tmpdir(), `skylark-replica-${i}-`));
    dirs.push(dir);
    replicas.push(await serveTiny(dir, env, { parallel: 4, contextSize: 1024 }));
  }
  store = await openDatabase(databaseUrl);
}, 120_000);

afterAll(async () => {
  for (const replica of replicas) replica.proc.child.kill('SIGKILL');
  await store?.close();
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  await ownPostgres?.stop();
  await ownRedis?.stop();
});

async function ask(replica: Served, key: string, maxTokens = 1): Promise<number> {
  const response = await fetch(`${replica.url}/v1/chat/completions`, {
    method: 'POST',
    // A long wait allowed: this test is about the limiter, not the scheduler's early refusals.
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'x-skylark-max-wait-ms': '60000' },
    body: JSON.stringify({ model: 'skylark-tiny', messages: [{ role: 'user', content: 'Count: 7' }], max_tokens: maxTokens }),
  });
  await response.arrayBuffer();
  return response.status;
}

describe('two gateways on one PostgreSQL and Redis', () => {
  it("admits a key's RPM across both replicas, never more than 1% over", { timeout: 120_000 }, async () => {
    const rpm = 100;
    const { tenant, key } = await tenantWithKey(store.db, { rpm, tpm: 10_000_000 });
    await new Ledger(store.db).topUp(tenant.id, 100_000_000, 'replica-test');
    const started = Date.now();
    const statuses = await Promise.all(Array.from({ length: 300 }, (_, i) => ask(replicas[i % 2]!, key)));
    const elapsedMinutes = (Date.now() - started) / 60_000;
    const admitted = statuses.filter((status) => status === 200).length;
    // A bucket holds a minute's allowance and refills continuously while the test runs.
    const allowed = rpm + rpm * elapsedMinutes;
    expect(statuses.every((status) => status === 200 || status === 429)).toBe(true);
    expect(admitted).toBeGreaterThanOrEqual(rpm);
    expect(admitted).toBeLessThanOrEqual(Math.floor(allowed * 1.01));
    // Each replica on its own would have admitted `rpm`: together they still admit one limit.
    const rows = await store.db.selectFrom('usage_records').select('request_id').where('tenant_id', '=', tenant.id).execute();
    expect(rows).toHaveLength(admitted);
  });

  it("never lets the two together overdraw a tenant's balance, and the ledger verifies", { timeout: 120_000 }, async () => {
    const { tenant, key } = await tenantWithKey(store.db, { rpm: 100_000, tpm: 100_000_000 });
    // The lite price holds ≈ 0.3 µ¥/prompt token + 0.6 µ¥/completion token: 200 µ¥ covers a few dozen holds of 64 tokens.
    await new Ledger(store.db).topUp(tenant.id, 200, 'replica-test');
    const statuses = await Promise.all(Array.from({ length: 200 }, (_, i) => ask(replicas[i % 2]!, key, 64)));
    expect(statuses.filter((status) => status === 200).length).toBeGreaterThan(0);
    expect(statuses.filter((status) => status === 402).length).toBeGreaterThan(0);
    const balance = await new Ledger(store.db).balance(tenant.id);
    expect(balance!.balanceMicros).toBeGreaterThanOrEqual(0);
    const verify = await runCliToEnd(['ledger', 'verify', '--data', dirs[0]!], env);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  });
});
