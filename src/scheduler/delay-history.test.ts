import { describe, expect, it } from 'vitest';
import { DelayHistory } from './delay-history.js';
import { Cluster, FakeReplica, seeded, work, type Tracked } from './fake-cluster.test-helper.js';

const exact = { priorServiceMs: 1000, priorFirstTokenMs: 0, priorOutputTokens: 100, priorDurationCv: 0 };

describe('delay history', () => {
  it('estimates from the waits of the requests of the same tier that started last, scaled to the place in line', () => {
    const history = new DelayHistory();
    expect(history.estimate('standard', 3)).toBeUndefined();
    history.learn('standard', { position: 1, pacedMs: 100, historyMs: undefined, etaMs: 100 }, 400);
    history.learn('standard', { position: 4, pacedMs: 100, historyMs: undefined, etaMs: 100 }, 800);
    // (400 · √(4/1) + 800 · √(4/4)) / 2
    expect(history.estimate('standard', 4)).toBe(800);
    expect(history.estimate('priority', 4)).toBeUndefined();
  });

  it('keeps the paced estimate while the history has no measured errors, then weighs each by its errors', () => {
    const history = new DelayHistory();
    expect(history.tell('free', 2, 500)).toEqual({ position: 2, pacedMs: 500, historyMs: undefined, etaMs: 500 });
    // The paced estimate is always 2× off, the history exact: the history takes the weight.
    for (let i = 0; i < 20; i++) history.learn('free', { position: 2, pacedMs: 500, historyMs: 1000, etaMs: 500 }, 1000);
    const told = history.tell('free', 2, 500);
    expect(told.historyMs).toBe(1000);
    expect(told.etaMs).toBeCloseTo(1000, 6);
  });

  it('weighs the forward simulation as a third voice only when asked to, by its errors like the others', () => {
    const history = new DelayHistory();
    // Paced 2× off, history 1.5× off, forward exact.
    for (let i = 0; i < 20; i++) history.learn('free', { position: 2, pacedMs: 500, historyMs: 1500, forwardMs: 1000, etaMs: 500 }, 1000);
    expect(history.tell('free', 2, 500, 1000).etaMs).toBeCloseTo(1000, 6);
    const without = history.tell('free', 2, 500, 1000, false);
    expect(without.forwardMs).toBe(1000);
    expect(without.etaMs).toBeGreaterThan(500);
    expect(without.etaMs).toBeLessThan(1500);
    expect(without.etaMs).not.toBeCloseTo(1000, 0);
  });

  it('shows a range from the spread of recent actual-to-told ratios, and none while they agree', () => {
    const agreeing = new DelayHistory();
    for (let i = 0; i < 30; i++) agreeing.learn('standard', { position: 1, pacedMs: 1000, historyMs: 1000, etaMs: 1000 }, 1000);
    expect(agreeing.tell('standard', 1, 1000).etaMs).toBeCloseTo(1000, 6);
    expect(agreeing.tell('standard', 1, 1000).highMs).toBeUndefined();

    const scattered = new DelayHistory();
    const waits = [250, 500, 1000, 2000, 4000];
    for (let i = 0; i < 30; i++) scattered.learn('standard', { position: 1, pacedMs: 1000, historyMs: undefined, etaMs: 1000 }, waits[i % waits.length]!);
    expect(scattered.tell('priority', 1, 1000).highMs).toBeUndefined();
    const told = scattered.tell('standard', 1, 1000);
    expect(told.lowMs).toBeLessThanOrEqual(told.etaMs);
    expect(told.highMs).toBeGreaterThanOrEqual(told.etaMs);
    // The 10th and 90th percentiles of the ratios (offset by 20 ms), applied to the point.
    expect(told.lowMs).toBe(Math.round(1020 * (270 / 1020) - 20));
    expect(told.highMs).toBe(Math.round(1020 * (4020 / 1020) - 20));
  });
});

describe('ETA range in the scheduler (fake clock)', () => {
  it('reports no range when waits are exactly predictable', () => {
    const cluster = new Cluster({ replicas: [new FakeReplica('r1', 2)], config: exact });
    const tracked = Array.from({ length: 60 }, (_, i) => cluster.submit(work({ tenantId: `t${i}`, maxWaitMs: 1e9 })));
    cluster.run();
    for (const t of tracked) for (const p of t.progress) expect(p.etaHighMs).toBeUndefined();
    expect(tracked.at(-1)!.grantedAt! - tracked.at(-1)!.submittedAt).toBe(tracked.at(-1)!.etaAtSubmit);
  });

  it('reports a range containing the point when service times vary, and most waits end within its high end', () => {
    const random = seeded(7);
    const exponential = (mean: number) => -Math.log(1 - random()) * mean;
    const cluster = new Cluster({ replicas: [new FakeReplica('r1', 8)], serviceMs: () => exponential(1000), config: { tierMaxWaitMs: { standard: 60_000 } } });
    let t = 0;
    const tracked: Tracked[] = [];
    for (let i = 0; i < 3000; i++) {
      t += exponential(1000 / 7.5);
      cluster.at(t, () => tracked.push(cluster.submit(work({ tenantId: `t${i % 7}` }))));
    }
    cluster.run();
    const ranged = tracked.filter((x) => x.progress[0]?.etaHighMs !== undefined && x.grantedAt !== undefined);
    expect(ranged.length).toBeGreaterThan(500);
    for (const x of ranged) {
      const first = x.progress[0]!;
      expect(first.etaLowMs!).toBeLessThanOrEqual(first.etaMs);
      expect(first.etaHighMs!).toBeGreaterThanOrEqual(first.etaMs);
    }
    const within = ranged.filter((x) => x.grantedAt! - x.submittedAt <= x.progress[0]!.etaHighMs!).length / ranged.length;
    const withinPoint = ranged.filter((x) => x.grantedAt! - x.submittedAt <= x.progress[0]!.etaMs).length / ranged.length;
    expect(within).toBeGreaterThan(0.75);
    expect(within).toBeGreaterThan(withinPoint);
  });
});
