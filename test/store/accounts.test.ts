import { describe, expect, it } from 'vitest';
import { ApiKeys, hashApiKey } from '../../src/tenancy/api-keys.js';
import { Endpoints } from '../../src/tenancy/endpoints.js';
import { Ledger } from '../../src/billing/ledger.js';
import { Tenants } from '../../src/tenancy/tenants.js';
import { dialects, useStore } from './dialects.js';

describe.each(dialects)('tenants, keys and endpoints on $name', (dialect) => {
  const store = useStore(dialect);

  it('creates a tenant with a zero balance row', async () => {
    const tenant = await new Tenants(store().db).create({ name: 'Acme', currency: 'USD', tier: 'priority' });
    expect(tenant.id).toMatch(/^ten_[0-9A-Za-z]{20}$/);
    expect(tenant).toMatchObject({ name: 'Acme', status: 'active', currency: 'USD', tier: 'priority', unlimited: false });
    expect(await new Ledger(store().db).balance(tenant.id)).toMatchObject({ balanceMicros: 0, reservedMicros: 0 });
    expect(await new Tenants(store().db).update(tenant.id, { unlimited: true })).toBe(true);
    expect((await new Tenants(store().db).get(tenant.id))?.unlimited).toBe(true);
  });

  it('stores only the hash of an API key, and authenticates by it', async () => {
    const tenants = new Tenants(store().db);
    const keys = new ApiKeys(store().db);
    const tenant = await tenants.create({ name: 'Keys' });
    const { apiKey, key } = await keys.create({ tenantId: tenant.id, name: 'ci', scopes: ['doubao-pro'], rpm: 10, monthlyBudgetMicros: 5_000_000 });
    expect(key).toMatch(/^sk-sky-[0-9A-Za-z]{40}$/);
    expect(apiKey.prefix).toBe(key.slice(0, 12));
    const stored = await store().db.selectFrom('api_keys').selectAll().where('id', '=', apiKey.id).executeTakeFirstOrThrow();
    expect(stored.hash).toBe(hashApiKey(key));
    expect(JSON.stringify(stored)).not.toContain(key);

    expect(await keys.authenticate(key)).toMatchObject({ ok: true, apiKey: { id: apiKey.id, scopes: ['doubao-pro'], rpm: 10 }, tenant: { id: tenant.id } });
    expect(await keys.authenticate(`${key}x`)).toEqual({ ok: false, reason: 'unknown_key' });
    await tenants.setStatus(tenant.id, 'suspended');
    expect(await keys.authenticate(key)).toEqual({ ok: false, reason: 'tenant_suspended' });
    await tenants.setStatus(tenant.id, 'active');
    expect(await keys.revoke(apiKey.id)).toBe(true);
    expect(await keys.revoke(apiKey.id)).toBe(false);
    expect(await keys.authenticate(key)).toEqual({ ok: false, reason: 'revoked' });

    const expiring = await keys.create({ tenantId: tenant.id, name: 'old', expiresAt: Date.now() - 1 });
    expect(await keys.authenticate(expiring.key)).toEqual({ ok: false, reason: 'expired' });
    expect((await keys.list(tenant.id)).map((k) => k.name)).toEqual(['ci', 'old']);
  });

  it('names endpoints like Volcano Ark and shows presets to everyone', async () => {
    const tenants = new Tenants(store().db);
    const endpoints = new Endpoints(store().db, () => Date.UTC(2025, 0, 2, 3, 4, 5));
    const [a, b] = [await tenants.create({ name: 'A' }), await tenants.create({ name: 'B' })];
    const preset = await endpoints.create({ tenantId: null, name: 'shared pro', modelId: 'doubao-pro', rpm: 1000 });
    const own = await endpoints.create({ tenantId: a.id, name: 'mine', modelId: 'doubao-lite', tpm: 50_000 });
    expect(own.id).toMatch(/^ep-20250102030405-[0-9a-z]{5}$/);
    expect((await endpoints.visibleTo(a.id)).map((e) => e.id).sort()).toEqual([own.id, preset.id].sort());
    expect((await endpoints.visibleTo(b.id)).map((e) => e.id)).toEqual([preset.id]);
    expect(await endpoints.setStatus(own.id, 'stopped')).toBe(true);
    expect((await endpoints.get(own.id))?.status).toBe('stopped');
  });
});
