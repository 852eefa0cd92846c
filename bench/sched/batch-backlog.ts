/**
 * bench:sched --batch — what a batch backlog costs interactive traffic and what it earns.
 * The real scheduler (skylark policy) in virtual time in front of 4 simulated replicas
 * (8B on one H100 each). Interactive single-turn requests arrive as a Poisson process
 * whose rate follows a daily curve (trough at 20 % of the peak, the peak at 90 % of the
 * measured interactive capacity), over one compressed "day". Beside them, two tenants'
 * batch backlog is fed the way src/batch/batch-runner.ts feeds it: `concurrency` lines in
 * the scheduler's batch tier at a time, the next one submitted when one ends, a refused
 * one tried again a second later, a preempted one (the scheduler gave its place to an
 * interactive request: preemption.ts) submitted again at once. A preempted line loses what
 * it had computed — the simulated engine aborts it and frees its KV — and starts over; only
 * the prompt blocks still in the engine's prefix cache are not computed again. Each run is
 * done with and without the backlog, same seed.
 *
 * Idle capacity is measured in each mix's own currency: interactive tokens/s over the
 * interactive mix's saturated tokens/s is the share interactive traffic uses; batch
 * tokens/s over the batch mix's saturated tokens/s is the share batch takes; batch use of
 * idle capacity = batch share / (1 − interactive share).
 */
import type { Clock } from '../../src/core/clock.js';
import { isSkylarkError } from '../../src/core/errors.js';
import { SimReplica, type SimEvent, type SimReplicaOptions } from '../../src/engines/sim/index.js';
import { createScheduler, type SchedulerConfigOverrides } from '../../src/scheduler/index.js';
import { tiers, type ReplicaHandle, type Tier } from '../../src/scheduler/types.js';
import { EventHeap } from './heap.js';
import { percentile, slo } from './metrics.js';
import { economics } from './report.js';
import { exponential, lognormal, substream, type Random } from './random.js';

const replicas = 4;
const model = 'sim-8b';
const interactiveTimeoutMs = 30_000;
const retryMs = 1000;
const drainMs = 60_000;

export interface BacklogJob {
  seed: number;
  /** Peak interactive rate, requests/s (0: none). */
  peakRps: number;
  durationMs: number;
  /** Batch lines kept in the scheduler at once (0: no batch). */
  batchConcurrency: number;
  /** Saturation run of one mix: arrivals far above capacity, no give-ups. */
  saturate?: 'interactive' | 'batch';
  schedulerConfig?: SchedulerConfigOverrides;
  /** The engines' scheduling (vLLM's --scheduling-policy); each request's priority is its tier's place in `tiers`, as the gateway sends it. */
  engine?: Pick<SimReplicaOptions, 'schedulingPolicy' | 'backgroundPrefill' | 'longPrefillTokenThreshold'>;
}

export interface BacklogMetrics {
  interactiveDone: number;
  ttftP50: number;
  ttftP99: number;
  sloAttainment: number;
  interactiveTokensPerS: number;
  interactiveRps: number;
  batchTokensPerS: number;
  batchLinesPerS: number;
  /** Revenue per replica-hour, yuan: interactive at list price, batch at 50 % off. */
  revenuePerGpuHour: number;
  /** Batch sequences preempted per second, and the tokens they had computed that were thrown away (per second). */
  preemptionsPerS: number;
  wastedBatchTokensPerS: number;
  /** Sequences the simulated engines preempted themselves (KV ran out), per second. */
  enginePreemptionsPerS: number;
  /** Interactive wait in the scheduler (arrival to grant), p99, ms. */
  queueP99: number;
}

interface Req {
  id: string;
  tier: Tier;
  tenant: string;
  arrival: number;
  promptTokens: number;
  outputTokens: number;
  state: 'waiting' | 'granted' | 'done' | 'gone';
  replica: number;
  grantedAt: number;
  firstTokenAt: number;
  finishedAt: number;
}

class VirtualClock implements Clock {
  time = 0;
  now = (): number => this.time;
  wallNow = (): Date => new Date(Date.UTC(2026, 0, 1) + this.time);
}

type Event = { kind: 'step'; replica: number; at: number } | { kind: 'arrival' } | { kind: 'batch' } | { kind: 'again'; req: Req } | { kind: 'timeout'; req: Req } | { kind: 'wake'; at: number };

/** The daily curve: 20 % of the peak at night, the peak mid-"day". */
const dailyShare = (t: number, durationMs: number): number => 0.6 - 0.4 * Math.cos((2 * Math.PI * t) / durationMs);

