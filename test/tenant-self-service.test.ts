/** A tenant's members manage their own keys, endpoints and read their ledger with a key of theirs: never beyond its own limits or tenant. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectOpenAI } from './support/openapi-schemas.js';
import { startTestPlatform, tinyModelConfig, type TestPlatform } from './support/platform.js';
import { tenantWithKey } from './support/tenants.js';
import { Ledger } from '../src/billing/ledger.js';

let sky: TestPlatform;
beforeAll(async () => {
  sky = await startTestPlatform(tinyModelConfig({ parallel: 2, contextSize: 1024 }));
});
afterAll(async () => {
  await sky?.close();
});

async function call(key: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${sky.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

describe('own ledger (/v1/ledger)', () => {
  it("lists the caller's tenant's entries only", async () => {
    const mine = await tenantWithKey(sky.platform.store.db);
    const theirs = await tenantWithKey(sky.platform.store.db);
    const ledger = new Ledger(sky.platform.store.db);
    await ledger.topUp(mine.tenant.id, 5_000_000, 'mine');
    await ledger.topUp(theirs.tenant.id, 7_000_000, 'theirs');
    const page = await call(mine.key, 'GET', '/v1/ledger');
    expect(page.status).toBe(200);
    expect(page.body.data.map((entry: { ref: string; amount_micros: number }) => [entry.ref, entry.amount_micros])).toEqual([['mine', 5_000_000]]);
  });
});

describe('self-service keys (/v1/keys)', () => {
  it('creates a key shown once, lists keys without secrets, and revokes one', async () => {
    const { key, apiKey } = await tenantWithKey(sky.platform.store.db, { rpm: 100, tpm: 50_000 });
    const created = await call(key, 'POST', '/v1/keys', { name: 'ci', rpm: 10 });
    expect(created.status).toBe(201);
    expect(created.body.key).toMatch(/^sk-/);
    const listed = await call(key, 'GET', '/v1/keys');
    expect(listed.body.data.map((k: { id: string }) => k.id).sort()).toEqual([apiKey.id, created.body.id].sort());
    expect(JSON.stringify(listed.body)).not.toContain(created.body.key);
    // The new key works, then stops working once revoked (within the 1 s cache).
    expect((await call(created.body.key, 'GET', '/v1/balance')).status).toBe(200);
    expect((await call(key, 'POST', `/v1/keys/${created.body.id}/revoke`)).body.revoked_at).not.toBeNull();
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await call(created.body.key, 'GET', '/v1/balance')).status).toBe(401);
  });

  it("never grants more than the calling key has, nor touches another tenant's keys", async () => {
    const mine = await tenantWithKey(sky.platform.store.db, { rpm: 100, tpm: 50_000 });
    const theirs = await tenantWithKey(sky.platform.store.db);
    const looser = await call(mine.key, 'POST', '/v1/keys', { rpm: 1000 });
    expect(looser.status).toBe(400);
    expectOpenAI('ErrorResponse', looser.body);
    expect(looser.body.error.param).toBe('rpm');
    const foreign = await call(mine.key, 'POST', `/v1/keys/${theirs.apiKey.id}/revoke`);
    expect([foreign.status, foreign.body.error.code]).toEqual([404, 'not_found']);
    expect((await call(theirs.key, 'GET', '/v1/balance')).status).toBe(200);
    const scoped = await tenantWithKey(sky.platform.store.db, { scopes: ['skylark-tiny'] });
    const refused = await call(scoped.key, 'POST', '/v1/keys', {});
    expect([refused.status, refused.body.error.code]).toEqual([403, 'permission_denied']);
  });
});

describe('self-service endpoints (/v1/endpoints)', () => {
  it("creates, lists, stops and starts its own endpoints; presets and other tenants' stay out of reach", async () => {
    const mine = await tenantWithKey(sky.platform.store.db);
    const theirs = await tenantWithKey(sky.platform.store.db);
    const created = await call(mine.key, 'POST', '/v1/endpoints', { model: 'skylark-tiny', name: 'prod', rpm: 30, tenant_id: theirs.tenant.id });
    // Naming a tenant is not for a tenant's key: the body has no such field here.
    expect([created.status, created.body.error?.param]).toEqual([400, 'tenant_id']);
    const made = await call(mine.key, 'POST', '/v1/endpoints', { model: 'skylark-tiny', name: 'prod', rpm: 30 });
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({ tenant_id: mine.tenant.id, model: 'skylark-tiny', rpm: 30, status: 'started' });
    const foreign = await call(theirs.key, 'POST', '/v1/endpoints', { model: 'skylark-tiny' });
    const preset = await sky.request('/admin/endpoints', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tenant_id: null, model: 'skylark-tiny' }) });
    const presetId = ((await preset.json()) as { id: string }).id;
    const listed = await call(mine.key, 'GET', '/v1/endpoints');
    const ids = listed.body.data.map((endpoint: { id: string }) => endpoint.id);
    expect(ids).toContain(made.body.id);
    expect(ids).toContain(presetId);
    expect(ids).not.toContain(foreign.body.id);
    expect((await call(mine.key, 'POST', `/v1/endpoints/${made.body.id}/stop`)).body.status).toBe('stopped');
    expect((await call(mine.key, 'POST', `/v1/endpoints/${made.body.id}/start`)).body.status).toBe('started');
    expect((await call(mine.key, 'POST', `/v1/endpoints/${foreign.body.id}/stop`)).status).toBe(404);
    expect((await call(mine.key, 'POST', `/v1/endpoints/${presetId}/stop`)).status).toBe(403);
  });
});
