/**
 * One run of bench:sched: the real scheduler in front of 4 simulated replicas, in virtual
 * time. A discrete-event loop: arrivals (a sorted list plus the sessions' later turns),
 * replica step ends and client give-ups come off a binary heap in time order; the virtual
 * clock jumps to each event. The scheduler grants inside submit/complete/cancel/pump, and a
 * grant enqueues the request on its replica in the same tick.
 */
import type { Clock } from '../../src/core/clock.js';
import { isSkylarkError } from '../../src/core/errors.js';
import { SimReplica, type SimEvent } from '../../src/engines/sim/index.js';
import { createScheduler, type PolicyName as SchedulerPolicy, type SchedulerConfigOverrides } from '../../src/scheduler/index.js';
import type { ReplicaHandle } from '../../src/scheduler/types.js';
import { schedulerFront, type Front } from './front.js';
import { gatewayFront, type GatewaySetup } from './gateways.js';
import { EventHeap } from './heap.js';
import { summarize, type RequestRecord, type RunMetrics } from './metrics.js';
import { OverAdmission } from './over-admission.js';
import { substream } from './random.js';
import { buildWorkload, maxOutputTokens, type FutureSplice, type RequestSpec, type Tenant, type WorkloadName } from './workload.js';

/**
 * What the benchmark compares: the scheduler's policies, plus `skylark-slo`, Skylark with
 * the interactive tiers' deadlines set to the SLO that goodput counts (TTFT ≤ 1 s, less
 * 250 ms for the prefill that follows the grant), instead of its defaults (2 / 1.5 / 3 s).
 */
export type PolicyName = SchedulerPolicy | 'skylark-slo';
export const policyNames: readonly PolicyName[] = ['naive', 'random', 'least-request', 'cache-aware', 'skylark', 'skylark-slo'];
export const sloDeadlines: SchedulerConfigOverrides = { tierMaxWaitMs: { priority: 750, standard: 750, free: 750 } };

export interface Job {
  workload: WorkloadName;
  policy: PolicyName;
  /** Offered load as a multiple of the measured capacity (0 for a capacity run). */
  load: number;
  seed: number;
  requestsPerSecond: number;
  durationMs: number;
  /** Arrivals before this are served but not measured. */
  warmupMs: number;
  /** Interactive clients give up after this long without a first token; Infinity: never. */
  clientTimeoutMs: number;
  schedulerConfig?: SchedulerConfigOverrides;
  /** false: stop at the end of the window instead of letting what is queued finish (capacity runs). */
  drain?: boolean;
  /** Slots of each simulated replica (the engine runs at most this many; default 256). */
  replicaSlots?: number;
  /** Several gateways in front of the replicas (gateways.ts) instead of one scheduler; policy is ignored. */
  gateways?: GatewaySetup;
  /** New sessions from this moment on come from another seed (the ETA floor: eta-floor.ts). */
  future?: FutureSplice;
}

export const replicaCount = 4;
export const model = 'sim-8b';
/** Batch clients are patient: their jobs are not waited on by a person. */
const batchTimeoutMs = 600_000;
/** After the last arrival, whatever is still running gets this long to end. */
const drainLimitMs = 900_000;

class VirtualClock implements Clock {
  time = 0;
  now(): number {
    return this.time;
  }
  wallNow(): Date {
    return new Date(Date.UTC(2026, 0, 1) + this.time);
  }
}

type LoopEvent =
  | { kind: 'step'; replica: number; at: number }
  | { kind: 'arrival'; spec: RequestSpec }
  | { kind: 'timeout'; record: RequestRecord }
  | { kind: 'wake'; at: number };

export function simulate(job: Job): RunMetrics {
  const { tenants, records, sims, overAdmission } = run(job);
  return summarize(job, tenants, records, sims, overAdmission);
}

