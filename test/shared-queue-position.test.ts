/**
 * Issue 10: `GET /v1/queue/{id}` describes the global line whichever gateway the client
 * polls. Two gateways (in process) on one PostgreSQL and Redis share one remote upstream
 * of one slot; a request waiting on gateway A is looked up on gateway B by its client id,
 * only by its own tenant, and is gone from B once it has started.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import './store/provided-context.js';
import { startFakeUpstream, type FakeUpstream } from './support/fake-upstream.js';
import { startTestPlatform, type TestPlatform } from './support/platform.js';
import { createDatabase, postgresUrlKey, startPostgres, type PostgresServer } from './support/postgres.js';
import { redisUrlKey, startRedis, type RedisServer } from './support/redis.js';
import { tenantWithKey } from './support/tenants.js';

let ownPostgres: PostgresServer | undefined;
let ownRedis: RedisServer | undefined;
let upstream: FakeUpstream;
let a: TestPlatform;
let b: TestPlatform;

beforeAll(async () => {
  const pg = inject(postgresUrlKey as 'skylarkPostgresUrl');
  const redis = inject(redisUrlKey as 'skylarkRedisUrl');
  const pgServer = typeof pg === 'string' && pg !== '' ? pg : (ownPostgres = await startPostgres()).url;
  const redisUrl = typeof redis === 'string' && redis !== '' ? redis : (ownRedis = await startRedis()).url;
  const env = { DATABASE_URL: await createDatabase(pgServer), REDIS_URL: redisUrl };
  // 20 pieces 100 ms apart: a first request holds the one slot for about 2 s.
  upstream = await startFakeUpstream({ chunks: 20, chunkDelayMs: 100 });
  const config = {
    engines: { up: { kind: 'openai-compatible', baseUrl: upstream.url, slots: 1 } },
    models: [{ id: 'shared-chat', engine: 'up', upstreamModel: 'fake', capabilities: ['chat'] }],
  };
  a = await startTestPlatform(config, { env });
  b = await startTestPlatform(config, { env });
}, 120_000);

afterAll(async () => {
  await a?.close();
  await b?.close();
  await upstream?.close();
  await ownPostgres?.stop();
  await ownRedis?.stop();
});

const chat = (platform: TestPlatform, key: string, headers: Record<string, string> = {}) =>
  fetch(`${platform.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'x-skylark-max-wait-ms': '60000', ...headers },
    body: JSON.stringify({ model: 'shared-chat', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
  }).then(async (response) => ({ status: response.status, text: await response.text() }));

const lookUp = (platform: TestPlatform, id: string, key: string) =>
  fetch(`${platform.url}/v1/queue/${id}`, { headers: { authorization: `Bearer ${key}` } });

describe('GET /v1/queue/{id} across gateways', () => {
  it('answers on B for a request waiting on A, for its own tenant only, until it starts', { timeout: 60_000 }, async () => {
    const { key } = await tenantWithKey(a.platform.store.db);
    const first = chat(a, key);
    while (upstream.activeStreams() === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    const second = chat(a, key, { 'x-client-request-id': 'waits-on-a' });

    let seen: Response | undefined;
    for (let i = 0; i < 200; i++) {
      const response = await lookUp(b, 'waits-on-a', key);
      if (response.status === 200) {
        seen = response;
        break;
      }
      await response.arrayBuffer();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(seen, 'B never saw the request waiting on A').toBeDefined();
    const body = (await seen!.json()) as { object: string; status: string; position: number; eta_ms: number };
    expect(body).toMatchObject({ object: 'queue.position', status: 'waiting', position: 1 });
    expect(body.eta_ms).toBeGreaterThanOrEqual(0);

    // Another tenant's key learns nothing, as on the gateway that holds the request.
    const stranger = await tenantWithKey(a.platform.store.db);
    expect((await lookUp(b, 'waits-on-a', stranger.key)).status).toBe(404);
    expect((await lookUp(a, 'waits-on-a', stranger.key)).status).toBe(404);

    expect((await first).status).toBe(200);
    const answered = await second;
    expect(answered.status).toBe(200);
    expect(answered.text.trimEnd().endsWith('data: [DONE]')).toBe(true);
    const gone = await lookUp(b, 'waits-on-a', key);
    expect(gone.status).toBe(404);
    expect(((await gone.json()) as { error: { param: string } }).error.param).toBe('request_id');
  });
});
