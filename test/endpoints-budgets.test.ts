/**
 * Ark-style endpoints as `model` (their own RPM, started/stopped, private to their tenant)
 * and per-key monthly budgets, over real HTTP with the tiny llama model.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import { Ledger } from '../src/billing/ledger.js';
import { ApiKeys } from '../src/tenancy/api-keys.js';
import { Endpoints } from '../src/tenancy/endpoints.js';
import { startTestPlatform, tinyModelConfig, type TestPlatform } from './support/platform.js';
import { tenantWithKey } from './support/tenants.js';

let sky: TestPlatform;
let ledger: Ledger;
let endpoints: Endpoints;

beforeAll(async () => {
  sky = await startTestPlatform(tinyModelConfig({ parallel: 2, contextSize: 2048 }));
  ledger = new Ledger(sky.platform.store.db);
  endpoints = new Endpoints(sky.platform.store.db);
});

afterAll(async () => {
  await sky?.close();
});

const client = (key: string) => new OpenAI({ baseURL: sky.baseURL, apiKey: key, maxRetries: 0 });
const ask = (model: string) => ({ model, messages: [{ role: 'user' as const, content: 'Count: 7' }], temperature: 0, max_tokens: 8 });
const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error as InstanceType<typeof OpenAI.APIError>,
  );
const waitPastEndpointCache = () => new Promise((resolve) => setTimeout(resolve, 1100));

async function paidTenant(options: Parameters<typeof tenantWithKey>[1] = {}) {
  const made = await tenantWithKey(sky.platform.store.db, options);
  await ledger.topUp(made.tenant.id, 10_000_000, 'test');
  return made;
}

describe('endpoints as model', () => {
  it('serves a request through an ep- id, records the endpoint, and applies its own RPM', async () => {
    const { tenant, key } = await paidTenant({ rpm: 100 });
    const endpoint = await endpoints.create({ tenantId: tenant.id, name: 'prod', modelId: 'skylark-tiny', rpm: 2 });
    const { data, response } = await client(key).chat.completions.create(ask(endpoint.id)).withResponse();
    expect(data.choices[0]!.message.content).toBe('89.');
    expect(data.model).toBe('skylark-tiny');
    // The response is sent after its usage row commits: no flush needed to see it.
    const row = await sky.platform.store.db
      .selectFrom('usage_records')
      .selectAll()
      .where('request_id', '=', response.headers.get('x-request-id')!)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ tenant_id: tenant.id, endpoint_id: endpoint.id, model_id: 'skylark-tiny' });

    await client(key).chat.completions.create(ask(endpoint.id));
    const limited = await failure(client(key).chat.completions.create(ask(endpoint.id)));
    expect(limited?.status).toBe(429);
    expect(limited?.code).toBe('rate_limit_exceeded');
    expect(Number(limited?.headers?.get('retry-after'))).toBeGreaterThan(0);
    // The key's own limit (100 RPM) still has room: the model itself answers.
    expect((await client(key).chat.completions.create(ask('skylark-tiny'))).choices[0]!.message.content).toBe('89.');
  });

  it('refuses a stopped endpoint with 403 and serves it again once started', async () => {
    const { tenant, key } = await paidTenant();
    const endpoint = await endpoints.create({ tenantId: tenant.id, name: 'toggle', modelId: 'skylark-tiny', rpm: 100 });
    await endpoints.setStatus(endpoint.id, 'stopped');
    const stopped = await failure(client(key).chat.completions.create(ask(endpoint.id)));
    expect(stopped?.status).toBe(403);
    expect(stopped?.message).toMatch(/stopped/);
    await endpoints.setStatus(endpoint.id, 'started');
    await waitPastEndpointCache();
    expect((await client(key).chat.completions.create(ask(endpoint.id))).choices[0]!.message.content).toBe('89.');
  });

  it("answers another tenant's endpoint exactly like one that does not exist; shared presets serve everyone", async () => {
    const owner = await paidTenant();
    const other = await paidTenant();
    const private_ = await endpoints.create({ tenantId: owner.tenant.id, name: 'mine', modelId: 'skylark-tiny', rpm: 100 });
    const foreign = await failure(client(other.key).chat.completions.create(ask(private_.id)));
    const missing = await failure(client(other.key).chat.completions.create(ask('ep-20260101000000-nope0')));
    expect([foreign?.status, foreign?.code]).toEqual([404, 'model_not_found']);
    expect([missing?.status, missing?.code]).toEqual([404, 'model_not_found']);
    expect(foreign?.message).toBe(missing?.message.replace('ep-20260101000000-nope0', private_.id));

    const preset = await endpoints.create({ tenantId: null, name: 'preset', modelId: 'skylark-tiny', rpm: 100 });
    expect((await client(other.key).chat.completions.create(ask(preset.id))).choices[0]!.message.content).toBe('89.');
  });

  it('lets a key scoped to an endpoint call it, and nothing else', async () => {
    const made = await tenantWithKey(sky.platform.store.db);
    await ledger.topUp(made.tenant.id, 10_000_000, 'test');
    const endpoint = await endpoints.create({ tenantId: made.tenant.id, name: 'scoped', modelId: 'skylark-tiny', rpm: 100 });
    const { key } = await tenantWithKeyFor(made.tenant.id, [endpoint.id]);
    expect((await client(key).chat.completions.create(ask(endpoint.id))).choices[0]!.message.content).toBe('89.');
    const direct = await failure(client(key).chat.completions.create(ask('skylark-tiny')));
    expect([direct?.status, direct?.code]).toEqual([403, 'permission_denied']);
  });
});

describe('monthly budgets', () => {
  it('refuses with 402 once a key has spent its budget, while another key of the tenant still works', async () => {
    const { tenant, key } = await paidTenant({ monthlyBudgetMicros: 40 });
    // Each "Count: 7" costs 17 prompt + ≤8 completion tokens at the lite price: ≤ 10 micro-yuan,
    // but the hold is for the most it can cost, so a tiny budget is refused at once…
    const tooBig = await failure(client(key).chat.completions.create({ ...ask('skylark-tiny'), max_tokens: 100 }));
    expect([tooBig?.status, tooBig?.code]).toEqual([402, 'insufficient_quota']);
    expect(tooBig?.message).toMatch(/monthly budget/);
    // …and small requests are served until what they cost leaves no room for the next hold.
    let served = 0;
    for (let i = 0; i < 10; i++) {
      const result = await failure(client(key).chat.completions.create(ask('skylark-tiny')));
      if (result === undefined) served++;
      else {
        expect([result.status, result.code]).toEqual([402, 'insufficient_quota']);
        break;
      }
    }
    expect(served).toBeGreaterThan(0);
    expect(served).toBeLessThan(10);
    const spent = await sky.platform.store.db
      .selectFrom('usage_records')
      .select((eb) => eb.fn.sum<number>('cost_micros').as('total'))
      .where('tenant_id', '=', tenant.id)
      .executeTakeFirstOrThrow();
    expect(Number(spent.total)).toBeLessThanOrEqual(40);
    const { key: second } = await tenantWithKeyFor(tenant.id, []);
    expect((await client(second).chat.completions.create(ask('skylark-tiny'))).choices[0]!.message.content).toBe('89.');
  });
});

function tenantWithKeyFor(tenantId: string, scopes: string[]) {
  return new ApiKeys(sky.platform.store.db).create({ tenantId, name: 'second', scopes });
}