/** The run itself, with every request's record (for summaries and for digging into one run). */
export function run(job: Job): { tenants: Tenant[]; records: RequestRecord[]; sims: SimReplica[]; overAdmission: OverAdmission } {
  const workload = buildWorkload(job.workload, job.seed, job.requestsPerSecond, job.durationMs, job.future);
  const clock = new VirtualClock();
  const sims = Array.from({ length: replicaCount }, () => new SimReplica(job.replicaSlots === undefined ? {} : { slots: job.replicaSlots }));
  const handles: ReplicaHandle[] = sims.map((sim, i) => ({ id: `gpu${i}`, models: [model], load: () => sim.load() }));
  const replicaIndex = new Map(handles.map((handle, i) => [handle.id, i]));
  // Skylark's forward-simulation ETA is measured beside what is shown (calibration.ts), unless the run's config says otherwise.
  const skylark = job.policy === 'skylark' || job.policy === 'skylark-slo';
  const config = skylark ? { forwardEta: 'measure' as const, ...(job.policy === 'skylark-slo' ? sloDeadlines : {}), ...job.schedulerConfig } : job.schedulerConfig;
  const scheduler: Front = job.gateways !== undefined
    ? gatewayFront(job.gateways, { clock, replicaIds: handles.map((h) => h.id), model, slots: sims[0]!.slots, seed: job.seed, config })
    : schedulerFront(createScheduler({
      clock,
      replicas: handles,
      policy: job.policy === 'skylark-slo' ? 'skylark' : job.policy,
      random: substream(job.seed, `policy-${job.policy}`),
      ...(config === undefined ? {} : { config }),
    }));
  const overAdmission = new OverAdmission(sims, job.warmupMs, job.durationMs);
  const heap = new EventHeap<LoopEvent>();
  const stepAt = sims.map(() => Number.POSITIVE_INFINITY);
  const dirty = new Set<number>();
  const records = new Map<string, RequestRecord>();
  const all: RequestRecord[] = [];

  let wakeAt: number | undefined;
  const touch = (): void => {
    // The scheduler may want a pump at a moment of its own (a breaker reopens, granted KV settles).
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
  };

  const onGrant = (record: RequestRecord, replicaId: string): void => {
    const index = replicaIndex.get(replicaId);
    if (index === undefined) throw new Error(`Granted unknown replica ${replicaId}`);
    record.state = 'granted';
    record.grantAt = clock.time;
    record.replica = index;
    const { spec } = record;
    sims[index]!.enqueue({ id: spec.id, prefix: spec.prefix, outputTokens: spec.outputTokens, answerHash: spec.answerHash }, clock.time);
    overAdmission.granted(index);
    dirty.add(index);
  };

  const arrive = (spec: RequestSpec): void => {
    const record: RequestRecord = {
      spec, state: 'waiting', replica: -1, grantAt: NaN, startedAt: NaN, firstTokenAt: NaN, finishedAt: NaN,
      cachedTokens: 0, completionTokens: 0, etaMs: NaN, positionAtArrival: NaN, etaPacedMs: NaN, etaForwardMs: NaN, etaHistoryMs: NaN, etaLowMs: NaN, etaHighMs: NaN, wastedTokens: 0,
      measured: spec.arrival >= job.warmupMs,
    };
    records.set(spec.id, record);
    all.push(record);
    try {
      scheduler.submit(
        {
          requestId: spec.id, tenantId: spec.tenant.id, tier: spec.tenant.tier, model,
          promptTokens: spec.promptTokens, maxOutputTokens, prefix: spec.prefix,
        },
        { onGrant: (grant) => onGrant(record, grant.replicaId) },
      );
    } catch (error) {
      if (!isSkylarkError(error) || error.code !== 'server_overloaded') throw error;
      record.state = 'rejected';
      records.delete(spec.id);
      return;
    }
    if (record.state === 'waiting') {
      const told = scheduler.position(spec.id);
      record.etaMs = told?.etaMs ?? NaN;
      record.positionAtArrival = told?.position ?? NaN;
      record.etaLowMs = told?.etaLowMs ?? NaN;
      record.etaHighMs = told?.etaHighMs ?? NaN;
      // The estimate before the delay history, from the same moment (Skylark alone queues).
      const parts = scheduler.toldOnArrival(spec.id);
      record.etaPacedMs = parts?.pacedMs ?? NaN;
      record.etaForwardMs = parts?.forwardMs ?? NaN;
      record.etaHistoryMs = parts?.historyMs ?? NaN;
    }
    const patience = spec.tenant.tier === 'batch' ? batchTimeoutMs : job.clientTimeoutMs;
    if (Number.isFinite(patience)) heap.push(spec.arrival + patience, { kind: 'timeout', record });
  };

  const giveUp = (record: RequestRecord): void => {
    if (record.state === 'granted' && Number.isNaN(record.firstTokenAt)) {
      const aborted = sims[record.replica]!.abort(record.spec.id);
      record.wastedTokens = aborted?.computedTokens ?? 0;
      dirty.add(record.replica);
    } else if (record.state !== 'waiting') {
      return;
    }
    record.state = 'timedout';
    records.delete(record.spec.id);
    scheduler.cancel(record.spec.id);
  };

  const onSimEvent = (event: SimEvent): void => {
    const record = records.get(event.id);
    if (record === undefined) return;
    switch (event.type) {
      case 'started':
        record.startedAt = event.at;
        record.cachedTokens = event.cachedTokens;
        return;
      case 'firstToken':
        record.firstTokenAt = event.at;
        return;
      case 'preempted':
        return;
      case 'finished': {
        record.state = 'done';
        record.finishedAt = event.at;
        record.completionTokens = event.completionTokens;
        records.delete(event.id);
        scheduler.complete(event.id, {
          ok: true,
          promptTokens: event.promptTokens,
          cachedTokens: event.cachedTokens,
          completionTokens: event.completionTokens,
          firstTokenMs: record.firstTokenAt - record.grantAt,
        });
        const next = workload.nextTurn(record.spec, event.at);
        if (next !== undefined) heap.push(next.arrival, { kind: 'arrival', spec: next });
      }
    }
  };

  const initial = workload.initial;
  let cursor = 0;
  const endBy = job.durationMs + (job.drain === false ? 0 : drainLimitMs);
  while (true) {
    const nextInitial = cursor < initial.length ? initial[cursor]!.arrival : Number.POSITIVE_INFINITY;
    if (nextInitial <= heap.peekTime()) {
      if (!Number.isFinite(nextInitial)) break;
      overAdmission.advance(clock.time, nextInitial);
      clock.time = nextInitial;
      arrive(initial[cursor++]!);
    } else {
      if (heap.peekTime() > endBy) break;
      overAdmission.advance(clock.time, heap.peekTime());
      clock.time = heap.peekTime();
      const event = heap.pop()!;
      if (event.kind === 'arrival') arrive(event.spec);
      else if (event.kind === 'timeout') giveUp(event.record);
      else if (event.kind === 'wake') {
        if (event.at === wakeAt) scheduler.pump();
      }
      else if (event.at === stepAt[event.replica]) {
        stepAt[event.replica] = Number.POSITIVE_INFINITY;
        dirty.add(event.replica);
        for (const simEvent of sims[event.replica]!.advance(event.at)) onSimEvent(simEvent);
        scheduler.pump();
      }
    }
    touch();
  }
  return { tenants: workload.tenants, records: all, sims, overAdmission };
}
