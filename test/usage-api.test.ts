/**
 * GET /v1/usage and GET /v1/balance over real HTTP, on SQLite and PostgreSQL: exact sums
 * per group and date range (from settlements written through the ledger with known times),
 * a real request's usage and cost, the balance after a top-up and a request, the OpenAI
 * error shape of every refusal, and the OpenAPI document at /docs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ledger } from '../src/billing/ledger.js';
import type { Settlement } from '../src/billing/settlement.js';
import { call, dialectNames, startPlatformOn } from './support/dialect-platforms.js';
import { expectOpenAI } from './support/openapi-schemas.js';
import type { TestPlatform } from './support/platform.js';

const at = (iso: string) => Date.parse(iso);

/** Known usage on known days; the last one falls outside every range asked below. */
function settlements(tenantId: string, keys: [string, string], endpoint: string): Settlement[] {
  const row = (n: number, createdAt: number, modelId: string, apiKeyId: string, endpointId: string | null, tokens: [number, number, number], costMicros: number): Settlement => ({
    requestId: `usage-test-${tenantId}-${n}`,
    tenantId,
    apiKeyId,
    endpointId,
    modelId,
    usage: { promptTokens: tokens[0], cachedPromptTokens: tokens[1], completionTokens: tokens[2] },
    priceId: null,
    costMicros,
    status: 'ok',
    createdAt,
  });
  return [
    row(1, at('2026-03-01T10:00:00Z'), 'm-pro', keys[0], null, [1000, 200, 500], 1234),
    row(2, at('2026-03-01T00:00:00Z'), 'm-lite', keys[1], endpoint, [10, 0, 5], 7),
    row(3, at('2026-03-02T23:59:59.999Z'), 'm-pro', keys[0], endpoint, [2000, 0, 100], 2000),
    row(4, at('2026-03-03T00:00:00Z'), 'm-pro', keys[1], null, [1, 1, 1], 1),
    row(5, at('2026-02-28T23:59:59.999Z'), 'm-pro', keys[0], null, [9, 9, 9], 100_000),
  ];
}

/** The seeded lite price of skylark-tiny, rounded half-up once (as test/paid-path.test.ts). */
const liteCost = (u: { prompt_tokens: number; cached_tokens: number; completion_tokens: number }) =>
  Math.floor(((u.prompt_tokens - u.cached_tokens) * 300_000 + u.cached_tokens * 60_000 + u.completion_tokens * 600_000 + 500_000) / 1_000_000);

