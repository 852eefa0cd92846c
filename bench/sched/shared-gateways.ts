/**
 * N gateways sharing one line and the replicas' slots, in virtual time: a synchronous
 * model of src/gateway/shared-scheduling/shared-dispatch.ts over the in-process model of
 * the Redis scripts (shared-line.ts). What it keeps of SharedDispatch:
 *  - the gateway's own Skylark scheduler admits each request (its per-tenant bounds and
 *    wait estimate may refuse it) and, when it grants one, names the preferred replica;
 *  - the request asks the line for a lease at once, charged inputWeight × prompt +
 *    outputWeight × min(max_tokens, priorOutputTokens); it runs only when granted;
 *  - it joins with the moments it ages and needs rescue (LineEstimate.deadlines); on its
 *    first answer a request not granted is refused when its expected wait in the line
 *    (LineEstimate: slots and the observed pace of the line's virtual time) exceeds its
 *    deadline less the admission headroom — the same code SharedDispatch runs;
 *  - a lease released names the first `slots` members of the line and their gateways ask
 *    at once (head first); a place withdrawn wakes the waiters whose last rank is within
 *    the model's slots; every gateway also retries all its waiters every 500 ms (here at
 *    phases spread over the period);
 *  - a local grant to another replica than the lease's is cancelled locally.
 * What it leaves out: Redis round-trip time (answers are instantaneous), message loss,
 * heartbeats and sweeps (no gateway dies here).
 */
import type { Clock } from '../../src/core/clock.js';
import type { SkylarkError } from '../../src/core/errors.js';
import { LineEstimate } from '../../src/gateway/shared-scheduling/line-estimate.js';
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
  readonly deadlines: { agingAt?: number; rescueAt?: number };
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
  private readonly estimate: LineEstimate;
  /** Attempts happen inside an outer one's callbacks: a wake then waits until it ends. */
  private depth = 0;
  /** What wakes waiters once the outermost call ends: members a release named, or a withdrawal. */
  private named: string[] = [];
  private wakeNearHead = false;

  constructor(
    private readonly clock: Clock,
    private readonly gateways: readonly ManagedScheduler[],
    private readonly pick: () => number,
    private readonly options: SharedGatewaysOptions,
  ) {
    this.line = new SharedLineModel(options.config.tierWeights);
    this.estimate = new LineEstimate(options.config);
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
      deadlines: this.estimate.deadlines(item, this.clock.now()),
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
    if (outcome.ok) this.estimate.served(run.lease.model, this.clock.now() - run.grantedAt);
    const { inputTokenWeight, outputTokenWeight } = this.options.config;
    const actual = outcome.failedBeforeFirstToken ? 0 : inputTokenWeight * outcome.promptTokens + outputTokenWeight * outcome.completionTokens;
    this.released(run.lease, actual - run.cost);
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
        this.released(run.lease, 0);
      }
    }
    this.depth--;
    this.flushWake();
  }

  position(requestId: string): QueuePosition | undefined {
    const waiter = this.waiters.get(requestId);
    if (waiter === undefined) return undefined;
    return waiter.told ?? { position: waiter.rank + 1, etaMs: this.estimate.slotWait(this.options.model, waiter.rank, this.totalSlots) };
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
      now: this.clock.now(),
      ...waiter.deadlines,
    });
    this.estimate.heard(item.model, this.clock.now(), answer);
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
    const etaMs = this.estimate.eta(item.model, answer, this.totalSlots);
    if (first) {
      const refusal = this.estimate.refusal(item, etaMs);
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

  private released(lease: HeldLease, correction: number): void {
    this.line.release(lease, correction, this.clock.now());
    this.named.push(...this.line.head(lease.model, this.totalSlots));
  }

  private withdraw(waiter: Waiter): void {
    const { item } = waiter;
    if (this.line.withdraw({ member: waiter.member, model: item.model, tenantId: item.tenantId, tier: item.tier, cost: waiter.cost })) this.wakeNearHead = true;
  }

  private forget(waiter: Waiter): void {
    waiter.gone = true;
    this.waiters.delete(waiter.item.requestId);
  }

  /**
   * Once the outermost call is done (as once per tick): the waiters a release named ask, head
   * first (SharedDispatch.wakeNamed); after a withdrawal, those whose last place was near the head.
   */
  private flushWake(): void {
    while (this.depth === 0 && (this.named.length > 0 || this.wakeNearHead)) {
      const named = this.named;
      const nearHead = this.wakeNearHead;
      this.named = [];
      this.wakeNearHead = false;
      this.depth++;
      for (const member of named) {
        const requestId = member.slice(member.indexOf('|', member.indexOf('|') + 1) + 1);
        const waiter = this.waiters.get(requestId);
        if (waiter !== undefined && !waiter.gone && waiter.member === member) this.attempt(waiter);
      }
      if (nearHead) {
        for (const waiter of [...this.waiters.values()]) if (!waiter.gone && waiter.rank < this.totalSlots) this.attempt(waiter);
      }
      this.depth--;
    }
  }
}
