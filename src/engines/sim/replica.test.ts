import { describe, expect, it } from 'vitest';
import { gpuPresets, stepTimeMs } from './hardware.js';
import { SimReplica, type SimEvent } from './replica.js';
import type { SimRequest } from './sequence.js';

function request(id: string, promptTokens: number, outputTokens: number, shared?: { hash: string; tokens: number }): SimRequest {
  const prefix = shared ? [shared, { hash: `${id}-user`, tokens: promptTokens - shared.tokens }] : [{ hash: `${id}-user`, tokens: promptTokens }];
  return { id, prefix, outputTokens };
}

/** Runs the replica until it is idle; returns every event. */
function drain(replica: SimReplica, until = Number.POSITIVE_INFINITY): SimEvent[] {
  const events: SimEvent[] = [];
  for (let t = replica.nextEventTime(); t <= until && Number.isFinite(t); t = replica.nextEventTime()) {
    events.push(...replica.advance(t));
  }
  return events;
}

/** Output tokens/s while all `streams` decode together (between the last first token and the first finish). */
function decodeRate(streams: number): { tokensPerSecond: number; stepMs: number } {
  const replica = new SimReplica({ kvTokens: 2_000_000, slots: 512 });
  for (let i = 0; i < streams; i++) replica.enqueue(request(`r${i}`, 1000, 1000), 0);
  const events = drain(replica);
  const lastFirst = Math.max(...events.filter((e) => e.type === 'firstToken').map((e) => e.at));
  const firstFinish = Math.min(...events.filter((e) => e.type === 'finished').map((e) => e.at));
  const stepMs = (firstFinish - lastFirst) / 999;
  return { tokensPerSecond: (streams * 1000) / stepMs, stepMs };
}

describe('SimReplica timing (8B on one H100, contexts of 1–2k tokens)', () => {
  it('takes ≈ 8 ms per step for one stream', () => {
    expect(decodeRate(1).stepMs).toBeGreaterThan(7.5);
    expect(decodeRate(1).stepMs).toBeLessThan(8.5);
    expect(stepTimeMs(gpuPresets['8b-h100'], 1, 1000)).toBeCloseTo(8, 0);
  });

  it('delivers ≈ 5k output tokens/s at 64 streams and ≈ 10k at 256', () => {
    const at64 = decodeRate(64).tokensPerSecond;
    const at256 = decodeRate(256).tokensPerSecond;
    expect(at64).toBeGreaterThan(4500);
    expect(at64).toBeLessThan(5500);
    expect(at256).toBeGreaterThan(9000);
    expect(at256).toBeLessThan(11000);
  });

  it('is compute-bound on a full prefill chunk', () => {
    const gpu = gpuPresets['8b-h100'];
    const chunk = stepTimeMs(gpu, 8192, 8192);
    expect(chunk).toBeCloseTo(gpu.stepOverheadMs + (1000 * 2 * gpu.params * 8192) / gpu.flopsPerSecond, 6);
    expect(chunk).toBeGreaterThan(200);
  });

  it('splits a long prompt into chunks of the token budget and reports the first token after the last one', () => {
    const replica = new SimReplica({ tokenBudget: 2048 });
    replica.enqueue(request('long', 5000, 3), 0);
    const events = drain(replica);
    expect(replica.counters.steps).toBe(3 + 2);
    const first = events.find((e) => e.type === 'firstToken')!;
    const finished = events.find((e) => e.type === 'finished')!;
    expect(first.at).toBeGreaterThan(0);
    expect(finished).toMatchObject({ promptTokens: 5000, completionTokens: 3, cachedTokens: 0, computedTokens: 5002 });
  });
});

