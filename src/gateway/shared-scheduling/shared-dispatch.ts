/**
 * Dispatch when several gateways share the engines (REDIS_URL): the local scheduler still
 * admits each request (per-tenant bounds, its wait estimate) and says which replica it
 * would pick, but a request runs only once the global line (slot-leases.ts) grants it a
 * lease: its place there is within the free slots of its model's replicas, counted over
 * every gateway. Places in line, GET /v1/queue/{id} and early refusal use the global line:
 * the wait is expected from the place and the pace of the line (line-estimate.ts), and the
 * request joins with the moments it ages and needs rescue there, as in the local scheduler.
 *
 * Waiting requests ask again when a freed slot may be theirs: a release names the members
 * at the head of the line (pub/sub), and those of this gateway ask at once, whatever place
 * they last heard; every `retryEveryMs` all ask, in case a message was lost. A request the local scheduler granted to a
 * replica the global line did not give it is cancelled locally, so local counts stay true.
 *
 * Only engines every gateway reaches alike are shared (`shared`: remote, OpenAI-compatible
 * upstreams); a model served by this process's own engines (llama.cpp, sim) is scheduled
 * in process exactly as without Redis, since no other gateway can use those slots.
 */
import type { Clock } from '../../core/clock.js';
import type { SkylarkError } from '../../core/errors.js';
import type { Engine } from '../../engines/engine.js';
import type { ManagedScheduler } from '../../scheduler/managed.js';
import type { SchedulerConfig } from '../../scheduler/config.js';
import type { Grant, Outcome, QueuePosition, ReplicaHandle, WorkItem } from '../../scheduler/types.js';
import { Dispatch, type DispatchCallbacks } from '../dispatch.js';
import { LineEstimate } from './line-estimate.js';
import type { SharedPositions } from './shared-positions.js';
import type { Freed, HeldLease, LeaseAnswer, SlotLeases } from './slot-leases.js';

interface Waiter {
  readonly item: WorkItem;
  readonly callbacks: DispatchCallbacks;
  readonly cost: number;
  readonly enqueuedAt: number;
  readonly deadlines: { agingAt?: number; rescueAt?: number };
  readonly admitted: { resolve(): void; reject(error: SkylarkError): void };
  member: string;
  alias: string | undefined;
  answered: boolean;
  localGrant: Grant | undefined;
  told: QueuePosition | undefined;
  /** Last place in the global line, 0-based. */
  rank: number;
  attempting: boolean;
  again: boolean;
  gone: boolean;
}

interface Running {
  readonly lease: HeldLease;
  readonly cost: number;
  /** The local scheduler granted the same replica: it hears the outcome too. */
  readonly local: boolean;
  readonly grantedAt: number;
}

export interface SharedDispatchOptions {
  replicas: readonly ReplicaHandle[];
  /** Ids of the replicas all gateways share. */
  shared: ReadonlySet<string>;
  config: SchedulerConfig;
  retryEveryMs?: number;
  onError?: (error: unknown) => void;
  /** Where places told are published for the other gateways' GET /v1/queue/{id}. */
  positions?: SharedPositions;
}

export class SharedDispatch extends Dispatch {
  private readonly waiters = new Map<string, Waiter>();
  private readonly running = new Map<string, Running>();
  private readonly aliasesShared = new Map<string, string>();
  private readonly estimate: LineEstimate;
  private readonly retry: NodeJS.Timeout;
  private wakeQueued = false;

  constructor(
    scheduler: ManagedScheduler,
    engines: ReadonlyMap<string, Engine>,
    clock: Clock,
    private readonly leases: SlotLeases,
    private readonly options: SharedDispatchOptions,
  ) {
    super(scheduler, engines, clock);
    this.estimate = new LineEstimate(options.config);
    leases.onFreed((freed) => (freed === undefined ? this.queueWake(true) : this.wakeNamed(freed)));
    this.retry = setInterval(() => this.wake(false), options.retryEveryMs ?? 500);
    this.retry.unref();
  }

  override submit(item: WorkItem, callbacks: DispatchCallbacks, clientRequestId?: string): Promise<void> {
    if (!this.sharedModel(item.model)) return super.submit(item, callbacks, clientRequestId);
    const { inputTokenWeight, outputTokenWeight, priorOutputTokens } = this.options.config;
    let admitted!: Waiter['admitted'];
    const promise = new Promise<void>((resolve, reject) => (admitted = { resolve, reject }));
    promise.catch(() => {}); // a caller that does not wait for admission hears of a refusal through onRefused
    const waiter: Waiter = {
      item,
      callbacks,
      cost: inputTokenWeight * item.promptTokens + outputTokenWeight * Math.min(item.maxOutputTokens, priorOutputTokens),
      enqueuedAt: this.clock.now(),
      deadlines: this.estimate.deadlines(item, this.lineNow()),
      admitted,
      member: '',
      alias: clientRequestId === undefined ? undefined : `${item.tenantId}:${clientRequestId}`,
      answered: false,
      localGrant: undefined,
      told: undefined,
      rank: 0,
      attempting: true, // the first attempt goes after the local scheduler has spoken
      again: false,
      gone: false,
    };
    this.waiters.set(item.requestId, waiter);
    try {
      this.scheduler.submit(item, {
        onGrant: (grant) => this.localGranted(waiter, grant),
        // Places come from the global line, not from this gateway's share of it.
        onProgress: () => {},
      });
    } catch (error) {
      this.waiters.delete(item.requestId);
      throw error;
    } finally {
      this.arm();
    }
    if (waiter.alias !== undefined) this.aliasesShared.set(waiter.alias, item.requestId);
    waiter.attempting = false;
    this.attempt(waiter);
    return promise;
  }

