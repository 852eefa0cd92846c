import { describe, expect, it } from 'vitest';
import { Cluster, FakeReplica, work } from './fake-cluster.test-helper.js';
import { ForwardEta } from './forward-eta.js';
import { DurationSample, GrantTimeline, type SimReplica } from './grant-sim.js';
import type { SkylarkScheduler } from './skylark-scheduler.js';

/** Survival on a 100 ms grid of grants that all last `ms`. */
function always(ms: number): Float64Array {
  const sample = new DurationSample(100);
  sample.add(ms);
  return sample.survival();
}

const timeline = (replicas: SimReplica[], need: number, survival: Float64Array, maxSteps = 100): GrantTimeline =>
  new GrantTimeline({ stepMs: 100, maxSteps, maxWork: 1e6, replicas, need, survival });

describe('duration sample', () => {
  it('is the share of durations longer than each step of the grid, ending at 0', () => {
    const sample = new DurationSample(100);
    for (const ms of [100, 200, 300]) sample.add(ms);
    expect([...sample.survival()]).toEqual([1, 2 / 3, 1 / 3, 0, 0]);
  });

  it('keeps only the last `size` durations', () => {
    const sample = new DurationSample(100, 2);
    for (const ms of [900, 100, 100]) sample.add(ms);
    expect([...sample.survival()]).toEqual([1, 0, 0]);
  });
});

describe('grant timeline', () => {
  it('grants as running sequences end, in the order their age leaves them, and what it grants ends in turn', () => {
    // Every grant lasts 500 ms: the one 300 ms old ends in 200 ms, the one 100 ms old in 400 ms.
    const survival = always(500);
    const line = timeline([{ slotsFree: 0, kvRoom: Number.POSITIVE_INFINITY, running: [{ ageMs: 100, kv: 0, survival }, { ageMs: 300, kv: 0, survival }] }], 1, survival);
    expect(line.grantAt(1)).toBe(200);
    expect(line.grantAt(2)).toBe(400);
    // The first grant it made (at 200 ms) ends 500 ms later.
    expect(line.grantAt(3)).toBe(700);
  });

  it('waits until completions free the KV a grant needs, then grants several at once', () => {
    const survival = always(500);
    const running = [
      { ageMs: 300, kv: 40, survival },
      { ageMs: 200, kv: 40, survival },
      { ageMs: 100, kv: 250, survival },
    ];
    const line = timeline([{ slotsFree: 10, kvRoom: 30, running }], 100, survival);
    // 30 + 40 at 200 ms is short of 100; + 40 at 300 ms fits one; + 250 at 400 ms fits 2 more (and 60 left).
    expect([line.grantAt(1), line.grantAt(2), line.grantAt(3), line.grantAt(4)]).toEqual([300, 400, 400, 800]);
  });

  it('frees slots in expectation when durations vary', () => {
    // Half the grants last 100 ms, half 300 ms: of four new ones, two end in the first step.
    const sample = new DurationSample(100);
    for (const ms of [50, 50, 250, 250]) sample.add(ms);
    const survival = sample.survival();
    const running = Array.from({ length: 4 }, () => ({ ageMs: 0, kv: 0, survival }));
    const line = timeline([{ slotsFree: 0, kvRoom: Number.POSITIVE_INFINITY, running }], 0, survival);
    expect(line.grantAt(1)).toBe(100);
    expect(line.grantAt(2)).toBe(100);
    // A sequence older than every duration measured ends in the first step.
    const old = timeline([{ slotsFree: 0, kvRoom: Number.POSITIVE_INFINITY, running: [{ ageMs: 5_000, kv: 0, survival }] }], 0, survival);
    expect(old.grantAt(1)).toBe(100);
  });

  it('grants on whichever replica frees room, and answers undefined beyond its horizon', () => {
    const survival = always(500);
    const line = timeline(
      [
        { slotsFree: 0, kvRoom: 0, running: [{ ageMs: 0, kv: 10, survival }] },
        { slotsFree: 0, kvRoom: 0, running: [{ ageMs: 200, kv: 10, survival }] },
      ],
      10,
      survival,
      6,
    );
    expect(line.grantAt(1)).toBe(300);
    expect(line.grantAt(2)).toBe(500);
    expect(line.grantAt(3)).toBeUndefined();
  });
});

describe('forward ETA', () => {
  const replicas = () => [{ slotsFree: 0, kvRoom: Number.POSITIVE_INFINITY, running: Array.from({ length: 4 }, (_, i) => ({ grantedAt: -100 * i, kv: 0, tier: 'standard' as const })) }];

  it('says nothing until it has measured durations and grants', () => {
    const forward = new ForwardEta(0.05);
    expect(forward.estimate('m', { tier: 'standard', tenantId: 'a', needKv: 0 }, 0, 100, 0, replicas)).toBeUndefined();
  });

  it('counts the grants ahead, the measured overtakers over the expected wait, and the request’s own KV', () => {
    const forward = new ForwardEta(0.05);
    for (let i = 0; i < 20; i++) {
      forward.granted('m', 100);
      forward.ended('m', 'standard', 1000);
    }
    const item = { tier: 'standard' as const, tenantId: 'a', needKv: 100 };
    // Running grants 0, 100, 200, 300 ms old end in 1000, 900, 800, 700 ms.
    expect(forward.estimate('m', item, 0, 500, 1, replicas)).toBe(700);
    expect(forward.estimate('m', item, 2, 500, 2, replicas)).toBe(900);
    // A request twice the mean's KV needs the room of two.
    expect(forward.estimate('m', { ...item, needKv: 200 }, 0, 500, 3, replicas)).toBe(800);
    // Standard requests saw one grant beyond those ahead per 250 ms they waited: over 500 ms, two.
    for (let i = 0; i < 10; i++) forward.waited('m', 'standard', 'b', 3, 5, 500);
    expect(forward.estimate('m', item, 0, 500, 4, replicas)).toBe(900);
  });
});

describe('forward ETA in the scheduler (fake clock)', () => {
  const exact = { priorServiceMs: 1000, priorFirstTokenMs: 0, priorOutputTokens: 100, priorDurationCv: 0 };

  function toldForward(forwardEta: 'off' | 'measure'): Array<{ forwardMs: number | undefined; waited: number }> {
    const cluster = new Cluster({ replicas: [new FakeReplica('r1', 2)], config: { ...exact, forwardEta } });
    for (let i = 0; i < 20; i++) cluster.submit(work({ tenantId: `w${i}`, maxWaitMs: 1e9 }));
    cluster.run();
    const tracked = Array.from({ length: 6 }, (_, i) => cluster.submit(work({ tenantId: `t${i}`, maxWaitMs: 1e9 })));
    const told = tracked.map((t) => (cluster.scheduler as SkylarkScheduler).toldOnArrival(t.item.requestId));
    cluster.run();
    return tracked.slice(2).map((t, i) => ({ forwardMs: told[i + 2]?.forwardMs, waited: t.grantedAt! - t.submittedAt }));
  }

  it('is measured beside the ETA shown and, with constant service times, predicts each wait', () => {
    const told = toldForward('measure');
    expect(told.map((t) => t.waited)).toEqual([1000, 1000, 2000, 2000]);
    for (const t of told) expect(t.forwardMs).toBe(t.waited);
  });

  it('costs nothing when off', () => {
    for (const t of toldForward('off')) expect(t.forwardMs).toBeUndefined();
  });
});