export function runBacklog(job: BacklogJob): BacklogMetrics {
  const clock = new VirtualClock();
  const sims = Array.from({ length: replicas }, () => new SimReplica(job.engine ?? {}));
  const handles: ReplicaHandle[] = sims.map((sim, i) => ({ id: `gpu${i}`, models: [model], load: () => sim.load() }));
  const scheduler = createScheduler({ clock, replicas: handles, policy: 'skylark', ...(job.schedulerConfig ? { config: job.schedulerConfig } : {}) });
  const heap = new EventHeap<Event>();
  const stepAt = sims.map(() => Number.POSITIVE_INFINITY);
  const dirty = new Set<number>();
  const live = new Map<string, Req>();
  const finished: Req[] = [];
  const arrivals = substream(job.seed, 'backlog-arrivals');
  const lengths = substream(job.seed, 'backlog-lengths');
  const batchLengths = substream(job.seed, 'backlog-batch');
  let counter = 0;
  let interactiveArrivals = 0;
  let wakeAt: number | undefined;
  let preemptions = 0;
  let wastedBatchTokens = 0;

  const newReq = (tier: Tier, random: Random): Req => {
    const batch = tier === 'batch';
    return {
      id: `r${counter++}`,
      tier,
      tenant: batch ? `b${counter % 2}` : `t${counter % 10}`,
      arrival: clock.time,
      promptTokens: lognormal(random, batch ? 800 : 600, 0.8, 16, 6000),
      outputTokens: lognormal(random, batch ? 400 : 200, 0.7, 8, 1024),
      state: 'waiting', replica: -1, grantedAt: NaN, firstTokenAt: NaN, finishedAt: NaN,
    };
  };

  /** true when the scheduler took it; false when refused for now. */
  const submit = (req: Req): boolean => {
    live.set(req.id, req);
    try {
      scheduler.submit(
        { requestId: req.id, tenantId: req.tenant, tier: req.tier, model, promptTokens: req.promptTokens, maxOutputTokens: 1024, prefix: [{ hash: req.id, tokens: req.promptTokens }] },
        {
          onGrant: (grant) => {
            const index = Number(grant.replicaId.slice(3));
            req.state = 'granted';
            req.replica = index;
            req.grantedAt = clock.time;
            sims[index]!.enqueue({ id: req.id, prefix: [{ hash: req.id, tokens: req.promptTokens }], outputTokens: req.outputTokens, answerHash: `${req.id}a`, priority: tiers.indexOf(req.tier) }, clock.time);
            dirty.add(index);
          },
          // As the gateway does for a batch line: stop the generation (the engine frees its
          // KV; its work is lost) and let the runner submit the line again.
          ...(req.tier === 'batch'
            ? {
                onPreempt: () => {
                  const aborted = sims[req.replica]!.abort(req.id);
                  dirty.add(req.replica);
                  preemptions++;
                  if (clock.time < job.durationMs) wastedBatchTokens += aborted?.computedTokens ?? 0;
                  req.state = 'waiting';
                  req.replica = -1;
                  req.firstTokenAt = NaN;
                  live.delete(req.id);
                  heap.push(clock.time, { kind: 'again', req });
                },
              }
            : {}),
        },
      );
      return true;
    } catch (error) {
      if (!isSkylarkError(error) || error.code !== 'server_overloaded') throw error;
      live.delete(req.id);
      return false;
    }
  };

  const nextArrival = (): void => {
    if (job.peakRps <= 0) return;
    // Thinning: candidates at the peak rate, each kept with the curve's share.
    let t = clock.time;
    for (;;) {
      t += exponential(arrivals, 1000 / job.peakRps);
      if (t >= job.durationMs) return;
      if (job.saturate === 'interactive' || arrivals() < dailyShare(t, job.durationMs)) break;
    }
    heap.push(t, { kind: 'arrival' });
  };

  const feedBatch = (): void => {
    const req = newReq('batch', batchLengths);
    if (!submit(req)) heap.push(clock.time + retryMs, { kind: 'batch' });
  };

  const onSim = (event: SimEvent): void => {
    const req = live.get(event.id);
    if (!req) return;
    if (event.type === 'firstToken') req.firstTokenAt = event.at;
    if (event.type !== 'finished') return;
    req.state = 'done';
    req.finishedAt = event.at;
    live.delete(req.id);
    finished.push(req);
    scheduler.complete(req.id, { ok: true, promptTokens: event.promptTokens, cachedTokens: event.cachedTokens, completionTokens: event.completionTokens, firstTokenMs: req.firstTokenAt - req.arrival });
    if (req.tier === 'batch' && clock.time < job.durationMs) feedBatch();
  };

  nextArrival();
  const batchLines = job.saturate === 'batch' ? 4096 : job.batchConcurrency;
  for (let i = 0; i < batchLines; i++) feedBatch();
  while (heap.size > 0) {
    clock.time = heap.peekTime();
    // Arrivals end at durationMs; what is running then gets a minute to finish, for its latency.
    if (clock.time >= job.durationMs + drainMs) break;
    const event = heap.pop()!;
    if (event.kind === 'arrival') {
      const req = newReq('standard', lengths);
      interactiveArrivals++;
      if (submit(req) && job.saturate !== 'interactive') heap.push(clock.time + interactiveTimeoutMs, { kind: 'timeout', req });
      nextArrival();
    } else if (event.kind === 'batch') {
      feedBatch();
    } else if (event.kind === 'again') {
      if (!submit(event.req)) heap.push(clock.time + retryMs, { kind: 'again', req: event.req });
    } else if (event.kind === 'timeout') {
      const { req } = event;
      if (req.state === 'waiting' || (req.state === 'granted' && Number.isNaN(req.firstTokenAt))) {
        if (req.state === 'granted') {
          sims[req.replica]!.abort(req.id);
          dirty.add(req.replica);
        }
        req.state = 'gone';
        live.delete(req.id);
        scheduler.cancel(req.id);
      }
    } else if (event.kind === 'wake') {
      if (event.at === wakeAt) scheduler.pump();
    } else if (event.at === stepAt[event.replica]) {
      stepAt[event.replica] = Number.POSITIVE_INFINITY;
      dirty.add(event.replica);
      for (const simEvent of sims[event.replica]!.advance(event.at)) onSim(simEvent);
      scheduler.pump();
    }
    const wake = scheduler.nextWakeAt();
    if (wake !== undefined && wake !== wakeAt && wake > clock.time) heap.push(wake, { kind: 'wake', at: wake });
    wakeAt = wake;
    for (const i of dirty) {
      const next = sims[i]!.nextEventTime();
      if (next !== stepAt[i]) {
        stepAt[i] = next;
        if (Number.isFinite(next)) heap.push(next, { kind: 'step', replica: i, at: next });
      }
    }
    dirty.clear();
  }

  const seconds = job.durationMs / 1000;
  const inWindow = (r: Req) => r.finishedAt < job.durationMs;
  const interactiveAll = finished.filter((r) => r.tier !== 'batch');
  const interactive = interactiveAll.filter(inWindow);
  const batch = finished.filter((r) => r.tier === 'batch' && inWindow(r));
  // Interactive requests that did not finish (refused, gave up) count as infinitely late.
  const interactiveArrived = interactiveArrivals;
  const ttfts = interactiveAll.map((r) => r.firstTokenAt - r.arrival);
  while (ttfts.length < interactiveArrived) ttfts.push(Number.POSITIVE_INFINITY);
  const meets = interactiveAll.filter((r) => {
    const tpot = r.outputTokens > 1 ? (r.finishedAt - r.firstTokenAt) / (r.outputTokens - 1) : 0;
    return r.firstTokenAt - r.arrival <= slo.ttftMs && tpot <= slo.tpotMs;
  }).length;
  const tokens = (list: Req[]) => list.reduce((sum, r) => sum + r.promptTokens + r.outputTokens, 0);
  const yuan = (list: Req[]) =>
    list.reduce((sum, r) => sum + (r.promptTokens * economics.inputYuanPerMillion + r.outputTokens * economics.outputYuanPerMillion) / 1e6, 0);
  return {
    interactiveDone: interactiveAll.length,
    ttftP50: percentile(ttfts, 50),
    ttftP99: percentile(ttfts, 99),
    sloAttainment: interactiveArrived === 0 ? Number.NaN : meets / interactiveArrived,
    interactiveTokensPerS: tokens(interactive) / seconds,
    interactiveRps: interactive.length / seconds,
    batchTokensPerS: tokens(batch) / seconds,
    batchLinesPerS: batch.length / seconds,
    revenuePerGpuHour: ((yuan(interactive) + yuan(batch) * 0.5) / (seconds / 3600)) / replicas,
    preemptionsPerS: preemptions / seconds,
    wastedBatchTokensPerS: wastedBatchTokens / seconds,
    enginePreemptionsPerS: sims.reduce((sum, sim) => sum + sim.counters.preemptions, 0) / seconds,
    queueP99: percentile(interactiveAll.map((r) => r.grantedAt - r.arrival), 99),
  };
}