  override complete(requestId: string, outcome: Outcome): void {
    const run = this.running.get(requestId);
    if (run === undefined) return super.complete(requestId, outcome);
    this.running.delete(requestId);
    if (run.local) this.scheduler.complete(requestId, outcome);
    if (outcome.ok) this.estimate.served(run.lease.model, this.clock.now() - run.grantedAt);
    const { inputTokenWeight, outputTokenWeight } = this.options.config;
    const actual = outcome.failedBeforeFirstToken ? 0 : inputTokenWeight * outcome.promptTokens + outputTokenWeight * outcome.completionTokens;
    this.leases.release(run.lease, actual - run.cost, this.totalSlots(run.lease.model), this.lineNow()).catch((error) => this.options.onError?.(error));
    this.arm();
  }

  override cancel(requestId: string): void {
    const waiter = this.waiters.get(requestId);
    if (waiter !== undefined) {
      this.forgetWaiter(waiter);
      this.scheduler.cancel(requestId);
      // An answer in flight cleans up after itself (attempt()).
      if (!waiter.attempting) this.withdraw(waiter);
      this.arm();
      return;
    }
    const run = this.running.get(requestId);
    if (run === undefined) return super.cancel(requestId);
    this.running.delete(requestId);
    if (run.local) this.scheduler.cancel(requestId);
    // Usage unknown: the estimate charged at entry stands, as in the local scheduler.
    this.leases.release(run.lease, 0, this.totalSlots(run.lease.model), this.lineNow()).catch((error) => this.options.onError?.(error));
    this.arm();
  }

  override position(id: string, tenantId: string, operator: boolean): QueuePosition | undefined {
    const requestId = this.aliasesShared.get(`${tenantId}:${id}`) ?? id;
    const waiter = this.waiters.get(requestId);
    if (waiter === undefined) return super.position(id, tenantId, operator);
    if (waiter.item.tenantId !== tenantId && !operator) return undefined;
    return waiter.told ?? { position: waiter.rank + 1, etaMs: this.estimate.slotWait(waiter.item.model, waiter.rank, this.totalSlots(waiter.item.model)) };
  }

  override async positionAnywhere(id: string, tenantId: string, operator: boolean): Promise<QueuePosition | undefined> {
    return this.position(id, tenantId, operator) ?? (await this.options.positions?.lookup(id, tenantId, operator));
  }

  override close(): void {
    super.close();
    clearInterval(this.retry);
  }

  /**
   * Time in the shared line: wall-clock ms, the one time base every gateway has (the
   * monotonic clock's epoch is each process's own). Aging moments are compared across
   * gateways, so clocks off by a few ms age requests a few ms early or late.
   */
  private lineNow(): number {
    return this.clock.wallNow().getTime();
  }

  private readonly sharedModels = new Map<string, boolean>();

  private sharedModel(model: string): boolean {
    let shared = this.sharedModels.get(model);
    if (shared === undefined) {
      const replicas = this.options.replicas.filter((replica) => replica.models.includes(model));
      shared = replicas.length > 0 && replicas.every((replica) => this.options.shared.has(replica.id));
      this.sharedModels.set(model, shared);
    }
    return shared;
  }

  private localGranted(waiter: Waiter, grant: Grant): void {
    waiter.localGrant = grant;
    if (waiter.gone) return;
    this.attempt(waiter);
  }

  private candidates(item: WorkItem): Array<{ id: string; slots: number }> {
    const list: Array<{ id: string; slots: number }> = [];
    for (const replica of this.options.replicas) {
      if (!replica.models.includes(item.model) || item.excludeReplicas?.includes(replica.id)) continue;
      const { slots } = replica.load();
      if (slots > 0) list.push({ id: replica.id, slots });
    }
    return list;
  }

  private totalSlots(model: string): number {
    let slots = 0;
    for (const replica of this.options.replicas) if (replica.models.includes(model)) slots += replica.load().slots;
    return slots;
  }

  private attempt(waiter: Waiter): void {
    if (waiter.attempting) {
      waiter.again = true;
      return;
    }
    const candidates = this.candidates(waiter.item);
    if (candidates.length === 0) return; // nothing ready: the retry timer asks again
    waiter.attempting = true;
    waiter.again = false;
    const { item } = waiter;
    this.leases
      .acquire({
        member: waiter.member,
        requestId: item.requestId,
        model: item.model,
        tenantId: item.tenantId,
        tier: item.tier,
        cost: waiter.cost,
        candidates,
        ...(waiter.localGrant === undefined ? {} : { preferred: waiter.localGrant.replicaId }),
        now: this.lineNow(),
        ...waiter.deadlines,
      })
      .then(
        (answer) => this.answered(waiter, answer, candidates.reduce((sum, c) => sum + c.slots, 0)),
        (error) => {
          waiter.attempting = false;
          this.options.onError?.(error); // the retry timer asks again
        },
      );
  }