describe('SimReplica KV cache', () => {
  it('preempts the newest sequence when blocks run out, and still finishes everything', () => {
    const replica = new SimReplica({ kvTokens: 4096 });
    for (let i = 0; i < 8; i++) replica.enqueue(request(`r${i}`, 400, 400), i);
    const events = drain(replica);
    const preempted = events.filter((e) => e.type === 'preempted');
    expect(preempted.length).toBeGreaterThan(0);
    expect(replica.counters.preemptions).toBe(preempted.length);
    expect(replica.counters.recomputedTokens).toBeGreaterThan(0);
    // Newest first: the oldest request is never the victim.
    expect(preempted.some((e) => e.id === 'r0')).toBe(false);
    const finished = events.filter((e) => e.type === 'finished');
    expect(finished).toHaveLength(8);
    for (const e of finished) expect(e).toMatchObject({ completionTokens: 400, promptTokens: 400 });
    expect(replica.load()).toMatchObject({ busy: 0, kvUsed: 0 });
  });

  it('serves a shared system prompt from the prefix cache', () => {
    const replica = new SimReplica();
    const system = { hash: 'app-1-system', tokens: 1000 };
    replica.enqueue(request('a', 1100, 10, system), 0);
    drain(replica);
    replica.enqueue(request('b', 1200, 10, system), 60_000);
    const started = drain(replica).find((e) => e.type === 'started');
    expect(started).toMatchObject({ id: 'b', cachedTokens: 992 });
    expect(replica.counters.cachedTokens).toBe(992);
  });

  it("hits an earlier turn's answer when the next turn carries it as a segment", () => {
    const replica = new SimReplica();
    const turn1: SimRequest = { id: 't1', prefix: [{ hash: 's', tokens: 500 }, { hash: 's/u1', tokens: 100 }], outputTokens: 200, answerHash: 's/u1/a1' };
    replica.enqueue(turn1, 0);
    drain(replica);
    const turn2: SimRequest = { id: 't2', prefix: [...turn1.prefix, { hash: 's/u1/a1', tokens: 200 }, { hash: 's/u1/a1/u2', tokens: 50 }], outputTokens: 5 };
    replica.enqueue(turn2, 10_000);
    const started = drain(replica).find((e) => e.type === 'started');
    // 799 tokens have KV (the last sampled token never went through the model): 49 full blocks.
    expect(started).toMatchObject({ cachedTokens: 784 });
  });

  it('evicts the least recently used prefix when space is needed', () => {
    const replica = new SimReplica({ kvTokens: 4096 });
    replica.enqueue(request('old', 1000, 1, { hash: 'old-system', tokens: 960 }), 0);
    drain(replica);
    // 256 blocks; each request holds 63 while it runs, then leaves 62 cached.
    for (let i = 0; i < 5; i++) {
      replica.enqueue(request(`fill${i}`, 1000, 1, { hash: `system-${i}`, tokens: 960 }), 1000 * (i + 1));
      drain(replica);
    }
    replica.enqueue(request('again', 1000, 1, { hash: 'old-system', tokens: 960 }), 1e6);
    expect(drain(replica).find((e) => e.type === 'started')).toMatchObject({ cachedTokens: 0 });
    replica.enqueue(request('recent', 1000, 1, { hash: 'system-4', tokens: 960 }), 2e6);
    expect(drain(replica).find((e) => e.type === 'started')).toMatchObject({ cachedTokens: 960 });
  });
});

describe('SimReplica abort', () => {
  it('frees the KV at once and counts the work done as wasted', () => {
    const replica = new SimReplica();
    replica.enqueue(request('gone', 300, 100), 0);
    replica.enqueue(request('stays', 300, 100), 0);
    let decoded = 0;
    while (decoded < 10) {
      replica.advance(replica.nextEventTime());
      decoded = replica.generated('gone')!;
    }
    replica.nextEventTime(); // the next step starts: 'gone' has one decode token in flight
    const result = replica.abort('gone')!;
    // Prefill, ten samples (the last one's KV is not computed yet) and the step in flight.
    expect(result).toMatchObject({ promptTokens: 300, completionTokens: 10, computedTokens: 300 + 9 + 1 });
    expect(replica.counters).toMatchObject({ abortedRequests: 1, wastedTokens: 310 });
    const events = drain(replica);
    expect(events.filter((e) => e.id === 'gone')).toEqual([]);
    expect(events.find((e) => e.type === 'finished')).toMatchObject({ id: 'stays', completionTokens: 100 });
    expect(replica.load()).toMatchObject({ busy: 0, kvUsed: 0 });
    expect(replica.abort('gone')).toBeUndefined();
  });

  it('drops a request still waiting in the engine queue without work', () => {
    const replica = new SimReplica({ slots: 1 });
    replica.enqueue(request('running', 100, 50), 0);
    replica.enqueue(request('queued', 100, 50), 0);
    replica.advance(replica.nextEventTime());
    expect(replica.load()).toMatchObject({ slots: 1, busy: 2 });
    expect(replica.abort('queued')).toMatchObject({ computedTokens: 0, completionTokens: 0 });
  });
});

