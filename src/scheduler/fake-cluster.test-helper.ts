/**
 * A virtual-time cluster for the scheduler's tests: a fake clock, replicas that report
 * load, and a discrete-event loop that completes each grant after a service time the
 * test chooses. Nothing sleeps; time moves only when the loop advances it.
 */
import type { Clock } from '../core/clock.js';
import { isSkylarkError, type SkylarkError } from '../core/errors.js';
import { createScheduler, type CreateSchedulerOptions } from './index.js';
import type { ManagedScheduler } from './managed.js';
interface Event {
  at: number;
  seq: number;
  run: () => void;
}

import type { Grant, Outcome, PrefixSegment, QueuePosition, ReplicaHandle, ReplicaLoad, SubmitCallbacks, Tier, WorkItem } from './types.js';
import { mulberry32 } from '../core/random.js';

export class FakeClock implements Clock {
  constructor(private time = 0) {}
  now(): number {
    return this.time;
  }
  wallNow(): Date {
    return new Date(this.time);
  }
  set(time: number): void {
    this.time = Math.max(this.time, time);
  }
}

export class FakeReplica implements ReplicaHandle {
  busy = 0;
  kvUsed = 0;
  constructor(
    readonly id: string,
    public slots: number,
    readonly models: readonly string[] = ['m'],
    public kvTokens?: number,
  ) {}
  load(): ReplicaLoad {
    return this.kvTokens === undefined ? { slots: this.slots, busy: this.busy } : { slots: this.slots, busy: this.busy, kvTokens: this.kvTokens, kvUsed: this.kvUsed };
  }
}

let nextId = 0;

function before(a: Event, b: Event): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

export function work(overrides: Partial<WorkItem> & { tenantId?: string; tier?: Tier } = {}): WorkItem {
  const promptTokens = overrides.promptTokens ?? 100;
  const prefix: PrefixSegment[] = overrides.prefix ? [...overrides.prefix] : [{ hash: `p${nextId}`, tokens: promptTokens }];
  return { requestId: `r${nextId++}`, tenantId: 'a', tier: 'standard', model: 'm', promptTokens, maxOutputTokens: 100, prefix, ...overrides };
}

export interface Tracked {
  item: WorkItem;
  submittedAt: number;
  grant?: Grant;
  grantedAt?: number;
  rejected?: SkylarkError;
  progress: QueuePosition[];
  etaAtSubmit?: number;
  /** Times the scheduler preempted it (batch work submitted with `preemptible`). */
  preemptions: number;
  /** Bumped at each grant and preemption: a completion scheduled for an older run is stale. */
  run: number;
}


export interface ClusterOptions extends Omit<CreateSchedulerOptions, 'clock' | 'replicas'> {
  replicas: FakeReplica[];
  /** Service time of a grant, ms. Default 1000. */
  serviceMs?: (item: WorkItem, grant: Grant) => number;
  /** Pass onProgress callbacks (default true); a large run without them measures the rest. */
  watch?: boolean;
  /** The outcome reported at completion. Default: ok, all of max_tokens produced. */
  outcome?: (item: WorkItem, grant: Grant) => Outcome;
  /**
   * Batch work is submitted with onPreempt: a preempted request frees its replica at once
   * and is submitted again (as the batch runner does) after `resubmitMs` (default 0).
   */
  preemptible?: boolean;
  resubmitMs?: number;
}

export class Cluster {
  readonly clock = new FakeClock();
  readonly scheduler: ManagedScheduler;
  readonly tracked = new Map<string, Tracked>();
  readonly grants: Tracked[] = [];
  private readonly events: Event[] = [];
  private seq = 0;

  constructor(private readonly options: ClusterOptions) {
    this.scheduler = createScheduler({ ...options, clock: this.clock, replicas: options.replicas });
  }

  get replicas(): FakeReplica[] {
    return this.options.replicas;
  }

  /** Submits now; a refusal is recorded, not thrown. */
  submit(item: WorkItem): Tracked {
    const tracked: Tracked = this.tracked.get(item.requestId) ?? { item, submittedAt: this.clock.now(), progress: [], preemptions: 0, run: 0 };
    this.tracked.set(item.requestId, tracked);
    try {
      this.scheduler.submit(item, this.callbacks(tracked));
    } catch (error) {
      if (!isSkylarkError(error)) throw error;
      tracked.rejected = error;
      return tracked;
    }
    tracked.etaAtSubmit = tracked.grant === undefined ? this.scheduler.position(item.requestId)?.etaMs : 0;
    return tracked;
  }

