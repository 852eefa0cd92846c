import { describe, expect, it } from 'vitest';
import { Ledger } from '../../src/billing/ledger.js';
import { Tenants } from '../../src/tenancy/tenants.js';
import { dialects, useStore } from './dialects.js';
import { settlement, tenantWith } from './fixtures.js';

describe.each(dialects)('ledger on $name', (dialect) => {
  const store = useStore(dialect);
  const ledger = () => new Ledger(store().db);

  it('tops up, reserves, settles the real cost and frees the hold', async () => {
    const tenant = await tenantWith(store(), 10_000);
    const reserved = await ledger().reserve({ requestId: 'r-flow', tenantId: tenant.id, amountMicros: 3_000, owner: 'gw-1' });
    expect(reserved).toEqual({ ok: true, availableMicros: 7_000 });
    expect(await ledger().balance(tenant.id)).toMatchObject({ balanceMicros: 10_000, reservedMicros: 3_000 });

    expect(await ledger().settle(settlement(tenant.id, 1_672, { requestId: 'r-flow' }))).toEqual({ settled: true });
    expect(await ledger().balance(tenant.id)).toEqual({
      tenantId: tenant.id,
      balanceMicros: 8_328,
      reservedMicros: 0,
      availableMicros: 8_328,
    });
    const record = await store().db.selectFrom('usage_records').selectAll().where('request_id', '=', 'r-flow').executeTakeFirstOrThrow();
    expect(record).toMatchObject({ tenant_id: tenant.id, prompt_tokens: 1000, cached_tokens: 200, completion_tokens: 500, cost_micros: 1672, batch: 0 });
    expect(await store().db.selectFrom('reservations').selectAll().where('id', '=', 'r-flow').execute()).toEqual([]);
  });

  it('settles a request id once: the second settle changes nothing', async () => {
    const tenant = await tenantWith(store(), 10_000);
    await ledger().reserve({ requestId: 'r-twice', tenantId: tenant.id, amountMicros: 2_000, owner: 'gw-1' });
    const first = settlement(tenant.id, 1_500, { requestId: 'r-twice' });
    expect(await ledger().settle(first)).toEqual({ settled: true });
    expect(await ledger().settle({ ...first, costMicros: 9_999 })).toEqual({ settled: false });
    const [a, b] = await Promise.all([ledger().settle(first), ledger().settle(first)]);
    expect([a.settled, b.settled]).toEqual([false, false]);
    // Two first settles racing (two replicas, on PostgreSQL truly at once): one charge.
    const racing = settlement(tenant.id, 500, { requestId: 'r-race' });
    const [x, y, z] = await Promise.all([ledger().settle(racing), ledger().settle(racing), ledger().settleMany([racing, racing])]);
    expect(Number(x.settled) + Number(y.settled) + z.settled.length).toBe(1);
    expect(await ledger().reserve({ requestId: 'r-twice', tenantId: tenant.id, amountMicros: 1, owner: 'gw-1' })).toMatchObject({
      ok: false,
      reason: 'duplicate_request',
    });
    expect(await ledger().balance(tenant.id)).toMatchObject({ balanceMicros: 8_000, reservedMicros: 0 });
    const rows = await store().db.selectFrom('usage_records').select('cost_micros').where('request_id', '=', 'r-twice').execute();
    expect(rows).toEqual([{ cost_micros: 1_500 }]);
    const entries = await store().db.selectFrom('ledger_entries').selectAll().where('ref', '=', 'r-twice').execute();
    expect(entries).toHaveLength(1);
  });

  it('releases a hold without charging', async () => {
    const tenant = await tenantWith(store(), 5_000);
    await ledger().reserve({ requestId: 'r-release', tenantId: tenant.id, amountMicros: 5_000, owner: 'gw-1' });
    expect((await ledger().balance(tenant.id))?.availableMicros).toBe(0);
    expect(await ledger().release('r-release')).toBe(true);
    expect(await ledger().release('r-release')).toBe(false);
    expect(await ledger().balance(tenant.id)).toMatchObject({ balanceMicros: 5_000, reservedMicros: 0, availableMicros: 5_000 });
  });

  it('refuses a reservation the balance cannot cover, and says why', async () => {
    const tenant = await tenantWith(store(), 1_000);
    expect(await ledger().reserve({ requestId: 'r-a', tenantId: tenant.id, amountMicros: 800, owner: 'gw' })).toMatchObject({ ok: true });
    expect(await ledger().reserve({ requestId: 'r-b', tenantId: tenant.id, amountMicros: 201, owner: 'gw' })).toEqual({
      ok: false,
      reason: 'insufficient_balance',
      availableMicros: 200,
    });
    expect(await ledger().reserve({ requestId: 'r-a', tenantId: tenant.id, amountMicros: 1, owner: 'gw' })).toMatchObject({
      ok: false,
      reason: 'duplicate_request',
    });
    expect(await ledger().reserve({ requestId: 'r-c', tenantId: 'ten_nobody', amountMicros: 1, owner: 'gw' })).toMatchObject({
      ok: false,
      reason: 'unknown_tenant',
    });
    // The refused attempts left nothing behind.
    expect(await ledger().balance(tenant.id)).toMatchObject({ reservedMicros: 800 });
    expect(await store().db.selectFrom('reservations').select('id').where('tenant_id', '=', tenant.id).execute()).toEqual([{ id: 'r-a' }]);
  });

  it('never over-commits under concurrent reservations', async () => {
    const tenant = await tenantWith(store(), 1_000);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => ledger().reserve({ requestId: `r-conc-${i}`, tenantId: tenant.id, amountMicros: 100, owner: 'gw' })),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(10);
    expect(await ledger().balance(tenant.id)).toMatchObject({ reservedMicros: 1_000, availableMicros: 0 });
  });

  it('lets unlimited tenants run into debt, and refuses suspended ones', async () => {
    const operator = await tenantWith(store(), 0, { unlimited: true });
    expect(await ledger().reserve({ requestId: 'r-op', tenantId: operator.id, amountMicros: 50_000, owner: 'gw' })).toMatchObject({ ok: true });
    await ledger().settle(settlement(operator.id, 42_000, { requestId: 'r-op' }));
    expect((await ledger().balance(operator.id))?.balanceMicros).toBe(-42_000);

    const tenant = await tenantWith(store(), 10_000);
    await new Tenants(store().db).setStatus(tenant.id, 'suspended');
    expect(await ledger().reserve({ requestId: 'r-susp', tenantId: tenant.id, amountMicros: 1, owner: 'gw' })).toMatchObject({
      ok: false,
      reason: 'tenant_suspended',
    });
  });

  it('redeems a code exactly once among 10 concurrent attempts', async () => {
    const tenant = await tenantWith(store(), 0);
    const { code } = await ledger().createRedeemCode({ amountMicros: 50_000_000, currency: 'CNY' });
    const results = await Promise.all(Array.from({ length: 10 }, () => ledger().redeem(code, tenant.id)));
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok).map((r) => (r.ok ? '' : r.reason))).toEqual(Array(9).fill('already_redeemed'));
    expect((await ledger().balance(tenant.id))?.balanceMicros).toBe(50_000_000);
    // Typed the way people type codes: lower case, no dashes. Still used.
    expect(await ledger().redeem(code.toLowerCase().replaceAll('-', ''), tenant.id)).toEqual({ ok: false, reason: 'already_redeemed' });
  });

  it('refuses unknown, expired and wrong-currency codes', async () => {
    const tenant = await tenantWith(store(), 0);
    expect(await ledger().redeem('SKY-NOPE', tenant.id)).toEqual({ ok: false, reason: 'not_found' });
    const expired = await ledger().createRedeemCode({ amountMicros: 1, currency: 'CNY', expiresAt: Date.now() - 1 });
    expect(await ledger().redeem(expired.code, tenant.id)).toEqual({ ok: false, reason: 'expired' });
    const usd = await ledger().createRedeemCode({ amountMicros: 1, currency: 'USD' });
    expect(await ledger().redeem(usd.code, tenant.id)).toEqual({ ok: false, reason: 'currency_mismatch' });
    expect((await ledger().balance(tenant.id))?.balanceMicros).toBe(0);
  });

  it('recovers the holds of dead instances and keeps the live one', async () => {
    const tenant = await tenantWith(store(), 10_000);
    await ledger().reserve({ requestId: 'r-dead-1', tenantId: tenant.id, amountMicros: 1_000, owner: 'gw-dead' });
    await ledger().reserve({ requestId: 'r-dead-2', tenantId: tenant.id, amountMicros: 2_000, owner: 'gw-dead' });
    await ledger().reserve({ requestId: 'r-live', tenantId: tenant.id, amountMicros: 500, owner: 'gw-live' });
    const recovered = await ledger().recoverReservations('gw-live');
    expect(recovered.released).toBeGreaterThanOrEqual(2); // other tests' leftovers count too
    expect(await ledger().balance(tenant.id)).toMatchObject({ reservedMicros: 500, availableMicros: 9_500 });
    expect(await store().db.selectFrom('reservations').select('id').where('tenant_id', '=', tenant.id).execute()).toEqual([{ id: 'r-live' }]);
  });
});