describe.each(dialectNames)('usage and balance on %s', (dialect) => {
  let sky: TestPlatform;
  let tenantId: string;
  let key: string;
  let keyIds: [string, string];
  const endpoint = 'ep-20260301000000-usage';

  beforeAll(async () => {
    sky = await startPlatformOn(dialect);
    tenantId = (await call(sky, 'POST', '/admin/tenants', { body: { name: 'usage tenant' } })).body.id;
    const first = await call(sky, 'POST', `/admin/tenants/${tenantId}/keys`, { body: { name: 'first' } });
    const second = await call(sky, 'POST', `/admin/tenants/${tenantId}/keys`, { body: { name: 'second' } });
    key = first.body.key;
    keyIds = [first.body.id, second.body.id];
    await new Ledger(sky.platform.store.db).settleMany(settlements(tenantId, keyIds, endpoint));
  });

  afterAll(async () => {
    await sky?.close();
  });

  const usage = async (query: string) => {
    const reply = await call(sky, 'GET', `/v1/usage?${query}`, { key });
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    return reply.body;
  };

  it('sums a date range into one row of totals, both ends inclusive, in UTC', async () => {
    const report = await usage('start_date=2026-03-01&end_date=2026-03-02');
    expect(report).toEqual({
      object: 'list',
      tenant_id: tenantId,
      start_date: '2026-03-01',
      end_date: '2026-03-02',
      group_by: [],
      data: [{ requests: 3, prompt_tokens: 3010, cached_tokens: 200, completion_tokens: 605, cost_micros: 3241, cost: '0.003241', currency: 'CNY' }],
    });
    const empty = await usage('start_date=2025-01-01&end_date=2025-01-31');
    expect(empty.data).toEqual([{ requests: 0, prompt_tokens: 0, cached_tokens: 0, completion_tokens: 0, cost_micros: 0, cost: '0.000000', currency: 'CNY' }]);
    expect((await usage('start_date=2025-01-01&end_date=2025-01-31&group_by=day')).data).toEqual([]);
  });

  it('groups by day, model, key and endpoint, ordered, with nulls first', async () => {
    const byDay = await usage('start_date=2026-02-28&end_date=2026-03-03&group_by=day');
    expect(byDay.data.map((r: any) => [r.day, r.requests, r.prompt_tokens, r.cached_tokens, r.completion_tokens, r.cost_micros])).toEqual([
      ['2026-02-28', 1, 9, 9, 9, 100_000],
      ['2026-03-01', 2, 1010, 200, 505, 1241],
      ['2026-03-02', 1, 2000, 0, 100, 2000],
      ['2026-03-03', 1, 1, 1, 1, 1],
    ]);
    const byModel = await usage('start_date=2026-03-01&end_date=2026-03-03&group_by=model');
    expect(byModel.data).toEqual([
      { model: 'm-lite', requests: 1, prompt_tokens: 10, cached_tokens: 0, completion_tokens: 5, cost_micros: 7, cost: '0.000007', currency: 'CNY' },
      { model: 'm-pro', requests: 3, prompt_tokens: 3001, cached_tokens: 201, completion_tokens: 601, cost_micros: 3235, cost: '0.003235', currency: 'CNY' },
    ]);
    const byKeyAndEndpoint = await usage('start_date=2026-03-01&end_date=2026-03-03&group_by=key,endpoint');
    // Key ids sort by code unit (SQLite's BINARY, the test server's C locale); within a key, no endpoint first.
    const [first, second] = [...keyIds].sort();
    const costs: Record<string, [number, number]> = { [keyIds[0]]: [1234, 2000], [keyIds[1]]: [1, 7] };
    const expected = [first!, second!].flatMap((id) => [
      { api_key_id: id, endpoint_id: null, cost_micros: costs[id]![0] },
      { api_key_id: id, endpoint_id: endpoint, cost_micros: costs[id]![1] },
    ]);
    expect(byKeyAndEndpoint.data.map((r: any) => ({ api_key_id: r.api_key_id, endpoint_id: r.endpoint_id, cost_micros: r.cost_micros }))).toEqual(expected);
    const byDayAndModel = await usage('start_date=2026-03-01&end_date=2026-03-01&group_by=model,day');
    expect(byDayAndModel.group_by).toEqual(['model', 'day']);
    expect(byDayAndModel.data.map((r: any) => [r.model, r.day, r.requests])).toEqual([
      ['m-lite', '2026-03-01', 1],
      ['m-pro', '2026-03-01', 1],
    ]);
  });

  it('filters by model, key and endpoint', async () => {
    const range = 'start_date=2026-03-01&end_date=2026-03-03';
    expect((await usage(`${range}&model=m-pro&group_by=day`)).data.map((r: any) => [r.day, r.cost_micros])).toEqual([
      ['2026-03-01', 1234],
      ['2026-03-02', 2000],
      ['2026-03-03', 1],
    ]);
    expect((await usage(`${range}&api_key_id=${keyIds[1]}`)).data[0]).toMatchObject({ requests: 2, cost_micros: 8 });
    expect((await usage(`${range}&endpoint_id=${endpoint}&group_by=model`)).data.map((r: any) => [r.model, r.cost_micros])).toEqual([
      ['m-lite', 7],
      ['m-pro', 2000],
    ]);
  });

  it('shows a real request at its price, and the balance after a top-up and that request', async () => {
    const topUp = await call(sky, 'POST', `/admin/tenants/${tenantId}/topups`, { body: { amount: '2.5' } });
    expect(topUp.status).toBe(201);
    const before = await call(sky, 'GET', '/v1/balance', { key });
    // The settlements above charged 103,242 micros before any money came in.
    expect(before.body).toEqual({
      object: 'balance',
      tenant_id: tenantId,
      currency: 'CNY',
      unlimited: false,
      balance_micros: 2_500_000 - 103_242,
      reserved_micros: 0,
      available_micros: 2_500_000 - 103_242,
      balance: '2.396758',
      reserved: '0.000000',
      available: '2.396758',
    });

    const chat = await fetch(`${sky.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'skylark-tiny', messages: [{ role: 'user', content: 'Count: 7' }], temperature: 0 }),
    });
    expect(chat.status).toBe(200);
    await sky.platform.usageWriter.flush();
    const today = await usage('group_by=model');
    const tiny = today.data.find((r: any) => r.model === 'skylark-tiny');
    expect(tiny).toMatchObject({ requests: 1, prompt_tokens: 17, completion_tokens: 4 });
    expect(tiny.cost_micros).toBe(liteCost(tiny));
    expect(tiny.cost_micros).toBeGreaterThan(0);

    const after = await call(sky, 'GET', '/v1/balance', { key });
    expect(after.body.balance_micros).toBe(2_500_000 - 103_242 - tiny.cost_micros);
    expect(after.body.available_micros).toBe(after.body.balance_micros - after.body.reserved_micros);
    expect(after.body.reserved_micros).toBe(0);
  });

  it('refuses bad queries with 400 naming the param, in the OpenAI error shape', async () => {
    const cases: Array<[string, string]> = [
      ['start_date=2026-3-1', 'start_date'],
      ['end_date=2026-02-30', 'end_date'],
      ['start_date=2026-03-02&end_date=2026-03-01', 'start_date'],
      ['start_date=2025-01-01&end_date=2026-03-01', 'start_date'],
      ['group_by=day,week', 'group_by'],
      ['group_by=day&group_by=model', 'group_by'],
      ['start_time=1700000000', 'start_time'],
    ];
    for (const [query, param] of cases) {
      const reply = await call(sky, 'GET', `/v1/usage?${query}`, { key });
      expectOpenAI('ErrorResponse', reply.body);
      expect({ query, status: reply.status, param: reply.body.error.param, code: reply.body.error.code }).toEqual({ query, status: 400, param, code: 'invalid_request' });
    }
    const unauthenticated = await call(sky, 'GET', '/v1/usage', { key: null });
    expect(unauthenticated.status).toBe(401);
    expectOpenAI('ErrorResponse', unauthenticated.body);
  });

  it('lets the operator read any tenant, and 404s an unknown one', async () => {
    const own = await call(sky, 'GET', '/v1/balance');
    expect(own.body).toMatchObject({ tenant_id: 'ten_operator', unlimited: true });
    const theirs = await call(sky, 'GET', `/v1/usage?tenant_id=${tenantId}&start_date=2026-03-01&end_date=2026-03-02`);
    expect(theirs.body.data[0].cost_micros).toBe(3241);
    const unknown = await call(sky, 'GET', '/v1/balance?tenant_id=ten_nobody');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toMatchObject({ code: 'not_found', param: 'tenant_id' });
  });

  it('serves the OpenAPI document and Swagger UI without a key', async () => {
    const doc = await call(sky, 'GET', '/docs/json', { key: null });
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toBe('3.1.0');
    const paths = Object.keys(doc.body.paths);
    for (const path of ['/v1/usage', '/v1/balance', '/v1/chat/completions', '/admin/tenants', '/admin/tenants/{id}', '/admin/tenants/{id}/keys', '/admin/keys/{id}/revoke', '/admin/endpoints', '/admin/endpoints/{id}/stop', '/admin/prices', '/admin/tenants/{id}/topups', '/admin/tenants/{id}/ledger', '/admin/redeem-codes', '/admin/ledger/verify']) {
      expect(paths).toContain(path);
    }
    expect(paths.some((path) => path.startsWith('/docs'))).toBe(false);
    const usageDoc = doc.body.paths['/v1/usage'].get;
    expect(usageDoc.parameters.map((p: any) => p.name)).toEqual(expect.arrayContaining(['start_date', 'end_date', 'group_by', 'model', 'api_key_id', 'endpoint_id']));
    expect(doc.body.paths['/admin/tenants'].post.requestBody.content['application/json'].schema.required).toEqual(['name']);
    const ui = await fetch(`${sky.url}/docs`);
    expect(ui.status).toBe(200);
    expect(ui.headers.get('content-type')).toContain('text/html');
  });
});
