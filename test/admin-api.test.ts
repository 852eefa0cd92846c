/**
 * Every /admin route over real HTTP with the operator key, on SQLite and PostgreSQL:
 * what each answers, that it changed the store the CLI and the gateway read, and that
 * bad input is a 400 naming the param and unknown ids a 404, in the OpenAI error shape.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ledger } from '../src/billing/ledger.js';
import { call, dialectNames, startPlatformOn, type JsonReply } from './support/dialect-platforms.js';
import { expectOpenAI } from './support/openapi-schemas.js';
import type { TestPlatform } from './support/platform.js';

function expectError(reply: JsonReply, status: number, code: string, param: string | null = null): void {
  expect({ status: reply.status, code: reply.body?.error?.code, param: reply.body?.error?.param }).toEqual({ status, code, param });
  expectOpenAI('ErrorResponse', reply.body);
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

describe.each(dialectNames)('the admin API on %s', (dialect) => {
  let sky: TestPlatform;
  const admin = (method: string, path: string, body?: unknown) => call(sky, method, path, body === undefined ? {} : { body });

  beforeAll(async () => {
    sky = await startPlatformOn(dialect);
  });

  afterAll(async () => {
    await sky?.close();
  });

  it('creates, lists, reads and changes tenants', async () => {
    const created = await admin('POST', '/admin/tenants', { name: 'Acme', tier: 'priority', currency: 'USD' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ object: 'tenant', name: 'Acme', tier: 'priority', currency: 'USD', status: 'active', unlimited: false });
    expect(created.body.id).toMatch(/^ten_/);
    expect(Math.abs(created.body.created_at - nowSeconds())).toBeLessThan(60);
    const id = created.body.id as string;

    const listed = await admin('GET', '/admin/tenants');
    expect(listed.body.object).toBe('list');
    expect(listed.body.data.map((t: any) => t.id)).toEqual(expect.arrayContaining(['ten_operator', id]));
    expect((await admin('GET', `/admin/tenants/${id}`)).body).toEqual(created.body);

    const patched = await admin('PATCH', `/admin/tenants/${id}`, { name: 'Acme Ltd', tier: 'free', status: 'suspended' });
    expect(patched.body).toMatchObject({ id, name: 'Acme Ltd', tier: 'free', status: 'suspended', currency: 'USD' });
    expect((await admin('GET', `/admin/tenants/${id}`)).body.status).toBe('suspended');

    expectError(await admin('POST', '/admin/tenants', { tier: 'standard' }), 400, 'invalid_request', 'name');
    expectError(await admin('POST', '/admin/tenants', { name: 'x', tier: 'gold' }), 400, 'invalid_request', 'tier');
    expectError(await admin('POST', '/admin/tenants', { name: 'x', colour: 'red' }), 400, 'invalid_request', 'colour');
    expectError(await admin('PATCH', `/admin/tenants/${id}`, { status: 'deleted' }), 400, 'invalid_request', 'status');
    expectError(await admin('GET', '/admin/tenants/ten_nobody'), 404, 'not_found');
    expectError(await admin('PATCH', '/admin/tenants/ten_nobody', { name: 'x' }), 404, 'not_found');
  });

  it('creates keys shown once, lists them without secrets, and revokes them', async () => {
    const tenant = (await admin('POST', '/admin/tenants', { name: 'keys' })).body.id as string;
    const created = await admin('POST', `/admin/tenants/${tenant}/keys`, { name: 'ci', models: ['skylark-tiny'], rpm: 5, tpm: 5000, monthly_budget: '12.5' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      object: 'api_key', tenant_id: tenant, name: 'ci', models: ['skylark-tiny'], rpm: 5, tpm: 5000,
      monthly_budget_micros: 12_500_000, monthly_budget: '12.500000', expires_at: null, revoked_at: null,
    });
    const key = created.body.key as string;
    expect(key).toMatch(/^sk-/);
    expect(created.body.prefix).toBe(key.slice(0, created.body.prefix.length));
    expect((await call(sky, 'GET', '/v1/models', { key })).status).toBe(200);

    const bare = await call(sky, 'POST', `/admin/tenants/${tenant}/keys`);
    expect(bare.status).toBe(201);
    expect(bare.body).toMatchObject({ name: 'default', models: [], rpm: 60, tpm: 100_000, monthly_budget: null });

    const listed = await admin('GET', `/admin/tenants/${tenant}/keys`);
    expect(listed.body.data.map((k: any) => k.id)).toEqual([created.body.id, bare.body.id]);
    expect(JSON.stringify(listed.body)).not.toContain(key);
    expect(listed.body.data[0]).not.toHaveProperty('key');

    const revoked = await admin('POST', `/admin/keys/${created.body.id}/revoke`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.revoked_at).toEqual(expect.any(Number));
    // Idempotent: the second revoke answers the key as it is.
    expect((await admin('POST', `/admin/keys/${created.body.id}/revoke`)).body.revoked_at).toBe(revoked.body.revoked_at);
    await expect.poll(async () => (await call(sky, 'GET', '/v1/models', { key })).status, { timeout: 3000, interval: 100 }).toBe(401);

    expectError(await admin('POST', `/admin/tenants/${tenant}/keys`, { expires_at: nowSeconds() - 10 }), 400, 'invalid_request', 'expires_at');
    expectError(await admin('POST', `/admin/tenants/${tenant}/keys`, { rpm: 0 }), 400, 'invalid_request', 'rpm');
    expectError(await admin('POST', `/admin/tenants/${tenant}/keys`, { monthly_budget: 12.5 }), 400, 'invalid_request', 'monthly_budget');
    expectError(await admin('POST', `/admin/tenants/${tenant}/keys`, { models: ['ok', ''] }), 400, 'invalid_request', 'models[1]');
    expectError(await admin('POST', '/admin/tenants/ten_nobody/keys', {}), 404, 'not_found');
    expectError(await admin('GET', '/admin/tenants/ten_nobody/keys'), 404, 'not_found');
    expectError(await admin('POST', '/admin/keys/key_nobody/revoke'), 404, 'not_found');
  });

  it('creates, lists, stops and starts endpoints', async () => {
    const tenant = (await admin('POST', '/admin/tenants', { name: 'endpoints' })).body.id as string;
    const own = await admin('POST', '/admin/endpoints', { tenant_id: tenant, model: 'skylark-tiny', rpm: 10 });
    expect(own.status).toBe(201);
    expect(own.body).toMatchObject({ object: 'endpoint', tenant_id: tenant, model: 'skylark-tiny', name: 'skylark-tiny', rpm: 10, tpm: null, status: 'started' });
    expect(own.body.id).toMatch(/^ep-\d{14}-[0-9a-z]{5}$/);
    const shared = await admin('POST', '/admin/endpoints', { tenant_id: null, model: 'skylark-tiny', name: 'shared tiny', tpm: 1000 });
    expect(shared.body).toMatchObject({ tenant_id: null, name: 'shared tiny', tpm: 1000 });
    const other = (await admin('POST', '/admin/tenants', { name: 'other' })).body.id as string;
    const foreign = await admin('POST', '/admin/endpoints', { tenant_id: other, model: 'skylark-tiny' });

    const all = (await admin('GET', '/admin/endpoints')).body.data.map((e: any) => e.id);
    expect(all).toEqual(expect.arrayContaining([own.body.id, shared.body.id, foreign.body.id]));
    const visible = (await admin('GET', `/admin/endpoints?tenant_id=${tenant}`)).body.data.map((e: any) => e.id);
    expect(visible).toContain(own.body.id);
    expect(visible).toContain(shared.body.id);
    expect(visible).not.toContain(foreign.body.id);

    expect((await admin('POST', `/admin/endpoints/${own.body.id}/stop`)).body.status).toBe('stopped');
    expect((await admin('GET', `/admin/endpoints/${own.body.id}`)).body.status).toBe('stopped');
    expect((await admin('POST', `/admin/endpoints/${own.body.id}/start`)).body.status).toBe('started');

    expectError(await admin('POST', '/admin/endpoints', { tenant_id: tenant, model: 'no-such-model' }), 404, 'model_not_found', 'model');
    expectError(await admin('POST', '/admin/endpoints', { tenant_id: 'ten_nobody', model: 'skylark-tiny' }), 404, 'not_found', 'tenant_id');
    expectError(await admin('POST', '/admin/endpoints', { model: 'skylark-tiny' }), 400, 'invalid_request', 'tenant_id');
    expectError(await admin('GET', '/admin/endpoints?tenant_id=ten_nobody'), 404, 'not_found', 'tenant_id');
    expectError(await admin('GET', '/admin/endpoints/ep-nobody'), 404, 'not_found');
    expectError(await admin('POST', '/admin/endpoints/ep-nobody/stop'), 404, 'not_found');
  });

  it('lists prices and adds versions without rewriting old ones', async () => {
    const current = await admin('GET', '/admin/prices');
    expect(current.body.data.find((p: any) => p.model === 'skylark-tiny')).toMatchObject({
      object: 'price', version: 1, currency: 'CNY', input: '0.300000', cached_input: '0.060000', output: '0.600000',
      input_micros: 300_000, cached_input_micros: 60_000, output_micros: 600_000, batch_discount_pct: 50,
    });
    const first = await admin('POST', '/admin/prices', { model: 'acme/model-x', input: '0.8', output: '2' });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ model: 'acme/model-x', version: 1, input_micros: 800_000, cached_input_micros: 160_000, output_micros: 2_000_000, batch_discount_pct: 0, tiers: [] });
    const second = await admin('POST', '/admin/prices', {
      model: 'acme/model-x', currency: 'USD', input: '1', cached_input: '0.1', output: '3.000001', batch_discount_pct: 50,
      tiers: [{ up_to_prompt_tokens: 32768, input: '1', output: '3' }, { up_to_prompt_tokens: null, input: '2', cached_input: '0.2', output: '6' }],
    });
    expect(second.body).toMatchObject({ version: 2, currency: 'USD', output: '3.000001', output_micros: 3_000_001 });
    expect(second.body.tiers).toEqual([
      { up_to_prompt_tokens: 32768, input: '1.000000', cached_input: '0.200000', output: '3.000000', input_micros: 1_000_000, cached_input_micros: 200_000, output_micros: 3_000_000 },
      { up_to_prompt_tokens: null, input: '2.000000', cached_input: '0.200000', output: '6.000000', input_micros: 2_000_000, cached_input_micros: 200_000, output_micros: 6_000_000 },
    ]);
    const later = nowSeconds() + 3600;
    const scheduled = await admin('POST', '/admin/prices', { model: 'acme/model-x', input: '9', output: '9', effective_from: later });
    expect(scheduled.body).toMatchObject({ version: 3, effective_from: later });
    const history = await admin('GET', `/admin/prices?model=${encodeURIComponent('acme/model-x')}`);
    expect(history.body.data.map((p: any) => [p.version, p.input])).toEqual([[1, '0.800000'], [2, '1.000000'], [3, '9.000000']]);
    // The scheduled version is not in effect yet.
    expect((await admin('GET', '/admin/prices')).body.data.find((p: any) => p.model === 'acme/model-x').version).toBe(2);

    expectError(await admin('POST', '/admin/prices', { model: 'x', input: 'cheap', output: '1' }), 400, 'invalid_request', 'input');
    expectError(await admin('POST', '/admin/prices', { model: 'x', input: 0.5, output: '1' }), 400, 'invalid_request', 'input');
    expectError(await admin('POST', '/admin/prices', { model: 'x', input: '1', output: '1.0000001' }), 400, 'invalid_request', 'output');
    expectError(await admin('POST', '/admin/prices', { model: 'x', input: '1', output: '1', batch_discount_pct: 101 }), 400, 'invalid_request', 'batch_discount_pct');
    expectError(
      await admin('POST', '/admin/prices', { model: 'x', input: '1', output: '1', tiers: [{ up_to_prompt_tokens: null, input: '1', output: '1' }, { up_to_prompt_tokens: 10, input: '1', output: '1' }] }),
      400, 'invalid_request', 'tiers',
    );
    expectError(await admin('POST', '/admin/prices', { input: '1', output: '1' }), 400, 'invalid_request', 'model');
  });

  it('tops up in currency units or micros, and pages through the ledger', async () => {
    const tenant = (await admin('POST', '/admin/tenants', { name: 'money' })).body.id as string;
    const first = await admin('POST', `/admin/tenants/${tenant}/topups`, { amount: '12.5', ref: 'invoice 1' });
    expect(first.status).toBe(201);
    expect(first.body).toEqual({
      object: 'topup', tenant_id: tenant, amount_micros: 12_500_000, amount: '12.500000', currency: 'CNY', ref: 'invoice 1',
      balance: { object: 'balance', tenant_id: tenant, currency: 'CNY', unlimited: false, balance_micros: 12_500_000, reserved_micros: 0, available_micros: 12_500_000, balance: '12.500000', reserved: '0.000000', available: '12.500000' },
    });
    const second = await admin('POST', `/admin/tenants/${tenant}/topups`, { amount_micros: 1 });
    expect(second.body).toMatchObject({ amount: '0.000001', ref: 'admin api topup', balance: { balance_micros: 12_500_001 } });

    const page1 = await admin('GET', `/admin/tenants/${tenant}/ledger?limit=1`);
    expect(page1.body).toMatchObject({ object: 'list', has_more: true, data: [{ object: 'ledger_entry', kind: 'topup', amount_micros: 1, amount: '0.000001', ref: 'admin api topup' }] });
    const page2 = await admin('GET', `/admin/tenants/${tenant}/ledger?limit=1&before=${page1.body.last_id}`);
    expect(page2.body).toMatchObject({ has_more: false, data: [{ amount_micros: 12_500_000, ref: 'invoice 1' }] });
    expect((await admin('GET', `/admin/tenants/${tenant}/ledger`)).body.data).toHaveLength(2);

    for (const body of [{}, { amount: '1', amount_micros: 1 }, { amount: '0' }, { amount: '1.1234567' }, { amount: '-5' }]) {
      expectError(await admin('POST', `/admin/tenants/${tenant}/topups`, body), 400, 'invalid_request', 'amount');
    }
    expectError(await admin('POST', `/admin/tenants/${tenant}/topups`, { amount_micros: 0 }), 400, 'invalid_request', 'amount_micros');
    expectError(await admin('GET', `/admin/tenants/${tenant}/ledger?limit=5000`), 400, 'invalid_request', 'limit');
    expectError(await admin('GET', `/admin/tenants/${tenant}/ledger?limit=ten`), 400, 'invalid_request', 'limit');
    expectError(await admin('POST', '/admin/tenants/ten_nobody/topups', { amount: '1' }), 404, 'not_found');
    expectError(await admin('GET', '/admin/tenants/ten_nobody/ledger'), 404, 'not_found');
    expect((await admin('GET', '/admin/ledger/verify')).body).toMatchObject({ object: 'ledger.verification', ok: true, problems: [] });
  });

  it('creates redeem codes shown once and lists their state', async () => {
    const created = await admin('POST', '/admin/redeem-codes', { amount: '5', count: 3, expires_at: nowSeconds() + 3600 });
    expect(created.status).toBe(201);
    expect(created.body.data).toHaveLength(3);
    expect(new Set(created.body.data.map((c: any) => c.code)).size).toBe(3);
    for (const code of created.body.data) {
      expect(code).toMatchObject({ object: 'redeem_code', amount_micros: 5_000_000, amount: '5.000000', currency: 'CNY' });
      expect(code.code).toMatch(/^SKY-(\w{5}-){3}\w{5}$/);
    }
    const tenant = (await admin('POST', '/admin/tenants', { name: 'redeemer' })).body.id as string;
    const redeemed = await new Ledger(sky.platform.store.db).redeem(created.body.data[0].code, tenant);
    expect(redeemed.ok).toBe(true);

    const listed = await admin('GET', '/admin/redeem-codes');
    const byId = new Map(listed.body.data.map((c: any) => [c.id, c]));
    expect(byId.get(created.body.data[0].id)).toMatchObject({ status: 'redeemed', redeemed_by: tenant });
    expect(byId.get(created.body.data[1].id)).toMatchObject({ status: 'unused', redeemed_by: null, redeemed_at: null });
    expect(JSON.stringify(listed.body)).not.toContain(created.body.data[1].code);
    expect((await admin('GET', '/admin/redeem-codes?limit=1')).body.data).toHaveLength(1);

    const single = await admin('POST', '/admin/redeem-codes', { amount_micros: 700, currency: 'USD' });
    expect(single.body.data).toEqual([expect.objectContaining({ amount: '0.000700', currency: 'USD', expires_at: null })]);
    expectError(await admin('POST', '/admin/redeem-codes', { amount: '5', count: 0 }), 400, 'invalid_request', 'count');
    expectError(await admin('POST', '/admin/redeem-codes', { amount: '5', expires_at: nowSeconds() - 1 }), 400, 'invalid_request', 'expires_at');
    expectError(await admin('POST', '/admin/redeem-codes', { amount: '5', currency: 'EUR' }), 400, 'invalid_request', 'currency');
  });

  it('verifies the ledger and names a balance that does not add up', async () => {
    const tenant = (await admin('POST', '/admin/tenants', { name: 'tampered' })).body.id as string;
    await admin('POST', `/admin/tenants/${tenant}/topups`, { amount: '1' });
    const db = sky.platform.store.db;
    await db.updateTable('tenant_balances').set({ balance_micros: 1_000_001 }).where('tenant_id', '=', tenant).execute();
    try {
      const report = await admin('GET', '/admin/ledger/verify');
      expect(report.status).toBe(200);
      expect(report.body.ok).toBe(false);
      expect(report.body.problems).toEqual([
        { tenant_id: tenant, check: 'balance', actual_micros: 1_000_001, expected_micros: 1_000_000, message: expect.stringContaining('off by 0.000001') },
      ]);
    } finally {
      await db.updateTable('tenant_balances').set({ balance_micros: 1_000_000 }).where('tenant_id', '=', tenant).execute();
    }
    expect((await admin('GET', '/admin/ledger/verify')).body.ok).toBe(true);
  });
});
