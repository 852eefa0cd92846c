import { describe, expect, it, vi } from 'vitest';
import { Ledger } from '../../src/billing/ledger.js';
import type { Settlement, SettleReport } from '../../src/billing/settlement.js';
import { UsageWriter } from '../../src/billing/usage-writer.js';
import { toSafeInteger } from '../../src/store/database.js';
import { dialects, useStore } from './dialects.js';
import { settlement, tenantWith } from './fixtures.js';

describe.each(dialects)('UsageWriter on $name', (dialect) => {
  const store = useStore(dialect);

  it('group-commits 10,000 settlements with exact totals', async () => {
    const ledger = new Ledger(store().db);
    const tenants = await Promise.all(Array.from({ length: 8 }, () => tenantWith(store(), 1_000_000_000)));
    const writer = new UsageWriter(ledger, { flushIntervalMs: 20, maxBatchRows: 500 });
    const expected = new Map<string, number>();
    const settlements: Settlement[] = [];
    for (let i = 0; i < 10_000; i++) {
      const tenant = tenants[i % tenants.length]!;
      const cost = (i * 7919) % 5_000; // includes zero-cost requests
      expected.set(tenant.id, (expected.get(tenant.id) ?? 0) + cost);
      settlements.push(settlement(tenant.id, cost, { requestId: `bulk-${dialect.name}-${i}`, batch: i % 3 === 0 }));
    }
    for (const s of settlements) writer.enqueue(s);
    // Retries of the same requests (a client retry, a replayed batch) must not count.
    for (const s of settlements.slice(0, 250)) writer.enqueue(s);
    await writer.close();

    expect(writer.stats).toMatchObject({ queued: 10_250, settled: 10_000, duplicates: 250, failed: 0 });
    expect(writer.stats.batches).toBeGreaterThanOrEqual(20);
    for (const tenant of tenants) {
      expect(await ledger.balance(tenant.id)).toMatchObject({
        balanceMicros: 1_000_000_000 - expected.get(tenant.id)!,
        reservedMicros: 0,
      });
    }
    const count = await store().db.selectFrom('usage_records').select((eb) => eb.fn.countAll().as('n')).where('request_id', 'like', `bulk-${dialect.name}-%`).executeTakeFirstOrThrow();
    expect(toSafeInteger(count.n)).toBe(10_000);
    expect(await ledger.verify()).toEqual([]);
    expect(() => writer.enqueue(settlements[0]!)).toThrow(/closed/);
  });

  it('flushes on its timer without being asked', async () => {
    const ledger = new Ledger(store().db);
    const tenant = await tenantWith(store(), 10_000);
    const writer = new UsageWriter(ledger, { flushIntervalMs: 5 });
    writer.enqueue(settlement(tenant.id, 1_234, { requestId: `timer-${dialect.name}` }));
    expect(writer.pending).toBe(1);
    await vi.waitFor(async () => expect((await ledger.balance(tenant.id))?.balanceMicros).toBe(8_766), { timeout: 5_000 });
    await writer.close();
  });

  it('isolates a bad row: the rest of its batch still settles, the bad one is reported', async () => {
    const ledger = new Ledger(store().db);
    const tenant = await tenantWith(store(), 10_000);
    const failures: Settlement[] = [];
    const writer = new UsageWriter(ledger, { maxAttempts: 2, retryDelayMs: 1, onFailure: (s) => failures.push(s) });
    const good = Array.from({ length: 5 }, (_, i) => settlement(tenant.id, 100, { requestId: `iso-${dialect.name}-${i}` }));
    const orphan = settlement('ten_does_not_exist', 100, { requestId: `iso-${dialect.name}-orphan` });
    for (const s of [...good.slice(0, 2), orphan, ...good.slice(2)]) writer.enqueue(s);
    await writer.close();
    expect(failures.map((s) => s.requestId)).toEqual([orphan.requestId]);
    expect(writer.stats).toMatchObject({ settled: 5, failed: 1, batchRetries: 2 });
    expect((await ledger.balance(tenant.id))?.balanceMicros).toBe(9_500);
    expect(await ledger.verify()).toEqual([]);
  });
});

