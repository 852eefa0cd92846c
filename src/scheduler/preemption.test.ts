import { describe, expect, it } from 'vitest';
import { resolveConfig } from './config.js';
import { Cluster, FakeReplica, work, type Tracked } from './fake-cluster.test-helper.js';
import { chooseVictims, leastWasteful, type Victim } from './preemption.js';
import type { ReplicaState, ReplicaView } from './router.js';

const config = resolveConfig();

function view(overrides: Partial<ReplicaView>): ReplicaView {
  return { state: {} as ReplicaState, allowed: true, slots: 4, busy: 4, kvTokens: undefined, kvUsed: 0, interactivePeak: { slots: 0, kv: 0 }, ...overrides };
}

const victim = (requestId: string, grantedAt: number, kv = 1000): Victim => ({ requestId, grantedAt, kv });

describe('choosing what to preempt', () => {
  it('takes the newest batch sequence that has run the minimum time', () => {
    const running = [victim('old', 0), victim('mid', 5_000), victim('new', 9_500)];
    // At 10 s `new` has run 0.5 s (< 1 s): preempting it would throw away little, but a
    // line taken back that soon, again and again, would never finish.
    expect(chooseVictims(view({}), running, 500, config, 10_000)?.map((v) => v.requestId)).toEqual(['mid']);
    expect(chooseVictims(view({}), running, 500, config, 10_500)?.map((v) => v.requestId)).toEqual(['new']);
  });

  it('takes as many as the KV the newcomer needs, newest first, up to the most allowed', () => {
    const running = [victim('a', 0, 3000), victim('b', 1000, 3000), victim('c', 2000, 3000), victim('d', 3000, 3000), victim('e', 4000, 3000)];
    const full = view({ slots: 16, busy: 5, kvTokens: 20_000, kvUsed: 18_000 });
    // 18000 − k·3000 + need ≤ 19000 (5 % headroom): need 2000 → k = 1, 7000 → k = 2.
    expect(chooseVictims(full, running, 2000, config, 10_000)?.map((v) => v.requestId)).toEqual(['e']);
    expect(chooseVictims(full, running, 7000, config, 10_000)?.map((v) => v.requestId)).toEqual(['e', 'd']);
    // Five would be needed; at most four are taken for one request.
    expect(chooseVictims(full, running, 16_000, config, 10_000)).toBeUndefined();
  });

  it('takes nothing when the request fits already, when preemption is off, or from a replica whose breaker is open', () => {
    const running = [victim('a', 0)];
    expect(chooseVictims(view({ busy: 3 }), running, 500, config, 10_000)).toEqual([]);
    expect(chooseVictims(view({}), running, 500, resolveConfig({ batchPreemption: false }), 10_000)).toBeUndefined();
    expect(chooseVictims(view({ allowed: false }), running, 500, config, 10_000)).toBeUndefined();
  });

  it('prefers the replica where fewer and newer sequences are lost', () => {
    const options = [
      { id: 'two', victims: [victim('x', 9000), victim('y', 8000)] },
      { id: 'older', victims: [victim('z', 1000)] },
      { id: 'newer', victims: [victim('w', 5000)] },
    ];
    expect(leastWasteful(options)?.id).toBe('newer');
  });
});

