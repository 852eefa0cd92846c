import { describe, expect, it } from 'vitest';
import { Cluster, FakeReplica, work } from './fake-cluster.test-helper.js';
import { KvLedger } from './kv-ledger.js';
import type { PrefixSegment } from './types.js';

const patient = 1e9;
const system: PrefixSegment = { hash: 'sys', tokens: 800 };
const chain = (...links: string[]): PrefixSegment[] => [system, ...links.map((hash) => ({ hash, tokens: 100 }))];

describe('routing', () => {
  it('sends a request to the replica holding its prefix, unless that one is loaded beyond the gap', () => {
    const replicas = [new FakeReplica('r1', 4), new FakeReplica('r2', 4)];
    const cluster = new Cluster({ replicas, serviceMs: () => 10_000 });
    expect(cluster.submit(work({ prefix: chain('a'), promptTokens: 900 })).grant?.replicaId).toBe('r1');
    // r1 has 1/4 busy, r2 0/4: within the 0.25 gap, affinity wins.
    expect(cluster.submit(work({ prefix: chain('b'), promptTokens: 900 })).grant?.replicaId).toBe('r1');
    // r1 at 2/4 against 0/4: beyond the gap, the least loaded takes it.
    expect(cluster.submit(work({ prefix: chain('c'), promptTokens: 900 })).grant?.replicaId).toBe('r2');
    // Without a shared prefix: least loaded.
    expect(cluster.submit(work({ prefix: [{ hash: 'other', tokens: 900 }], promptTokens: 900 })).grant?.replicaId).toBe('r2');
  });

  it('prefers the longest matched prefix in tokens', () => {
    const replicas = [new FakeReplica('r1', 8), new FakeReplica('r2', 8)];
    const cluster = new Cluster({ replicas, serviceMs: () => 10_000 });
    cluster.submit(work({ prefix: chain('x'), promptTokens: 900, excludeReplicas: ['r2'] }));
    cluster.submit(work({ prefix: chain('x', 'turn1'), promptTokens: 1000, excludeReplicas: ['r1'] }));
    expect(cluster.submit(work({ prefix: chain('x', 'turn1', 'turn2'), promptTokens: 1100 })).grant?.replicaId).toBe('r2');
    expect(cluster.submit(work({ prefix: chain('y'), promptTokens: 900 })).grant?.replicaId).toBe('r1');
  });

  /**
   * r1 and r2 have one slot each. `sharer` is served on r1 (prefix sys+one) and queues a
   * cold request and then one sharing r1's system prompt; `first` queues in between. When r1
   * frees the second time, `sharer` has been served 1100 more than `first`.
   */
  function lookahead(fairnessWindow: number) {
    const replicas = [new FakeReplica('r1', 1), new FakeReplica('r2', 1)];
    const cluster = new Cluster({ replicas, config: { fairnessWindow }, serviceMs: (item) => (item.tenantId === 'sharer' ? 1000 : 5000) });
    cluster.submit(work({ tenantId: 'sharer', prefix: chain('one'), promptTokens: 900, maxWaitMs: patient }));
    cluster.submit(work({ tenantId: 'other', prefix: [{ hash: 'o', tokens: 900 }], promptTokens: 900, maxWaitMs: patient }));
    const cold = cluster.submit(work({ tenantId: 'sharer', prefix: [{ hash: 'cold', tokens: 900 }], promptTokens: 900, maxWaitMs: patient }));
    const first = cluster.submit(work({ tenantId: 'first', prefix: [{ hash: 'q', tokens: 900 }], promptTokens: 900, maxWaitMs: patient }));
    const warm = cluster.submit(work({ tenantId: 'sharer', prefix: chain('two'), promptTokens: 900, maxWaitMs: patient }));
    cluster.run(1000);
    expect(cold.grant?.replicaId).toBe('r1');
    cluster.run(2000);
    return { first, warm };
  }

  it('when a slot frees, lets a waiting request sharing its prefix go first, within the fairness window', () => {
    const { first, warm } = lookahead(2048);
    expect(warm.grant?.replicaId).toBe('r1');
    expect(first.grant).toBeUndefined();
  });

  it('does not let affinity override fair order beyond the window', () => {
    const { first, warm } = lookahead(100);
    expect(first.grant?.replicaId).toBe('r1');
    expect(warm.grant).toBeUndefined();
  });

  it('never sends a request to a replica it excludes (a retry after a failure before the first token)', () => {
    const replicas = [new FakeReplica('r1', 2), new FakeReplica('r2', 1)];
    const cluster = new Cluster({ replicas, serviceMs: () => 1000 });
    cluster.submit(work({ tenantId: 'a', prefix: chain('p') }));
    const retry = cluster.submit(work({ tenantId: 'b', prefix: chain('p'), excludeReplicas: ['r1'] }));
    expect(retry.grant?.replicaId).toBe('r2');
    // r2 now full, r1 free: an excluding request waits for r2 rather than take r1.
    const again = cluster.submit(work({ tenantId: 'c', prefix: chain('p'), excludeReplicas: ['r1'], maxWaitMs: patient }));
    expect(again.grant).toBeUndefined();
    cluster.run(1000);
    expect(again.grant).toMatchObject({ replicaId: 'r2' });
  });

  it('refunds a failure before the first token, so the retry is not charged twice', () => {
    const replicas = [new FakeReplica('r1', 1), new FakeReplica('r2', 1)];
    const cluster = new Cluster({
      replicas,
      outcome: (item, grant) =>
        grant.replicaId === 'r1' && item.tenantId === 'unlucky'
          ? { ok: false, failedBeforeFirstToken: true, promptTokens: 0, cachedTokens: 0, completionTokens: 0 }
          : { ok: true, promptTokens: item.promptTokens, cachedTokens: 0, completionTokens: item.maxOutputTokens },
    });
    const failed = cluster.submit(work({ tenantId: 'unlucky', maxWaitMs: patient }));
    expect(failed.grant?.replicaId).toBe('r1');
    cluster.run(1000);
    // The gateway retries elsewhere.
    const retry = cluster.submit(work({ tenantId: 'unlucky', excludeReplicas: ['r1'], maxWaitMs: patient }));
    expect(retry.grant?.replicaId).toBe('r2');
    // Fill both replicas, then queue one request each for `unlucky` and a newcomer: with its
    // failed attempt refunded, `unlucky` has been charged once, as has the newcomer's peer.
    cluster.submit(work({ tenantId: 'peer', maxWaitMs: patient }));
    const a = cluster.submit(work({ tenantId: 'unlucky', maxWaitMs: patient }));
    const b = cluster.submit(work({ tenantId: 'peer', maxWaitMs: patient }));
    cluster.run();
    expect(a.grantedAt!).toBeLessThanOrEqual(b.grantedAt!);
  });

  it('waits for KV room on a replica that reports its KV budget, counting what it granted in full', () => {
    const replica = new FakeReplica('r1', 8, ['m'], 10_000);
    const cluster = new Cluster({ replicas: [replica], serviceMs: () => 10_000 });
    cluster.submit(work({ tenantId: 'a', promptTokens: 4000, maxOutputTokens: 100 }));
    // The engine reports nothing held yet, but the grant commits 4000 + 100: another 5600
    // would pass 95% of 10,000.
    const big = cluster.submit(work({ tenantId: 'b', promptTokens: 5500, maxOutputTokens: 100, maxWaitMs: patient }));
    expect(big.grant).toBeUndefined();
    // What the engine reports counts when it is more (another gateway's work, say).
    replica.kvUsed = 9000;
    const small = cluster.submit(work({ tenantId: 'c', promptTokens: 1000, maxOutputTokens: 100, maxWaitMs: patient }));
    expect(small.grant).toBeUndefined();
    replica.kvUsed = 0;
    cluster.scheduler.pump();
    // Within the fairness window, a smaller request may use the room `b` cannot.
    expect(small.grant?.replicaId).toBe('r1');
    cluster.run();
    expect(big.grantedAt).toBe(10_000);
  });
});

