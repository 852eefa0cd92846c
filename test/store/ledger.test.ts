import { describe, expect, it } from 'vitest';
import { Ledger } from '../../src/billing/ledger.js';
import { dialects, useStore } from './dialects.js';
import { settlement, tenantWith } from './fixtures.js';

describe.each(dialects)('ledger on $name', (dialect) => {
  const store = useStore(dialect);
  const ledger = () => new Ledger(store().db);

  it('tops up and settles the real cost: one usage row, one ledger entry, the balance moved', async () => {
    const tenant = await tenantWith(store(), 10_000);
    expect(await ledger().settle(settlement(tenant.id, 1_672, { requestId: 'r-flow' }))).toEqual({ settled: true });
    expect(await ledger().balance(tenant.id)).toEqual({
      tenantId: tenant.id,
      balanceMicros: 8_328,
      reservedMicros: 0,
      availableMicros: 8_328,
    });
    const record = await store().db.selectFrom('usage_records').selectAll().where('request_id', '=', 'r-flow').executeTakeFirstOrThrow();
    expect(record).toMatchObject({ tenant_id: tenant.id, prompt_tokens: 1000, cached_tokens: 200, completion_tokens: 500, cost_micros: 1672, batch: 0 });
    const entries = await store().db.selectFrom('ledger_entries').select(['kind', 'amount_micros']).where('ref', '=', 'r-flow').execute();
    expect(entries.map((e) => ({ kind: e.kind, amount: Number(e.amount_micros) }))).toEqual([{ kind: 'usage', amount: -1_672 }]);
  });

  it('records what a media request was billed by (units and their kind) beside its cost', async () => {
    const tenant = await tenantWith(store(), 10_000);
    const media = { promptTokens: 0, cachedPromptTokens: 0, completionTokens: 0, media: { kind: 'audio_second' as const, units: 8 } };
    await ledger().settleMany([settlement(tenant.id, 5_600, { requestId: 'r-media', usage: media }), settlement(tenant.id, 100, { requestId: 'r-tokens' })]);
    const rows = await store().db.selectFrom('usage_records').select(['request_id', 'units', 'unit_kind', 'cost_micros']).where('tenant_id', '=', tenant.id).orderBy('request_id').execute();
    expect(rows.map((r) => ({ ...r, units: Number(r.units), cost_micros: Number(r.cost_micros) }))).toEqual([
      { request_id: 'r-media', units: 8, unit_kind: 'audio_second', cost_micros: 5_600 },
      { request_id: 'r-tokens', units: 0, unit_kind: null, cost_micros: 100 },
    ]);
    expect(await ledger().balance(tenant.id)).toMatchObject({ balanceMicros: 4_300 });
  });

  it('settles a request id once: the second settle changes nothing', async () => {
    const tenant = await tenantWith(store(), 10_000);
    const first = settlement(tenant.id, 1_500, { requestId: 'r-twice' });
    expect(await ledger().settle(first)).toEqual({ settled: true });
    expect(await ledger().settle({ ...first, costMicros: 9_999 })).toEqual({ settled: false });
    const [a, b] = await Promise.all([ledger().settle(first), ledger().settle(first)]);
    expect([a.settled, b.settled]).toEqual([false, false]);
    // Two first settles racing (two replicas, on PostgreSQL truly at once): one charge.
    const racing = settlement(tenant.id, 500, { requestId: 'r-race' });
    const [x, y, z] = await Promise.all([ledger().settle(racing), ledger().settle(racing), ledger().settleMany([racing, racing])]);
    expect(Number(x.settled) + Number(y.settled) + z.settled.length).toBe(1);
    expect(await ledger().balance(tenant.id)).toMatchObject({ balanceMicros: 8_000, reservedMicros: 0 });
    const rows = await store().db.selectFrom('usage_records').select('cost_micros').where('request_id', '=', 'r-twice').execute();
    expect(rows).toEqual([{ cost_micros: 1_500 }]);
    const entries = await store().db.selectFrom('ledger_entries').selectAll().where('ref', '=', 'r-twice').execute();
    expect(entries).toHaveLength(1);
  });

  it('reports within-batch repeats and earlier settles as duplicates, and charges each tenant once per row', async () => {
    const [a, b] = [await tenantWith(store(), 10_000), await tenantWith(store(), 10_000)];
    await ledger().settle(settlement(a.id, 100, { requestId: 'r-batch-old' }));
    const report = await ledger().settleMany([
      settlement(a.id, 100, { requestId: 'r-batch-1' }),
      settlement(b.id, 200, { requestId: 'r-batch-2' }),
      settlement(a.id, 300, { requestId: 'r-batch-1' }),
      settlement(a.id, 400, { requestId: 'r-batch-old' }),
      settlement(b.id, 0, { requestId: 'r-batch-free', status: 'error' }),
    ]);
    expect([...report.settled].sort()).toEqual(['r-batch-1', 'r-batch-2', 'r-batch-free']);
    expect([...report.duplicates].sort()).toEqual(['r-batch-1', 'r-batch-old']);
    expect((await ledger().balance(a.id))?.balanceMicros).toBe(10_000 - 100 - 100);
    expect((await ledger().balance(b.id))?.balanceMicros).toBe(10_000 - 200);
    expect(await ledger().verify()).toEqual([]);
  });

  it('never lands a settlement inside another open transaction on the same connection', async () => {
    const tenant = await tenantWith(store(), 10_000);
    // A transaction that yields to the event loop mid-way and then rolls back; a settlement
    // started in that gap that ran inside it would roll back with it.
    let begun!: () => void;
    const inside = new Promise<void>((resolve) => (begun = resolve));
    const rolledBack = store()
      .db.transaction()
      .execute(async (trx) => {
        await trx.insertInto('ledger_entries').values({ tenant_id: tenant.id, kind: 'adjustment', amount_micros: 1, ref: 'rolled back', created_at: Date.now() }).execute();
        begun();
        await new Promise((resolve) => setTimeout(resolve, 50));
        throw new Error('roll back');
      });
    await inside;
    const settled = ledger().settle(settlement(tenant.id, 700, { requestId: 'r-beside-tx' }));
    await expect(rolledBack).rejects.toThrow('roll back');
    expect(await settled).toEqual({ settled: true });
    expect((await ledger().balance(tenant.id))?.balanceMicros).toBe(9_300);
    expect(await store().db.selectFrom('usage_records').select('request_id').where('request_id', '=', 'r-beside-tx').execute()).toHaveLength(1);
    expect(await ledger().verify()).toEqual([]);
  });

  it('lets unlimited tenants run into debt', async () => {
    const operator = await tenantWith(store(), 0, { unlimited: true });
    await ledger().settle(settlement(operator.id, 42_000, { requestId: 'r-op' }));
    expect((await ledger().balance(operator.id))?.balanceMicros).toBe(-42_000);
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
      await ledger.settle(settlement(t.id, 900 + i, { requestId: `v-${i}-done` }));
      await ledger.settle(settlement(t.id, 0, { requestId: `v-${i}-free`, status: 'error' }));
      await ledger.settleMany([settlement(t.id, 10), settlement(t.id, 20, { batch: true })]);
    }
    expect(await ledger.verify()).toEqual([]);

    await store().db.updateTable('tenant_balances').set({ balance_micros: 1 }).where('tenant_id', '=', b.id).execute();
    expect(await ledger.verify()).toEqual([{ tenantId: b.id, check: 'balance', actual: 1, expected: 100_000 + 2_500 - 901 - 30 }]);

    // A usage row that no ledger entry paid for is caught too.
    await store().db.updateTable('tenant_balances').set({ balance_micros: 100_000 + 2_500 - 901 - 30 }).where('tenant_id', '=', b.id).execute();
    await store().db.updateTable('usage_records').set({ cost_micros: 5 }).where('request_id', '=', 'v-2-free').execute();
    expect(await ledger.verify()).toEqual([{ tenantId: c.id, check: 'usage', actual: 902 + 30, expected: 902 + 30 + 5 }]);
  });
});
