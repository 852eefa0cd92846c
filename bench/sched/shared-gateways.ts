/**
 * N gateways sharing one line and the replicas' slots, in virtual time: a synchronous
 * model of src/gateway/shared-scheduling/shared-dispatch.ts over the in-process model of
 * the Redis scripts (shared-line.ts). What it keeps of SharedDispatch:
 *  - the gateway's own Skylark scheduler admits each request (its per-tenant bounds and
 *    wait estimate may refuse it) and, when it grants one, names the preferred replica;
 *  - the request asks the line for a lease at once, charged inputWeight × prompt +
 *    outputWeight × min(max_tokens, priorOutputTokens); it runs only when granted;
 *  - on its first answer a request not granted is refused when (rank + 1) × mean service
 *    / slots exceeds its tier's deadline less the admission headroom;
 *  - a lease released or a place withdrawn wakes the waiters (of every gateway) whose last
 *    rank is within the model's slots; every gateway also retries all its waiters every
 *    500 ms (here at phases spread over the period);
 *  - a local grant to another replica than the lease's is cancelled locally.
 * What it leaves out: Redis round-trip time (answers are instantaneous), message loss,
 * heartbeats and sweeps (no gateway dies here).
 */
import type { Clock } from '../../src/core/clock.js';
import { SkylarkError } from '../../src/core/errors.js';
import type { HeldLease, LeaseAnswer } from '../../src/gateway/shared-scheduling/slot-leases.js';
import type { Told } from '../../src/scheduler/delay-history.js';
import type { SchedulerConfig } from '../../src/scheduler/config.js';
import type { ManagedScheduler } from '../../src/scheduler/managed.js';
import type { Outcome, QueuePosition, SubmitCallbacks, WorkItem } from '../../src/scheduler/types.js';
import type { Front } from './front.js';
import { SharedLineModel } from './shared-line.js';

const retryEveryMs = 500;

interface Waiter {
  readonly item: WorkItem;
  readonly gateway: number;
  readonly callbacks: SubmitCallbacks;
  readonly cost: number;
  readonly enqueuedAt: number;
  member: string;
  answered: boolean;
  localGrant: string | undefined;
  told: QueuePosition | undefined;
  rank: number;
  gone: boolean;
}

interface Running {
  readonly lease: HeldLease;
  readonly gateway: number;
  readonly cost: number;
  readonly local: boolean;
  readonly grantedAt: number;
}

export interface SharedGatewaysOptions {
  model: string;
  candidates: ReadonlyArray<{ id: string; slots: number }>;
  config: SchedulerConfig;
}

export class SharedGateways implements Front {
  readonly line: SharedLineModel;
  private readonly waiters = new Map<string, Waiter>();
  private readonly running = new Map<string, Running>();
  private readonly retryAt: number[];
  private readonly totalSlots: number;
  private serviceMs = { mean: 0, count: 0 };
  /** Attempts happen inside an outer one's callbacks: a wake then waits until it ends. */
  private depth = 0;
  private wakePending = false;

  constructor(
    private readonly clock: Clock,
    private readonly gateways: readonly ManagedScheduler[],
    private readonly pick: () => number,
    private readonly options: SharedGatewaysOptions,
  ) {
    this.line = new SharedLineModel(options.config.tierWeights);
    this.totalSlots = options.candidates.reduce((sum, c) => sum + c.slots, 0);
    this.retryAt = gateways.map((_, i) => (retryEveryMs * (i + 1)) / gateways.length);
  }

  submit(item: WorkItem, callbacks: SubmitCallbacks): void {
    const { inputTokenWeight, outputTokenWeight, priorOutputTokens } = this.options.config;
    const gateway = this.pick();
    const waiter: Waiter = {
      item, gateway, callbacks,
      cost: inputTokenWeight * item.promptTokens + outputTokenWeight * Math.min(item.maxOutputTokens, priorOutputTokens),
      enqueuedAt: this.clock.now(),
      member: '', answered: false, localGrant: undefined, told: undefined, rank: 0, gone: false,
    };
    this.waiters.set(item.requestId, waiter);
    this.depth++;
    try {
      this.gateways[gateway]!.submit(item, {
        onGrant: (grant) => {
          waiter.localGrant = grant.replicaId;
          // During submit the first attempt below carries the preference.
          if (!waiter.gone && waiter.answered) this.attempt(waiter);
        },
      });
    } catch (error) {
      this.waiters.delete(item.requestId);
      this.depth--;
      throw error;
    }
    try {
      const refusal = this.attempt(waiter);
      if (refusal !== undefined) throw refusal;
    } finally {
      this.depth--;
      this.flushWake();
    }
  }

  complete(requestId: string, outcome: Outcome): void {
    const run = this.running.get(requestId);
    if (run === undefined) return;
    this.running.delete(requestId);
    this.depth++;
    if (run.local) this.gateways[run.gateway]!.complete(requestId, outcome);
    if (outcome.ok) this.measure(this.clock.now() - run.grantedAt);
    const { inputTokenWeight, outputTokenWeight } = this.options.config;
    const actual = outcome.failedBeforeFirstToken ? 0 : inputTokenWeight * outcome.promptTokens + outputTokenWeight * outcome.completionTokens;
    this.line.release(run.lease, actual - run.cost);
    this.wakePending = true;
    this.depth--;
    this.flushWake();
  }

  cancel(requestId: string): void {
    this.depth++;
    const waiter = this.waiters.get(requestId);
    if (waiter !== undefined) {
      this.forget(waiter);
      this.gateways[waiter.gateway]!.cancel(requestId);
      this.withdraw(waiter);
    } else {
      const run = this.running.get(requestId);
      if (run !== undefined) {
        this.running.delete(requestId);
        if (run.local) this.gateways[run.gateway]!.cancel(requestId);
        // Usage unknown: the estimate charged at entry stands.
        this.line.release(run.lease, 0);
        this.wakePending = true;
      }
    }
    this.depth--;
    this.flushWake();
  }