describe('UsageWriter retries', () => {
  it('retries a failed batch row by row and later flushes, without double counting', async () => {
    let calls = 0;
    const seen = new Set<string>();
    // A sink that fails its first two calls (a database restarting), then works.
    const sink = {
      async settleMany(list: readonly Settlement[]): Promise<SettleReport> {
        if (calls++ < 2) throw new Error('connection reset');
        const settled = list.filter((s) => !seen.has(s.requestId)).map((s) => s.requestId);
        for (const id of settled) seen.add(id);
        return { settled, duplicates: list.map((s) => s.requestId).filter((id) => !settled.includes(id)) };
      },
    };
    const failures: string[] = [];
    const writer = new UsageWriter(sink, { retryDelayMs: 1, onFailure: (s) => failures.push(s.requestId) });
    for (let i = 0; i < 3; i++) writer.enqueue(settlement('ten_a', 1, { requestId: `retry-${i}` }));
    await writer.flush();
    expect(failures).toEqual([]);
    expect([...seen].sort()).toEqual(['retry-0', 'retry-1', 'retry-2']);
    expect(writer.stats).toMatchObject({ settled: 3, failed: 0 });
  });

  it('refuses malformed settlements at enqueue time', () => {
    const writer = new UsageWriter({ settleMany: async () => ({ settled: [], duplicates: [] }) });
    expect(() => writer.enqueue(settlement('ten_a', 1.5))).toThrow(RangeError);
    expect(() => writer.enqueue(settlement('ten_a', -1))).toThrow(RangeError);
    expect(writer.pending).toBe(0);
  });
});

describe('UsageWriter gathering announced settlements', () => {
  /** A sink that records each batch's request ids. */
  const recording = () => {
    const batches: string[][] = [];
    const sink = {
      async settleMany(list: readonly Settlement[]): Promise<SettleReport> {
        batches.push(list.map((s) => s.requestId));
        return { settled: list.map((s) => s.requestId), duplicates: [] };
      },
    };
    return { batches, sink };
  };

  it('commits requests finishing a moment apart in one batch, each caller waiting for its own commit', async () => {
    const { batches, sink } = recording();
    const writer = new UsageWriter(sink, { gatherMs: 10_000 });
    const a = writer.announce();
    const b = writer.announce();
    const first = a.settle(settlement('ten_a', 1, { requestId: 'gather-a' }));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(batches).toEqual([]); // waiting for b, which is still running
    const second = b.settle(settlement('ten_a', 2, { requestId: 'gather-b' }));
    expect(await Promise.all([first, second])).toEqual(['settled', 'settled']);
    expect(batches).toEqual([['gather-a', 'gather-b']]);
  });

  it('does not wait when nothing else is announced: a lone request commits on the next turn', async () => {
    const { batches, sink } = recording();
    const writer = new UsageWriter(sink, { gatherMs: 10_000 });
    expect(await writer.announce().settle(settlement('ten_a', 1, { requestId: 'alone' }))).toBe('settled');
    expect(await writer.enqueue(settlement('ten_a', 1, { requestId: 'unannounced' }))).toBe('settled');
    expect(batches).toEqual([['alone'], ['unannounced']]);
  });

  it('stops waiting when the other request withdraws (released without usage)', async () => {
    const { batches, sink } = recording();
    const writer = new UsageWriter(sink, { gatherMs: 10_000 });
    const a = writer.announce();
    const b = writer.announce();
    const first = a.settle(settlement('ten_a', 1, { requestId: 'stays' }));
    b.withdraw();
    b.withdraw(); // once only
    expect(await first).toBe('settled');
    expect(batches).toEqual([['stays']]);
  });

  it('waits at most gatherMs for a request that is still running', async () => {
    const { batches, sink } = recording();
    const writer = new UsageWriter(sink, { gatherMs: 5 });
    writer.announce(); // a long generation
    expect(await writer.announce().settle(settlement('ten_a', 1, { requestId: 'bounded' }))).toBe('settled');
    expect(batches).toEqual([['bounded']]);
    await writer.close();
  });
});