  private answered(waiter: Waiter, answer: LeaseAnswer, slots: number): void {
    waiter.attempting = false;
    waiter.member = answer.member;
    const { item } = waiter;
    this.estimate.heard(item.model, this.lineNow(), answer);
    if (waiter.gone) {
      // Cancelled while the script ran: give back whatever it took.
      if (answer.granted) this.leases.release(this.lease(waiter, answer.replicaId), -waiter.cost, this.totalSlots(item.model), this.lineNow()).catch((error) => this.options.onError?.(error));
      else this.withdraw(waiter);
      return;
    }
    const first = !waiter.answered;
    waiter.answered = true;
    if (answer.granted) {
      this.forgetWaiter(waiter);
      const local = waiter.localGrant?.replicaId === answer.replicaId;
      if (!local) this.scheduler.cancel(item.requestId);
      const now = this.clock.now();
      this.running.set(item.requestId, { lease: this.lease(waiter, answer.replicaId), cost: waiter.cost, local, grantedAt: now });
      waiter.admitted.resolve();
      // It was told a later place: its turn is now, so its last word before the answer is "first".
      if (waiter.told !== undefined && waiter.told.position > 1) waiter.callbacks.onProgress?.({ position: 1, etaMs: 0 });
      waiter.callbacks.onGrant({ requestId: item.requestId, replicaId: answer.replicaId, model: item.model, fallback: false, queuedMs: now - waiter.enqueuedAt });
      this.arm();
      return;
    }
    waiter.rank = answer.rank;
    const etaMs = this.estimate.eta(item.model, answer, slots);
    if (first) {
      const refusal = this.estimate.refusal(item, etaMs);
      if (refusal !== undefined) {
        this.forgetWaiter(waiter);
        this.scheduler.cancel(item.requestId);
        this.withdraw(waiter);
        waiter.admitted.reject(refusal);
        waiter.callbacks.onRefused?.(refusal);
        this.arm();
        return;
      }
      waiter.admitted.resolve();
    }
    // Places never go backwards: a newcomer the fair order puts ahead is not news to it.
    const position = Math.min(answer.rank + 1, waiter.told?.position ?? Number.POSITIVE_INFINITY);
    if (waiter.told === undefined || position !== waiter.told.position) {
      waiter.told = { position, etaMs };
      waiter.callbacks.onProgress?.(waiter.told);
    }
    this.options.positions?.publish({ requestId: item.requestId, tenantId: item.tenantId, clientRequestId: this.clientIdOf(waiter), place: waiter.told });
    if (waiter.again) this.attempt(waiter);
  }

  private lease(waiter: Waiter, replicaId: string): HeldLease {
    const { item } = waiter;
    return { member: waiter.member, model: item.model, tenantId: item.tenantId, tier: item.tier, replicaId };
  }

  private withdraw(waiter: Waiter): void {
    const { item } = waiter;
    this.leases
      .withdraw({ member: waiter.member, model: item.model, tenantId: item.tenantId, tier: item.tier, cost: waiter.cost })
      .catch((error) => this.options.onError?.(error));
  }

  private forgetWaiter(waiter: Waiter): void {
    waiter.gone = true;
    this.waiters.delete(waiter.item.requestId);
    if (waiter.alias !== undefined && this.aliasesShared.get(waiter.alias) === waiter.item.requestId) this.aliasesShared.delete(waiter.alias);
    this.options.positions?.remove(waiter.item.requestId, waiter.item.tenantId, this.clientIdOf(waiter));
  }

  /** The client's own id for the request: its alias less the `<tenant>:` prefix. */
  private clientIdOf(waiter: Waiter): string | undefined {
    return waiter.alias?.slice(waiter.item.tenantId.length + 1);
  }

  /** A lease was given back somewhere: this gateway's waiters among the line's head ask at once. */
  private wakeNamed(freed: Freed): void {
    for (const member of freed.head) {
      // A member is `<seq>|<owner>|<requestId>` (lease-scripts.ts).
      const second = member.indexOf('|', member.indexOf('|') + 1);
      const waiter = second < 0 ? undefined : this.waiters.get(member.slice(second + 1));
      if (waiter !== undefined && waiter.member === member) this.attempt(waiter);
    }
  }

  /** The line changed (a sweep, a withdrawal): those near the head ask (once per tick, however many). */
  private queueWake(nearHeadOnly: boolean): void {
    if (this.wakeQueued) return;
    this.wakeQueued = true;
    setImmediate(() => {
      this.wakeQueued = false;
      this.wake(nearHeadOnly);
    });
  }

  private wake(nearHeadOnly: boolean): void {
    for (const waiter of this.waiters.values()) {
      if (nearHeadOnly && waiter.rank >= this.totalSlots(waiter.item.model)) continue;
      this.attempt(waiter);
    }
  }
}
