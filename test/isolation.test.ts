/**
 * Issue 3, item 8: a tenant's key can never read, use or spend another tenant's keys,
 * endpoints, usage or balance — tried over real HTTP, on SQLite and PostgreSQL. Tenant A
 * attacks tenant B every way the API offers; the operator's key can do each of those.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, dialectNames, startPlatformOn, type JsonReply } from './support/dialect-platforms.js';
import { expectOpenAI } from './support/openapi-schemas.js';
import type { TestPlatform } from './support/platform.js';

interface Party {
  tenantId: string;
  key: string;
  keyId: string;
  endpointId: string;
}

const ask = (model: string) => ({ model, messages: [{ role: 'user', content: 'Count: 7' }], temperature: 0, max_tokens: 8 });

function expectRefused(reply: JsonReply, status: number, code: string): void {
  expect({ status: reply.status, code: reply.body?.error?.code }).toEqual({ status, code });
  expectOpenAI('ErrorResponse', reply.body);
}

describe.each(dialectNames)('tenant isolation on %s', (dialect) => {
  let sky: TestPlatform;
  let a: Party;
  let b: Party;

  async function party(name: string): Promise<Party> {
    const tenantId = (await call(sky, 'POST', '/admin/tenants', { body: { name } })).body.id;
    const key = (await call(sky, 'POST', `/admin/tenants/${tenantId}/keys`, { body: { name } })).body;
    await call(sky, 'POST', `/admin/tenants/${tenantId}/topups`, { body: { amount: '10' } });
    const endpoint = (await call(sky, 'POST', '/admin/endpoints', { body: { tenant_id: tenantId, model: 'skylark-tiny' } })).body;
    return { tenantId, key: key.key, keyId: key.id, endpointId: endpoint.id };
  }

  const usageOf = async (tenantId: string) => {
    await sky.platform.usageWriter.flush();
    return (await call(sky, 'GET', `/v1/usage?tenant_id=${tenantId}&group_by=endpoint`)).body.data;
  };

  beforeAll(async () => {
    sky = await startPlatformOn(dialect);
    a = await party('tenant A');
    b = await party('tenant B');
    // B has usage of its own for A to try to read.
    const served = await call(sky, 'POST', '/v1/chat/completions', { key: b.key, body: ask('skylark-tiny') });
    expect(served.status).toBe(200);
    await sky.platform.usageWriter.flush();
  });

  afterAll(async () => {
    await sky?.close();
  });

  it("cannot read another tenant's usage or balance", async () => {
    expectRefused(await call(sky, 'GET', `/v1/usage?tenant_id=${b.tenantId}`, { key: a.key }), 403, 'permission_denied');
    expectRefused(await call(sky, 'GET', `/v1/balance?tenant_id=${b.tenantId}`, { key: a.key }), 403, 'permission_denied');
    // Naming B's key or endpoint as a filter only narrows A's own rows: nothing of B's shows.
    for (const filter of [`api_key_id=${b.keyId}`, `endpoint_id=${b.endpointId}`, 'model=skylark-tiny']) {
      const reply = await call(sky, 'GET', `/v1/usage?${filter}`, { key: a.key });
      expect(reply.body).toMatchObject({ tenant_id: a.tenantId, data: [{ requests: 0, cost_micros: 0 }] });
    }
    const own = await call(sky, 'GET', `/v1/balance?tenant_id=${a.tenantId}`, { key: a.key });
    expect(own.body).toMatchObject({ tenant_id: a.tenantId, balance_micros: 10_000_000 });
    expect((await call(sky, 'GET', '/v1/balance', { key: a.key })).body.tenant_id).toBe(a.tenantId);
  });

  it("cannot call another tenant's endpoint as its model, nor be billed for trying", async () => {
    const refused = await call(sky, 'POST', '/v1/chat/completions', { key: a.key, body: ask(b.endpointId) });
    // The same answer as for an endpoint that does not exist: B's endpoint ids are not even confirmed.
    expectRefused(refused, 404, 'model_not_found');
    expect(refused.body.error.param).toBe('model');
    const missing = await call(sky, 'POST', '/v1/chat/completions', { key: a.key, body: ask('ep-20260101000000-nope0') });
    expect(missing.body.error.message.replace('ep-20260101000000-nope0', b.endpointId)).toBe(refused.body.error.message);
    expect(await usageOf(a.tenantId)).toEqual([]);
    expect((await call(sky, 'GET', '/v1/balance', { key: a.key })).body.balance_micros).toBe(10_000_000);

    const through = await call(sky, 'POST', '/v1/chat/completions', { key: b.key, body: ask(b.endpointId) });
    expect(through.status).toBe(200);
    expect((await usageOf(b.tenantId)).map((row: any) => [row.endpoint_id, row.requests])).toEqual([
      [null, 1],
      [b.endpointId, 1],
    ]);
  });

  it('cannot use the admin API: not to revoke, list or create keys, top up, or read anything', async () => {
    const attempts: Array<[string, string, unknown?]> = [
      ['POST', `/admin/keys/${b.keyId}/revoke`],
      ['GET', `/admin/tenants/${b.tenantId}/keys`],
      ['POST', `/admin/tenants/${b.tenantId}/keys`, {}],
      ['POST', `/admin/tenants/${a.tenantId}/topups`, { amount: '1000' }],
      ['GET', '/admin/tenants'],
      ['POST', '/admin/tenants', { name: 'mine now' }],
      ['PATCH', `/admin/tenants/${b.tenantId}`, { status: 'suspended' }],
      ['GET', `/admin/tenants/${b.tenantId}/ledger`],
      ['POST', `/admin/endpoints/${b.endpointId}/stop`],
      ['GET', '/admin/endpoints'],
      ['POST', '/admin/prices', { model: 'skylark-tiny', input: '0', output: '0' }],
      ['POST', '/admin/redeem-codes', { amount: '1000' }],
      ['GET', '/admin/ledger/verify'],
      ['GET', '/admin/engines'],
      // The router decodes %61 to `a`: the check must look at the route, not the raw URL.
      ['GET', '/%61dmin/tenants'],
      ['POST', `/%61dmin/keys/${b.keyId}/revoke`],
    ];
    for (const [method, path, body] of attempts) {
      const reply = await call(sky, method, path, { key: a.key, ...(body !== undefined ? { body } : {}) });
      expect({ method, path, status: reply.status, code: reply.body?.error?.code }).toEqual({ method, path, status: 403, code: 'permission_denied' });
    }
    expect((await call(sky, 'GET', '/%61dmin/tenants', { key: null })).status).toBe(401);
    // Nothing A tried changed B or A's money.
    expect((await call(sky, 'GET', '/v1/models', { key: b.key })).status).toBe(200);
    expect((await call(sky, 'GET', `/admin/endpoints/${b.endpointId}`)).body.status).toBe('started');
    expect((await call(sky, 'GET', `/v1/balance?tenant_id=${a.tenantId}`)).body.balance_micros).toBe(10_000_000);
    expect((await call(sky, 'GET', `/v1/balance?tenant_id=${b.tenantId}`)).body.tenant_id).toBe(b.tenantId);
  });

  it("lets the operator do each of those: read B's books and revoke B's key", async () => {
    const usage = await call(sky, 'GET', `/v1/usage?tenant_id=${b.tenantId}`);
    expect(usage.body).toMatchObject({ tenant_id: b.tenantId, data: [{ requests: 2 }] });
    const balance = await call(sky, 'GET', `/v1/balance?tenant_id=${b.tenantId}`);
    expect(balance.body.balance_micros).toBe(10_000_000 - usage.body.data[0].cost_micros);
    const revoked = await call(sky, 'POST', `/admin/keys/${b.keyId}/revoke`);
    expect(revoked.body).toMatchObject({ id: b.keyId, tenant_id: b.tenantId, revoked_at: expect.any(Number) });
    await expect.poll(async () => (await call(sky, 'GET', '/v1/models', { key: b.key })).status, { timeout: 3000, interval: 100 }).toBe(401);
    expect((await call(sky, 'GET', '/v1/models', { key: a.key })).status).toBe(200);
  });
});