describe.each(dialects)('verify on $name', (dialect) => {
  const store = useStore(dialect);

  it('passes after a mixed workload and names the tenant whose balance was corrupted', async () => {
    const ledger = new Ledger(store().db);
    const tenants = await Promise.all([1, 2, 3].map(() => tenantWith(store(), 100_000)));
    const [a, b, c] = tenants as [(typeof tenants)[0], (typeof tenants)[0], (typeof tenants)[0]];
    await ledger.adjust(a.id, -5_000, 'goodwill reversal');
    await ledger.refund(b.id, 2_500, 'outage credit');
    const { code } = await ledger.createRedeemCode({ amountMicros: 7_000, currency: 'CNY' });
    await ledger.redeem(code, c.id);
    for (const [i, t] of tenants.entries()) {
      await ledger.reserve({ requestId: `v-${i}-held`, tenantId: t.id, amountMicros: 1_000, owner: 'gw' });
      await ledger.reserve({ requestId: `v-${i}-done`, tenantId: t.id, amountMicros: 1_000, owner: 'gw' });
      await ledger.settle(settlement(t.id, 900 + i, { requestId: `v-${i}-done` }));
      await ledger.settle(settlement(t.id, 0, { requestId: `v-${i}-free`, status: 'error' }));
      await ledger.settleMany([settlement(t.id, 10), settlement(t.id, 20, { batch: true })]);
    }
    await ledger.release('v-0-held');
    expect(await ledger.verify()).toEqual([]);

    await store().db.updateTable('tenant_balances').set({ balance_micros: 1 }).where('tenant_id', '=', b.id).execute();
    expect(await ledger.verify()).toEqual([{ tenantId: b.id, check: 'balance', actual: 1, expected: 100_000 + 2_500 - 901 - 30 }]);

    // A usage row that no ledger entry paid for is caught too.
    await store().db.updateTable('tenant_balances').set({ balance_micros: 100_000 + 2_500 - 901 - 30 }).where('tenant_id', '=', b.id).execute();
    await store().db.updateTable('usage_records').set({ cost_micros: 5 }).where('request_id', '=', 'v-2-free').execute();
    expect(await ledger.verify()).toEqual([{ tenantId: c.id, check: 'usage', actual: 902 + 30, expected: 902 + 30 + 5 }]);
  });
});