describe('preemption in the scheduler', () => {
  const patient = 1e9;

  it('starts an interactive arrival at once on a replica full of batch work, and runs the victim again later', () => {
    const replica = new FakeReplica('r1', 4);
    // Batch may fill the replica: only preemption makes room here.
    const config = { batchSlotReserve: 0, batchLoadFloor: 1 };
    const cluster = new Cluster({ replicas: [replica], preemptible: true, config, serviceMs: (item) => (item.tier === 'batch' ? 10_000 : 1000) });
    const batch: Tracked[] = [];
    for (let i = 0; i < 4; i++) cluster.at(i * 1000, () => batch.push(cluster.submit(work({ tenantId: 'nightly', tier: 'batch', maxWaitMs: patient }))));
    let user: Tracked | undefined;
    cluster.at(5000, () => (user = cluster.submit(work({ tenantId: 'user', tier: 'standard' }))));
    cluster.run(5000);
    expect(user!.grantedAt).toBe(5000);
    // The newest batch line (granted at 3 s) gave its place; the others run on.
    expect(batch.map((t) => t.preemptions)).toEqual([0, 0, 0, 1]);
    expect(replica.busy).toBe(4);
    cluster.run();
    // It waited for idle capacity (the interactive request ended at 6 s) and ran in full once.
    expect(batch[3]!.grantedAt).toBe(6000);
    expect(cluster.scheduler.snapshot().models[0]!.replicas[0]!.busy).toBe(0);
    expect(cluster.waiting()).toHaveLength(0);
  });

  it('leaves batch work alone while it is younger than the minimum run time: the interactive request waits', () => {
    const replica = new FakeReplica('r1', 2);
    const cluster = new Cluster({ replicas: [replica], preemptible: true, config: { batchSlotReserve: 0, batchLoadFloor: 1, batchPreemptMinRunMs: 2000 }, serviceMs: () => 10_000 });
    const batch = [cluster.submit(work({ tenantId: 'nightly', tier: 'batch' })), cluster.submit(work({ tenantId: 'nightly', tier: 'batch' }))];
    let user: Tracked | undefined;
    cluster.at(500, () => (user = cluster.submit(work({ tenantId: 'user', tier: 'standard', maxWaitMs: patient }))));
    cluster.run(1999);
    expect(user!.grantedAt).toBeUndefined();
    // Nothing completes at 2 s: the scheduler names the moment a victim becomes eligible.
    expect(cluster.scheduler.nextWakeAt()).toBe(2000);
    cluster.run(2000);
    cluster.scheduler.pump();
    expect(user!.grantedAt).toBe(2000);
    expect(batch.map((t) => t.preemptions).sort()).toEqual([0, 1]);
  });

  it('never preempts interactive work, nor batch work whose holder cannot run it again, nor when turned off', () => {
    for (const [name, options] of [
      ['interactive', { preemptible: true, tier: 'free' as const, config: {} }],
      ['no onPreempt', { preemptible: false, tier: 'batch' as const, config: {} }],
      ['off', { preemptible: true, tier: 'batch' as const, config: { batchPreemption: false } }],
    ] as const) {
      const replica = new FakeReplica('r1', 2);
      const cluster = new Cluster({ replicas: [replica], preemptible: options.preemptible, config: { batchSlotReserve: 0, batchLoadFloor: 1, ...options.config }, serviceMs: () => 10_000 });
      const held = [cluster.submit(work({ tenantId: 'first', tier: options.tier })), cluster.submit(work({ tenantId: 'first', tier: options.tier }))];
      let user: Tracked | undefined;
      cluster.at(5000, () => (user = cluster.submit(work({ tenantId: 'user', tier: 'priority', maxWaitMs: patient }))));
      cluster.run();
      expect(user!.grantedAt, name).toBe(10_000);
      expect(held.every((t) => t.preemptions === 0), name).toBe(true);
    }
  });

  it('frees KV held by batch work for an interactive prompt that does not fit beside it', () => {
    // Slots to spare, KV full: 3 batch lines hold 3 × (1000 + 100) of 4000 tokens.
    const replica = new FakeReplica('r1', 16, ['m'], 4000);
    const cluster = new Cluster({ replicas: [replica], preemptible: true, config: { priorOutputTokens: 100, kvSettleMs: 0, batchLoadFloor: 1 }, serviceMs: () => 10_000 });
    const batch = [0, 1, 2].map(() => cluster.submit(work({ tenantId: 'nightly', tier: 'batch', promptTokens: 1000, maxWaitMs: patient })));
    let user: Tracked | undefined;
    cluster.at(3000, () => (user = cluster.submit(work({ tenantId: 'user', tier: 'standard', promptTokens: 1500 }))));
    cluster.run(3000);
    expect(user!.grantedAt).toBe(3000);
    // 3300 + 1600 > 3800; one victim (1100) makes 2200 + 1600 ≤ 3800.
    expect(batch.reduce((sum, t) => sum + t.preemptions, 0)).toBe(1);
  });

  it('loads a replica with batch work no further than interactive work did at its recent peak', () => {
    const replica = new FakeReplica('r1', 10);
    const cluster = new Cluster({ replicas: [replica], preemptible: true, serviceMs: (item) => (item.tier === 'batch' ? 1e7 : 1000) });
    const preemptions = () => [...new Set(cluster.grants)].reduce((sum, t) => sum + t.preemptions, 0);
    for (let i = 0; i < 20; i++) cluster.submit(work({ tenantId: 'nightly', tier: 'batch', maxWaitMs: patient }));
    // No interactive work lately: batch fills all but the 10 % slot reserve.
    expect(replica.busy).toBe(9);
    const burst: Tracked[] = [];
    cluster.at(2000, () => {
      for (let i = 0; i < 8; i++) burst.push(cluster.submit(work({ tenantId: `user${i}`, tier: 'standard' })));
    });
    cluster.run(2000);
    // The burst starts at once: one free slot, and 7 batch lines preempted.
    expect(burst.every((t) => t.grantedAt === 2000)).toBe(true);
    expect(preemptions()).toBe(7);
    cluster.run(3000);
    // The burst is over; its peak (8 slots, decaying over minutes) is as far as batch may go now.
    expect(replica.busy).toBe(8);
    const next: Tracked[] = [];
    cluster.at(4000, () => {
      for (let i = 0; i < 2; i++) next.push(cluster.submit(work({ tenantId: `user${i}`, tier: 'standard' })));
    });
    cluster.run(4000);
    expect(next.every((t) => t.grantedAt === 4000)).toBe(true);
    expect(preemptions()).toBe(7);
    // Half an hour without interactive work: the peak has faded and batch fills the replica again.
    cluster.run(1_800_000);
    cluster.scheduler.pump();
    expect(replica.busy).toBe(9);
  });

  it('keeps batch to batchLoadFloor of a replica while interactive work there is light', () => {
    const replica = new FakeReplica('r1', 10);
    const cluster = new Cluster({ replicas: [replica], preemptible: true, serviceMs: (item) => (item.tier === 'batch' ? 1e7 : 100_000) });
    cluster.submit(work({ tenantId: 'user', tier: 'standard' }));
    for (let i = 0; i < 20; i++) cluster.submit(work({ tenantId: 'nightly', tier: 'batch', maxWaitMs: patient }));
    // One interactive request running: batch loads the replica to 0.4 of its slots.
    expect(replica.busy).toBe(4);
  });
});