describe('KV ledger', () => {
  it('counts a shared prompt segment once, and releases it with its last holder', () => {
    const ledger = new KvLedger(100);
    const a = [{ hash: 'sys', tokens: 800 }, { hash: 'a', tokens: 100 }];
    const b = [{ hash: 'sys', tokens: 800 }, { hash: 'b', tokens: 200 }];
    expect(ledger.need(a, 50)).toBe(950);
    ledger.add(a, 50, 0);
    expect(ledger.need(b, 50)).toBe(250);
    ledger.add(b, 50, 0);
    expect(ledger.committed).toBe(1200);
    // Just granted: counted on top of what the engine reports until it has admitted them.
    expect(ledger.used(0, 50)).toBe(1200);
    expect(ledger.used(5000, 50)).toBe(6200);
    expect(ledger.used(5000, 100)).toBe(5000);
    ledger.remove(a, 50);
    expect(ledger.committed).toBe(1050);
    ledger.remove(b, 50);
    expect(ledger.committed).toBe(0);
  });
});

describe('circuit breaker', () => {
  const failingR1 = {
    outcome: (item: { promptTokens: number; maxOutputTokens: number }, grant: { replicaId: string }) =>
      grant.replicaId === 'r1' && !healthy.value
        ? { ok: false, failedBeforeFirstToken: true, promptTokens: 0, cachedTokens: 0, completionTokens: 0 }
        : { ok: true, promptTokens: item.promptTokens, cachedTokens: 0, completionTokens: item.maxOutputTokens },
  };
  const healthy = { value: false };

  it('opens after consecutive failures, half-opens after the cool-down for one probe, closes on success', () => {
    healthy.value = false;
    const replicas = [new FakeReplica('r1', 4), new FakeReplica('r2', 4)];
    const cluster = new Cluster({ replicas, ...failingR1, serviceMs: () => 100 });
    const breaker = () => cluster.scheduler.snapshot().models[0]!.replicas.find((r) => r.id === 'r1')!.breaker;
    for (let i = 0; i < 5; i++) {
      cluster.submit(work({ tenantId: `t${i}`, excludeReplicas: ['r2'] }));
      cluster.run(cluster.clock.now() + 100);
    }
    expect(breaker()).toBe('open');
    // Open: everything goes to r2, even with r1 idle.
    for (let i = 0; i < 3; i++) expect(cluster.submit(work({ tenantId: `u${i}` })).grant?.replicaId).toBe('r2');
    expect(cluster.submit(work({ tenantId: 'x', excludeReplicas: ['r2'], maxWaitMs: patient })).grant).toBeUndefined();
    // Opened at the fifth failure (t = 500) for 10 s.
    expect(cluster.scheduler.nextWakeAt()).toBe(10_500);
    cluster.run(10_500);
    expect(breaker()).toBe('half-open');
    cluster.scheduler.pump();
    // The waiting request is the one probe; a second request cannot go to r1 meanwhile.
    expect(cluster.grants.at(-1)!.grant!.replicaId).toBe('r1');
    expect(cluster.submit(work({ tenantId: 'y', excludeReplicas: ['r2'], maxWaitMs: patient })).grant).toBeUndefined();
    healthy.value = true;
    cluster.run(10_600);
    expect(breaker()).toBe('closed');
    expect(cluster.waiting()).toHaveLength(0);
  });

  it('opens again when the probe fails', () => {
    healthy.value = false;
    const replicas = [new FakeReplica('r1', 4), new FakeReplica('r2', 4)];
    const cluster = new Cluster({ replicas, ...failingR1, serviceMs: () => 100, config: { breakerFailures: 2, breakerCooldownMs: 1000 } });
    const breaker = () => cluster.scheduler.snapshot().models[0]!.replicas.find((r) => r.id === 'r1')!.breaker;
    for (let i = 0; i < 2; i++) {
      cluster.submit(work({ tenantId: `t${i}`, excludeReplicas: ['r2'] }));
      cluster.run(cluster.clock.now() + 100);
    }
    expect(breaker()).toBe('open');
    cluster.run(1200);
    expect(breaker()).toBe('half-open');
    expect(cluster.submit(work({ tenantId: 'probe', excludeReplicas: ['r2'] })).grant?.replicaId).toBe('r1');
    cluster.run(1300);
    expect(breaker()).toBe('open');
    cluster.run(2300);
    expect(breaker()).toBe('half-open');
  });

  it('counts the cool-down into the wait when every replica is open', () => {
    healthy.value = false;
    const cluster = new Cluster({ replicas: [new FakeReplica('r1', 1)], ...failingR1, serviceMs: () => 100, config: { priorDurationCv: 0, priorServiceMs: 100, tierMaxWaitMs: { standard: 5000, free: 15_000 } } });
    for (let i = 0; i < 5; i++) {
      cluster.submit(work({ tenantId: `t${i}` }));
      cluster.run(cluster.clock.now() + 100);
    }
    const waiting = cluster.submit(work({ tenantId: 'w', tier: 'free' }));
    expect(waiting.etaAtSubmit).toBeGreaterThanOrEqual(9_900);
    // A standard request cannot wait 10 s: refused, told to come back after the cool-down.
    const refused = cluster.submit(work({ tenantId: 's' }));
    expect(refused.rejected?.retryAfterMs).toBeGreaterThanOrEqual(5_900);
  });
});
