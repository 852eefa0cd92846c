import { describe, expect, it } from 'vitest';
import { Cluster, FakeReplica, work, type Tracked } from './fake-cluster.test-helper.js';
import type { Tier } from './types.js';

const patient = 1e9;

describe('tiers', () => {
  it('shares a contended replica 16:4:2 between priority, standard and free', () => {
    const cluster = new Cluster({ replicas: [new FakeReplica('r1', 1)], serviceMs: () => 100 });
    for (const tier of ['priority', 'standard', 'free'] as const) {
      for (let i = 0; i < 140; i++) cluster.submit(work({ tenantId: tier, tier, maxWaitMs: patient }));
    }
    cluster.run();
    // The first grant went at submit time, before the other tiers were queued; 154 = 7 × 22.
    const contended = cluster.grants.slice(1, 155);
    const share = (tier: Tier) => contended.filter((g) => g.item.tier === tier).length;
    expect(share('priority')).toBeGreaterThanOrEqual(110);
    expect(share('priority')).toBeLessThanOrEqual(114);
    expect(share('standard')).toBeGreaterThanOrEqual(26);
    expect(share('standard')).toBeLessThanOrEqual(30);
    expect(share('free')).toBeGreaterThanOrEqual(12);
    expect(share('free')).toBeLessThanOrEqual(16);
  });

  it('serves a priority request arriving into a standard backlog at the next free slot', () => {
    const cluster = new Cluster({ replicas: [new FakeReplica('r1', 2)] });
    for (let i = 0; i < 20; i++) cluster.submit(work({ tenantId: 's', maxWaitMs: patient }));
    let urgent: Tracked | undefined;
    cluster.at(1500, () => (urgent = cluster.submit(work({ tenantId: 'p', tier: 'priority' }))));
    cluster.run();
    expect(urgent!.grantedAt).toBe(2000);
  });

  it('starves no tier under sustained priority overload: free gets its share, batch ages in', () => {
    // The scheduler knows the 1 s service time: a cold prior (4 s) would refuse the first free request.
    const cluster = new Cluster({ replicas: [new FakeReplica('r1', 1)], config: { maxQueuedPerTenant: 100_000, priorServiceMs: 1000 } });
    // Priority alone asks for 1.5× the replica, for ten minutes.
    for (let t = 0; t < 600_000; t += 2000) {
      cluster.at(t, () => {
        for (let i = 0; i < 3; i++) cluster.submit(work({ tenantId: 'paying', tier: 'priority', maxWaitMs: patient }));
      });
    }
    const free: Tracked[] = [];
    for (let t = 1000; t < 600_000; t += 20_000) cluster.at(t, () => free.push(cluster.submit(work({ tenantId: 'consumer', tier: 'free' }))));
    let batch: Tracked | undefined;
    cluster.at(500, () => (batch = cluster.submit(work({ tenantId: 'nightly', tier: 'batch' }))));
    cluster.run(700_000);
    expect(free.every((t) => t.rejected === undefined)).toBe(true);
    for (const t of free) expect(t.grantedAt! - t.submittedAt).toBeLessThanOrEqual(2000);
    // Batch runs only on idle capacity, and there was none: it waits until aging
    // (0.75 of its 10-minute deadline) puts it first, and no longer.
    expect(batch!.rejected).toBeUndefined();
    const batchWait = batch!.grantedAt! - batch!.submittedAt;
    expect(batchWait).toBeGreaterThanOrEqual(450_000);
    expect(batchWait).toBeLessThanOrEqual(451_000);
  });

  it('runs batch on idle capacity only, keeping a reserve of slots for interactive work', () => {
    const replica = new FakeReplica('r1', 10);
    // batchLoadFloor 1: no interactive peak caps batch (preemption.test.ts covers that).
    const cluster = new Cluster({ replicas: [replica], config: { priorServiceMs: 1000, batchLoadFloor: 1 } });
    for (let i = 0; i < 30; i++) cluster.submit(work({ tenantId: 'nightly', tier: 'batch' }));
    // 10% of the slots stay free of batch work.
    expect(replica.busy).toBe(9);
    const first = cluster.submit(work({ tenantId: 'user', tier: 'standard' }));
    expect(first.grantedAt).toBe(0);
    const interactive: Tracked[] = [];
    for (let i = 0; i < 12; i++) interactive.push(cluster.submit(work({ tenantId: `user${i}`, tier: 'free' })));
    cluster.run();
    const lastInteractive = Math.max(...interactive.map((t) => t.grantedAt!));
    const batchGrantsBefore = cluster.grants.filter((g) => g.item.tier === 'batch' && g.grantedAt! > 0 && g.grantedAt! <= lastInteractive);
    // At t=1000 ten slots free: the 12 waiting interactive requests take them all; batch resumes after.
    expect(lastInteractive).toBe(2000);
    expect(batchGrantsBefore.every((g) => g.grantedAt === lastInteractive)).toBe(true);
    expect(cluster.waiting()).toHaveLength(0);
  });

  it('lets aged batch work use the reserved slots too', () => {
    const replica = new FakeReplica('r1', 10);
    const cluster = new Cluster({ replicas: [replica], config: { tierMaxWaitMs: { batch: 2000 }, batchLoadFloor: 1 }, serviceMs: () => 10_000 });
    for (let i = 0; i < 10; i++) cluster.submit(work({ tenantId: 'nightly', tier: 'batch', maxWaitMs: patient }));
    expect(replica.busy).toBe(9);
    const aged = cluster.submit(work({ tenantId: 'nightly2', tier: 'batch' }));
    // Nothing completes before it ages: the owner's loop pumps at the moment it names.
    expect(aged.rejected).toBeUndefined();
    expect(cluster.scheduler.nextWakeAt()).toBe(1500);
    cluster.run(1500);
    cluster.scheduler.pump();
    expect(aged.grantedAt).toBe(1500);
    expect(replica.busy).toBe(10);
  });
});
