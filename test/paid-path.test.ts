import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import { Ledger } from '../src/billing/ledger.js';
import { ApiKeys } from '../src/tenancy/api-keys.js';
import { startTestPlatform, tinyModelConfig, type TestPlatform } from './support/platform.js';
import { sseData } from './support/sse.js';
import { tinyTokenId } from './support/tiny-vocab.js';
import { tenantWithKey as newTenantWithKey } from './support/tenants.js';

let sky: TestPlatform;
let ledger: Ledger;
let keys: ApiKeys;

beforeAll(async () => {
  sky = await startTestPlatform(tinyModelConfig({ parallel: 4, contextSize: 4096 }));
  const db = sky.platform.store.db;
  ledger = new Ledger(db);
  keys = new ApiKeys(db);
});

afterAll(async () => {
  await sky?.close();
});

const client = (key: string) => new OpenAI({ baseURL: sky.baseURL, apiKey: key, maxRetries: 0 });
const ask = { model: 'skylark-tiny', messages: [{ role: 'user' as const, content: 'Count: 7' }], temperature: 0 };

async function usageRow(requestId: string) {
  await sky.platform.usageWriter.flush();
  return sky.platform.store.db.selectFrom('usage_records').selectAll().where('request_id', '=', requestId).executeTakeFirst();
}

/**
 * The seeded lite price (¥0.3 in, cached input at 20% = ¥0.06, ¥0.6 out per 1M tokens),
 * in micro-yuan, rounded half-up once per request.
 */
function liteCost(row: { prompt_tokens: number; cached_tokens: number; completion_tokens: number }): number {
  const perMillion = (row.prompt_tokens - row.cached_tokens) * 300_000 + row.cached_tokens * 60_000 + row.completion_tokens * 600_000;
  return Math.floor((perMillion + 500_000) / 1_000_000);
}

const tenantWithKey = (options: { scopes?: string[]; rpm?: number; tpm?: number } = {}) =>
  newTenantWithKey(sky.platform.store.db, options);

describe('the paid request path', () => {
  it('records the operator key usage at the seeded lite price', async () => {
    const { response } = await sky.client.chat.completions.create(ask).withResponse();
    const requestId = response.headers.get('x-request-id')!;
    const row = await usageRow(requestId);
    expect(row).toMatchObject({ tenant_id: 'ten_operator', prompt_tokens: 17, completion_tokens: 4, status: 'ok' });
    expect(row!.cost_micros).toBe(liteCost(row!));
    expect(row!.cost_micros).toBeGreaterThan(0);
  });

  it('refuses a tenant without balance with 402 insufficient_quota, then serves it once topped up', async () => {
    const { tenant, key } = await tenantWithKey();
    const refused = await client(key).chat.completions.create(ask).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(OpenAI.APIError);
    expect((refused as InstanceType<typeof OpenAI.APIError>).status).toBe(402);
    expect((refused as InstanceType<typeof OpenAI.APIError>).code).toBe('insufficient_quota');

    await ledger.topUp(tenant.id, 1_000_000, 'test');
    const { data, response } = await client(key).chat.completions.create(ask).withResponse();
    expect(data.choices[0]!.message.content).toBe('89.');
    const row = await usageRow(response.headers.get('x-request-id')!);
    expect(row).toMatchObject({ tenant_id: tenant.id, prompt_tokens: 17, completion_tokens: 4 });
    expect(row!.cost_micros).toBe(liteCost(row!));
    expect(await ledger.balance(tenant.id)).toMatchObject({ balanceMicros: 1_000_000 - row!.cost_micros, reservedMicros: 0 });
    expect(await ledger.verify()).toEqual([]);
  });

  it('bills an aborted stream exactly the tokens generated', async () => {
    const { tenant, key } = await tenantWithKey();
    await ledger.topUp(tenant.id, 10_000_000, 'test');
    const controller = new AbortController();
    const response = await fetch(`${sky.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        ...ask, messages: [{ role: 'user', content: 'abc' }], max_tokens: 3500, stream: true,
        logit_bias: { [await tinyTokenId('.')]: -100 },
      }),
      signal: controller.signal,
    });
    const requestId = response.headers.get('x-request-id')!;
    let events = 0;
    for await (const _data of sseData(response)) if (++events >= 5) break;
    // While it runs, its maximum cost is held: /v1/balance shows it reserved.
    const running = (await (await fetch(`${sky.baseURL}/balance`, { headers: { authorization: `Bearer ${key}` } })).json()) as {
      reserved_micros: number;
      available_micros: number;
    };
    expect(running.reserved_micros).toBeGreaterThan(0);
    expect(running.available_micros).toBe(10_000_000 - running.reserved_micros);
    controller.abort();
    await expect.poll(async () => (await usageRow(requestId))?.status, { timeout: 5000 }).toBe('aborted');
    const row = (await usageRow(requestId))!;
    expect(row.completion_tokens).toBeGreaterThanOrEqual(4);
    expect(row.completion_tokens).toBeLessThan(3500);
    // Charged exactly what was produced, at the price in effect.
    expect(row.cost_micros).toBe(liteCost(row));
    expect((await ledger.balance(tenant.id))!.balanceMicros).toBe(10_000_000 - row.cost_micros);
    const after = (await (await fetch(`${sky.baseURL}/balance`, { headers: { authorization: `Bearer ${key}` } })).json()) as { reserved_micros: number };
    expect(after.reserved_micros).toBe(0);
  });

  it('stops accepting a revoked key within a second or so', async () => {
    const { key, apiKey } = await tenantWithKey();
    expect((await client(key).models.list()).data.length).toBe(1);
    await keys.revoke(apiKey.id);
    await expect
      .poll(async () => (await fetch(`${sky.baseURL}/models`, { headers: { authorization: `Bearer ${key}` } })).status, {
        timeout: 3000,
        interval: 100,
      })
      .toBe(401);
  });

  it('keeps a key to the models it is scoped to, and tenants out of the admin API', async () => {
    const { tenant, key } = await tenantWithKey({ scopes: ['some-other-model'] });
    await ledger.topUp(tenant.id, 1_000_000, 'test');
    const refused = await client(key).chat.completions.create(ask).catch((error: unknown) => error);
    expect((refused as InstanceType<typeof OpenAI.APIError>).status).toBe(403);
    const admin = await fetch(`${sky.url}/admin/engines`, { headers: { authorization: `Bearer ${key}` } });
    expect(admin.status).toBe(403);
  });

  it("enforces the key's RPM with 429, Retry-After and x-ratelimit headers on every response", async () => {
    const { tenant, key } = await tenantWithKey({ rpm: 2, tpm: 100_000 });
    await ledger.topUp(tenant.id, 1_000_000, 'test');
    const post = () =>
      fetch(`${sky.baseURL}/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ ...ask, max_tokens: 10 }),
      });
    const first = await post();
    expect(first.status).toBe(200);
    expect(first.headers.get('x-ratelimit-limit-requests')).toBe('2');
    expect(first.headers.get('x-ratelimit-remaining-requests')).toBe('1');
    expect(first.headers.get('x-ratelimit-limit-tokens')).toBe('100000');
    expect(Number(first.headers.get('x-ratelimit-remaining-tokens'))).toBeLessThan(100_000);
    expect((await post()).status).toBe(200);
    const refused = await post();
    expect(refused.status).toBe(429);
    expect((await refused.json()).error.code).toBe('rate_limit_exceeded');
    // One request refills every 30 s at 2 RPM.
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(25);
    expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(30);
    expect(refused.headers.get('x-ratelimit-remaining-requests')).toBe('0');
  });
});