  position(requestId: string): QueuePosition | undefined {
    const waiter = this.waiters.get(requestId);
    if (waiter === undefined) return undefined;
    return waiter.told ?? { position: waiter.rank + 1, etaMs: this.eta(waiter.rank) };
  }

  /** The client is told its global place, not the local scheduler's paced estimate. */
  toldOnArrival(): Told | undefined {
    return undefined;
  }

  pump(): void {
    this.depth++;
    for (const gateway of this.gateways) gateway.pump();
    const now = this.clock.now();
    this.gateways.forEach((_, i) => {
      if (now < this.retryAt[i]!) return;
      this.retryAt[i] = this.retryAt[i]! + retryEveryMs * Math.max(1, Math.ceil((now - this.retryAt[i]! + 1) / retryEveryMs));
      for (const waiter of [...this.waiters.values()]) if (waiter.gateway === i && !waiter.gone) this.attempt(waiter);
    });
    this.depth--;
    this.flushWake();
  }

  nextWakeAt(): number | undefined {
    let wake: number | undefined;
    const consider = (at: number | undefined): void => {
      if (at !== undefined && (wake === undefined || at < wake)) wake = at;
    };
    for (const gateway of this.gateways) consider(gateway.nextWakeAt());
    if (this.waiters.size > 0) for (const at of this.retryAt) consider(at);
    return wake;
  }

  /** Leases held now on each replica (for tests). */
  leases(): number[] {
    return this.line.leases(this.options.candidates.map((c) => c.id));
  }

  /** Asks the line; returns the refusal when the first answer refuses it. */
  private attempt(waiter: Waiter): SkylarkError | undefined {
    const { item } = waiter;
    const answer = this.line.acquire(`gw${waiter.gateway}`, {
      member: waiter.member,
      requestId: item.requestId,
      model: item.model,
      tenantId: item.tenantId,
      tier: item.tier,
      cost: waiter.cost,
      candidates: this.options.candidates,
      ...(waiter.localGrant === undefined ? {} : { preferred: waiter.localGrant }),
    });
    return this.answered(waiter, answer);
  }

  private answered(waiter: Waiter, answer: LeaseAnswer): SkylarkError | undefined {
    waiter.member = answer.member;
    const { item } = waiter;
    const first = !waiter.answered;
    waiter.answered = true;
    const local = this.gateways[waiter.gateway]!;
    if (answer.granted) {
      this.forget(waiter);
      const now = this.clock.now();
      const same = waiter.localGrant === answer.replicaId;
      this.running.set(item.requestId, {
        lease: { member: answer.member, model: item.model, tenantId: item.tenantId, tier: item.tier, replicaId: answer.replicaId },
        gateway: waiter.gateway, cost: waiter.cost, local: same, grantedAt: now,
      });
      if (!same) local.cancel(item.requestId);
      waiter.callbacks.onGrant({ requestId: item.requestId, replicaId: answer.replicaId, model: item.model, fallback: false, queuedMs: now - waiter.enqueuedAt });
      return undefined;
    }
    waiter.rank = answer.rank;
    const etaMs = this.eta(answer.rank);
    if (first) {
      const refusal = this.refusal(item, etaMs);
      if (refusal !== undefined) {
        this.forget(waiter);
        local.cancel(item.requestId);
        this.withdraw(waiter);
        return refusal;
      }
    }
    // Places never go backwards.
    const position = Math.min(answer.rank + 1, waiter.told?.position ?? Number.POSITIVE_INFINITY);
    if (waiter.told === undefined || position !== waiter.told.position) waiter.told = { position, etaMs };
    return undefined;
  }

  private refusal(item: WorkItem, etaMs: number): SkylarkError | undefined {
    const { config } = this.options;
    if (this.serviceMs.count < config.minMeasuredToRefuse) return undefined;
    const limit = (item.maxWaitMs ?? config.tierMaxWaitMs[item.tier]) * (1 - config.admissionHeadroom);
    if (etaMs <= limit) return undefined;
    return new SkylarkError('server_overloaded', `The model '${item.model}' is at capacity.`, {
      retryAfterMs: Math.max(config.minRetryAfterMs, Math.round(etaMs - limit)),
    });
  }

  private eta(rank: number): number {
    const mean = this.serviceMs.count === 0 ? this.options.config.priorServiceMs : this.serviceMs.mean;
    return Math.round(((rank + 1) * mean) / Math.max(1, this.totalSlots));
  }

  private measure(ms: number): void {
    const entry = this.serviceMs;
    if (entry.count === 0) entry.mean = ms;
    const alpha = Math.max(this.options.config.ewmaAlpha, 1 / (entry.count + 1));
    entry.mean += alpha * (ms - entry.mean);
    entry.count++;
  }

  private withdraw(waiter: Waiter): void {
    const { item } = waiter;
    if (this.line.withdraw({ member: waiter.member, model: item.model, tenantId: item.tenantId, tier: item.tier, cost: waiter.cost })) this.wakePending = true;
  }

  private forget(waiter: Waiter): void {
    waiter.gone = true;
    this.waiters.delete(waiter.item.requestId);
  }

  /** Freed somewhere: those near the head ask again, once the outermost call is done (as once per tick). */
  private flushWake(): void {
    while (this.depth === 0 && this.wakePending) {
      this.wakePending = false;
      this.depth++;
      for (const waiter of [...this.waiters.values()]) {
        if (!waiter.gone && waiter.rank < this.totalSlots) this.attempt(waiter);
      }
      this.depth--;
    }
  }
}