  at(time: number, run: () => void): void {
    // A binary heap on (time, seq): tests run tens of thousands of events.
    const events = this.events;
    events.push({ at: time, seq: this.seq++, run });
    let index = events.length - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (!before(events[index]!, events[parent]!)) break;
      [events[index], events[parent]] = [events[parent]!, events[index]!];
      index = parent;
    }
  }

  /** Runs events up to and including `time` (default: until none is left), then sets the clock there. */
  run(time = Number.POSITIVE_INFINITY): void {
    while (this.events.length > 0 && this.events[0]!.at <= time) {
      const event = this.pop();
      this.clock.set(event.at);
      event.run();
    }
    if (time !== Number.POSITIVE_INFINITY) this.clock.set(time);
  }

  private pop(): Event {
    const events = this.events;
    const first = events[0]!;
    const last = events.pop()!;
    if (events.length > 0) {
      events[0] = last;
      let index = 0;
      for (;;) {
        const left = 2 * index + 1;
        if (left >= events.length) break;
        const child = left + 1 < events.length && before(events[left + 1]!, events[left]!) ? left + 1 : left;
        if (!before(events[child]!, events[index]!)) break;
        [events[index], events[child]] = [events[child]!, events[index]!];
        index = child;
      }
    }
    return first;
  }

  waiting(): Tracked[] {
    return [...this.tracked.values()].filter((t) => t.grant === undefined && t.rejected === undefined && !this.cancelled.has(t.item.requestId));
  }

  cancel(requestId: string): void {
    this.cancelled.add(requestId);
    this.scheduler.cancel(requestId);
  }

  private readonly cancelled = new Set<string>();

  private callbacks(tracked: Tracked): SubmitCallbacks {
    const onGrant = (grant: Grant): void => this.granted(tracked, grant);
    const onProgress = (position: QueuePosition): number => tracked.progress.push(position);
    const callbacks: SubmitCallbacks = this.options.watch === false ? { onGrant } : { onGrant, onProgress };
    if (this.options.preemptible === true && tracked.item.tier === 'batch') callbacks.onPreempt = () => this.preempted(tracked);
    return callbacks;
  }

  private preempted(tracked: Tracked): void {
    tracked.preemptions++;
    tracked.run++;
    this.options.replicas.find((r) => r.id === tracked.grant!.replicaId)!.busy--;
    delete tracked.grant;
    delete tracked.grantedAt;
    this.at(this.clock.now() + (this.options.resubmitMs ?? 0), () => this.submit(tracked.item));
  }

  private granted(tracked: Tracked, grant: Grant): void {
    tracked.grant = grant;
    tracked.grantedAt = this.clock.now();
    this.grants.push(tracked);
    const replica = this.options.replicas.find((r) => r.id === grant.replicaId)!;
    replica.busy++;
    const duration = this.options.serviceMs?.(tracked.item, grant) ?? 1000;
    const run = ++tracked.run;
    this.at(this.clock.now() + duration, () => {
      if (tracked.run !== run) return;
      replica.busy--;
      const outcome = this.options.outcome?.(tracked.item, grant) ?? {
        ok: true,
        promptTokens: tracked.item.promptTokens,
        cachedTokens: 0,
        completionTokens: tracked.item.maxOutputTokens,
        firstTokenMs: 0,
      };
      this.scheduler.complete(tracked.item.requestId, outcome);
    });
  }
}

/** Service (VTC units, weights 1 and 2) granted to each tenant among `grants`. */
export function serviceByTenant(grants: readonly Tracked[]): Map<string, number> {
  const service = new Map<string, number>();
  for (const g of grants) service.set(g.item.tenantId, (service.get(g.item.tenantId) ?? 0) + g.item.promptTokens + 2 * g.item.maxOutputTokens);
  return service;
}

/** A seeded generator (mulberry32), for reproducible randomness in tests. */
export const seeded = mulberry32;
