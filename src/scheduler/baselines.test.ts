import { describe, expect, it } from 'vitest';
import { Cluster, FakeReplica, seeded, work } from './fake-cluster.test-helper.js';
import { createScheduler, policyNames } from './index.js';
import type { PrefixSegment } from './types.js';

const replicaIds = (cluster: Cluster) => cluster.grants.map((g) => g.grant!.replicaId);

describe('baseline policies', () => {
  it('naive: round robin, granted at once whatever the load, never refused', () => {
    const replicas = [new FakeReplica('r1', 1), new FakeReplica('r2', 1), new FakeReplica('r3', 1)];
    const cluster = new Cluster({ replicas, policy: 'naive' });
    for (let i = 0; i < 300; i++) cluster.submit(work({ tenantId: 'flood', tier: 'free', maxWaitMs: 1 }));
    expect(cluster.grants).toHaveLength(300);
    expect(cluster.grants.every((g) => g.grant!.queuedMs === 0 && g.rejected === undefined)).toBe(true);
    expect(replicaIds(cluster).slice(0, 6)).toEqual(['r1', 'r2', 'r3', 'r1', 'r2', 'r3']);
    // The engines queue: 100 each on one slot.
    expect(replicas.map((r) => r.busy)).toEqual([100, 100, 100]);
    expect(cluster.scheduler.position(cluster.grants[299]!.item.requestId)).toBeUndefined();
  });

  it('random: LiteLLM simple-shuffle, a uniformly random replica from the injected generator', () => {
    const replicas = [new FakeReplica('r1', 1), new FakeReplica('r2', 1), new FakeReplica('r3', 1)];
    const cluster = new Cluster({ replicas, policy: 'random', random: seeded(1) });
    for (let i = 0; i < 3000; i++) cluster.submit(work());
    const expected = seeded(1);
    expect(replicaIds(cluster).slice(0, 20)).toEqual(Array.from({ length: 20 }, () => `r${Math.floor(expected() * 3) + 1}`));
    for (const replica of replicas) expect(replica.busy).toBeGreaterThan(900);
  });

  it('least-request: the replica with the fewest requests in flight from this router', () => {
    const replicas = [new FakeReplica('r1', 8), new FakeReplica('r2', 8)];
    const cluster = new Cluster({ replicas, policy: 'least-request', serviceMs: (item) => (item.tenantId === 'long' ? 10_000 : 100) });
    cluster.submit(work({ tenantId: 'long' }));
    cluster.submit(work({ tenantId: 'long' }));
    cluster.submit(work({ tenantId: 'long' }));
    expect(replicaIds(cluster)).toEqual(['r1', 'r2', 'r1']);
    expect(cluster.submit(work({ tenantId: 'short' })).grant?.replicaId).toBe('r2');
    cluster.run(200);
    // r1: 2 in flight, r2: 1.
    expect(cluster.submit(work({ tenantId: 'short' })).grant?.replicaId).toBe('r2');
  });

  describe('cache-aware (SGLang router)', () => {
    const sys: PrefixSegment = { hash: 'sys', tokens: 900 };
    const prompt = (hash: string, tokens = 100): { prefix: PrefixSegment[]; promptTokens: number } => ({ prefix: [sys, { hash, tokens }], promptTokens: 900 + tokens });

    it('routes to the longest prefix match above the cache threshold, else to the smallest tree', () => {
      const replicas = [new FakeReplica('r1', 4), new FakeReplica('r2', 4)];
      const cluster = new Cluster({ replicas, policy: 'cache-aware', serviceMs: () => 1e9 });
      // Empty trees: no match; the smallest tree (a tie) is the first.
      expect(cluster.submit(work(prompt('a'))).grant?.replicaId).toBe('r1');
      // 900 of 1000 tokens match r1's tree: 0.9 > 0.5.
      expect(cluster.submit(work(prompt('b'))).grant?.replicaId).toBe('r1');
      // No match at all: the smallest tree, r2's (empty).
      expect(cluster.submit(work({ prefix: [{ hash: 'other', tokens: 1000 }], promptTokens: 1000 })).grant?.replicaId).toBe('r2');
      // A match below the threshold (900 of 2000) also goes to the smallest tree: r2 holds 1000 tokens, r1 1100.
      expect(cluster.submit(work({ prefix: [sys, { hash: 'long', tokens: 1100 }], promptTokens: 2000 })).grant?.replicaId).toBe('r2');
    });

    it('balances by shortest queue when load is imbalanced beyond both thresholds', () => {
      const replicas = [new FakeReplica('r1', 4), new FakeReplica('r2', 4)];
      const cluster = new Cluster({ replicas, policy: 'cache-aware', serviceMs: () => 1e9 });
      for (let i = 0; i < 33; i++) expect(cluster.submit(work(prompt(`x${i}`))).grant?.replicaId).toBe('r1');
      // 33 − 0 > 32 and 33 > 0 × 1.0001: imbalanced, so the match on r1 does not count.
      expect(cluster.submit(work(prompt('y'))).grant?.replicaId).toBe('r2');
    });
  });

  it('every baseline respects excludeReplicas and reports an empty queue', () => {
    for (const policy of policyNames.filter((name) => name !== 'skylark')) {
      const replicas = [new FakeReplica('r1', 1), new FakeReplica('r2', 1)];
      const cluster = new Cluster({ replicas, policy, random: seeded(2) });
      for (let i = 0; i < 10; i++) expect(cluster.submit(work({ excludeReplicas: ['r1'] })).grant?.replicaId).toBe('r2');
      expect(cluster.submit(work({ excludeReplicas: ['r1', 'r2'] })).rejected?.code).toBe('engine_unavailable');
      const model = cluster.scheduler.snapshot().models[0]!;
      expect(model.tiers.every((t) => t.depth === 0)).toBe(true);
      expect(model.replicas.map((r) => r.busy)).toEqual([0, 10]);
      expect(cluster.scheduler.policy).toBe(policy);
    }
  });

  it('every policy is created from its name, behind the same Scheduler', () => {
    const clock = { now: () => 0, wallNow: () => new Date(0) };
    for (const policy of policyNames) {
      const scheduler = createScheduler({ clock, replicas: [new FakeReplica('r1', 1)], policy });
      expect(scheduler.policy).toBe(policy);
      let granted = '';
      scheduler.submit(work(), { onGrant: (grant) => (granted = grant.replicaId) });
      expect(granted).toBe('r1');
    }
  });
});

describe('scale', () => {
  // How fast it runs is for bench:sched to measure; a test only checks that a long
  // overloaded run drains completely.
  it('runs 30,000 requests (60,000 events) through Skylark and drains the queue', () => {
    const random = seeded(5);
    const exponential = (mean: number) => -Math.log(1 - random()) * mean;
    const replicas = Array.from({ length: 4 }, (_, i) => new FakeReplica(`r${i}`, 64));
    const cluster = new Cluster({ replicas, serviceMs: () => exponential(3000), watch: false });
    let t = 0;
    const tiers = ['priority', 'standard', 'free', 'batch'] as const;
    for (let i = 0; i < 30_000; i++) {
      t += exponential(1000 / 150);
      const tenant = `t${Math.floor(random() * 50)}`;
      const tier = tiers[Math.floor(random() * 4)]!;
      const prefix = [{ hash: `app${Math.floor(random() * 20)}`, tokens: 500 }, { hash: `u${i}`, tokens: 100 }];
      cluster.at(t, () => cluster.submit(work({ tenantId: tenant, tier, prefix, promptTokens: 600 })));
    }
    cluster.run();
    expect(cluster.waiting()).toHaveLength(0);
  });
});