describe('SimReplica priority scheduling (vLLM --scheduling-policy priority)', () => {
  const prioritized = (id: string, promptTokens: number, outputTokens: number, priority: number): SimRequest => ({ ...request(id, promptTokens, outputTokens), priority });
  const startOrder = (events: SimEvent[]) => events.filter((e) => e.type === 'started').map((e) => e.id);

  it('admits waiting prompts by priority, then arrival; FCFS ignores priority', () => {
    for (const policy of ['fcfs', 'priority'] as const) {
      const replica = new SimReplica({ slots: 1, schedulingPolicy: policy });
      replica.enqueue(prioritized('first', 100, 5, 3), 0);
      replica.nextEventTime(); // 'first' is admitted in the step that starts now
      replica.enqueue(prioritized('batch', 100, 5, 3), 0);
      replica.enqueue(prioritized('interactive', 100, 5, 1), 0);
      replica.enqueue(prioritized('interactive2', 100, 5, 1), 0);
      const order = startOrder(drain(replica));
      expect(order).toEqual(policy === 'fcfs' ? ['first', 'batch', 'interactive', 'interactive2'] : ['first', 'interactive', 'interactive2', 'batch']);
    }
  });

  it("gives the step's token budget to the better priority first", () => {
    const replica = new SimReplica({ tokenBudget: 1000, schedulingPolicy: 'priority' });
    replica.enqueue(prioritized('batch', 900, 5, 3), 0);
    replica.enqueue(prioritized('interactive', 900, 5, 1), 0);
    const events = drain(replica);
    const first = (id: string) => events.find((e) => e.type === 'firstToken' && e.id === id)!.at;
    // The interactive prompt fills the first step; the batch prompt's chunk shares it, its rest comes next.
    expect(first('interactive')).toBeLessThan(first('batch'));
    expect(replica.counters.steps).toBeGreaterThan(0);
  });

  it('preempts the worst priority when KV runs short, not the newest', () => {
    const replica = new SimReplica({ kvTokens: 4096, schedulingPolicy: 'priority' });
    replica.enqueue(prioritized('batch', 400, 400, 3), 0);
    for (let i = 0; i < 7; i++) replica.enqueue(prioritized(`i${i}`, 400, 400, 1), 0);
    const events = drain(replica);
    const preempted = events.filter((e) => e.type === 'preempted').map((e) => e.id);
    expect(preempted[0]).toBe('batch');
    expect(events.filter((e) => e.type === 'finished')).toHaveLength(8);
    expect(replica.load()).toMatchObject({ busy: 0, kvUsed: 0 });
  });

  it('caps background prefill per step when asked, so a prompt arriving mid-step waits less', () => {
    const run = (capped: boolean) => {
      const replica = new SimReplica({ schedulingPolicy: 'priority', ...(capped ? { backgroundPrefill: { fromPriority: 3, tokensPerStep: 256 } } : {}) });
      replica.enqueue(prioritized('batch', 6000, 5, 3), 0);
      replica.nextEventTime(); // the batch prompt's first step starts
      replica.enqueue(prioritized('interactive', 500, 5, 1), 1);
      const events = drain(replica);
      const first = (id: string) => events.find((e) => e.type === 'firstToken' && e.id === id)!.at;
      return { interactive: first('interactive'), batch: first('batch'), steps: replica.counters.steps };
    };
    const capped = run(true);
    const uncapped = run(false);
    // Uncapped, the interactive prompt waits for a step computing 6,000 prompt tokens (≈ 200 ms).
    expect(capped.interactive).toBeLessThan(uncapped.interactive / 3);
    // The batch prompt still finishes its prefill, 256 tokens a step.
    expect(capped.batch).toBeGreaterThan(uncapped.batch);
    expect(capped.steps).toBeGreaterThanOrEqual(6000 / 256);
  });

  it('computes no background prefill beside a better prefill when exclusive', () => {
    const replica = new SimReplica({ schedulingPolicy: 'priority', backgroundPrefill: { fromPriority: 3, tokensPerStep: 4096, exclusive: true } });
    replica.enqueue(prioritized('interactive', 3000, 5, 1), 0);
    replica.enqueue(prioritized('batch', 3000, 5, 3), 0);
    replica.nextEventTime();
    // The first step computes the interactive prompt alone; the batch prompt starts in the next.
    expect(replica.advance(replica.nextEventTime()).filter((e) => e.type === 'started').map((e) => e.id)).toEqual(['interactive']);
    expect(replica.counters.tokensComputed).toBe(3000);
    const events = drain(replica);
    expect(events.filter((e) => e.type === 'finished')).toHaveLength(2);
  });

  it('pauses background decodes too in a step with a better prefill, when asked', () => {
    const replica = new SimReplica({ schedulingPolicy: 'priority', backgroundPrefill: { fromPriority: 3, tokensPerStep: 4096, exclusive: true, pauseDecodes: true } });
    replica.enqueue(prioritized('batch', 100, 50, 3), 0);
    drain(replica, 50); // the batch sequence is decoding
    replica.enqueue(prioritized('interactive', 2000, 5, 1), 50);
    replica.advance(replica.nextEventTime()); // the step planned before the interactive prompt came
    const before = replica.generated('batch')!;
    expect(before).toBeGreaterThan(0);
    replica.advance(replica.nextEventTime());
    // The step carried the interactive prompt alone: the batch sequence sampled nothing.
    expect(replica.generated('batch')).toBe(before);
    expect(drain(replica).filter((e) => e.type === 'finished')).toHaveLength(2);
  });
});
