/**
 * The Skylark policy: requests wait here, not in engines. A request is granted only when
 * a replica can start it now (a free slot, KV room when the engine reports KV: kv-ledger.ts).
 * Who goes next: a request about to miss its deadline, then aged batch work, then the tier
 * whose weighted share is due (tiers.ts), within it an aged request, else VTC fair order
 * (vtc.ts) with a bounded lookahead for prefix affinity (router.ts). A request whose
 * estimated wait (eta.ts) would not leave headroom before its deadline is refused at once
 * with an honest Retry-After, or queued for a fallback model that can meet it
 * (admission.ts); an admitted request is never dropped. An interactive request that
 * would wait because running batch work holds the slots or KV takes the place of the newest
 * batch sequences instead (preemption.ts).
 *
 * VTC charging: at grant, prompt tokens plus an output estimate (the model's mean output,
 * capped by max_tokens) are charged; at completion the difference to the real usage is.
 * Charging only on completion would let a tenant start many long generations before any
 * of them counted against it; the pre-charge makes the counter reflect committed service
 * at once and the correction keeps it exact. A failure before the first token is refunded
 * in full: no service was received.
 */
import type { Clock } from '../core/clock.js';
import { SkylarkError } from '../core/errors.js';
import { Admission } from './admission.js';
import { Breaker } from './breaker.js';
import type { Told } from './delay-history.js';
import type { SchedulerConfig } from './config.js';
import { ServiceEstimator } from './estimator.js';
import { WaitEstimator } from './eta.js';
import { ForwardEta, type ReplicaNow } from './forward-eta.js';
import type { ManagedScheduler } from './managed.js';
import { InteractiveDemand } from './interactive-demand.js';
import { KvLedger } from './kv-ledger.js';
import { chooseVictims, leastWasteful, PreemptibleGrants, type Victim } from './preemption.js';
import { PrefixLru } from './prefix-lru.js';
import { ProgressReporter } from './progress.js';
import { route, viewReplica, type ReplicaState, type ReplicaView, type RouteChoice } from './router.js';
import { ModelQueue } from './tiers.js';
import { tiers, type Outcome, type QueuePosition, type QueueSnapshot, type ReplicaHandle, type SubmitCallbacks, type WorkItem } from './types.js';
import type { Waiting } from './waiting.js';

interface Granted {
  readonly requestId: string;
  readonly w: Waiting;
  readonly queue: ModelQueue;
  readonly replicaId: string;
  readonly grantedAt: number;
  readonly expectedEnd: number;
  readonly probe: boolean;
  /** The output it committed in its replica's KV ledger. */
  readonly kvOutput: number;
  /** What the grant added to that ledger (its unshared prompt segments and its output). */
  readonly kv: number;
}

/** The per-tenant bound counts per tier: a batch backlog must not lock out the same tenant's interactive work. */
const tenantTier = (item: WorkItem): string => `${item.tier}\u0000${item.tenantId}`;

/** A tenant id no caller has: the snapshot's ETA is for a newcomer. */
const newcomer = '\u0000newcomer';

export class SkylarkScheduler implements ManagedScheduler {
  readonly policy = 'skylark' as const;
  private readonly replicas = new Map<string, ReplicaState>();
  private readonly queues = new Map<string, ModelQueue>();
  private readonly waiting = new Map<string, Waiting>();
  private readonly granted = new Map<string, Granted>();
  private readonly waitingPerTenant = new Map<string, number>();
  private readonly preemptible = new PreemptibleGrants<Granted>();
  /** Preempted grants whose holder has not yet reported their end: that report frees engine capacity. */
  private readonly preempted = new Set<string>();
  private readonly estimator: ServiceEstimator;
  private readonly eta: WaitEstimator;
  private readonly admission: Admission;
  private readonly progress: ProgressReporter;
  /** The forward-simulation ETA (forward-eta.ts), unless config.forwardEta is 'off'. */
  private readonly forward: ForwardEta | undefined;
  private seq = 0;
  private pumping = false;
  private pumpAgain = false;

  constructor(
    private readonly clock: Clock,
    replicas: readonly ReplicaHandle[],
    private readonly config: SchedulerConfig,
  ) {
    this.estimator = new ServiceEstimator(config);
    this.eta = new WaitEstimator(this.estimator);
    const context = {
      views: (model: string, now: number) => this.views(model, now),
      queue: (model: string) => this.queues.get(model),
      startsNow: (item: WorkItem, model: string, views: readonly ReplicaView[]) =>
        this.routeFor(item, model, views, item.tier === 'batch') !== undefined || (item.tier !== 'batch' && this.makeRoom(item, model, views, this.clock.now()) !== undefined),
    };
    this.admission = new Admission(context, this.eta, config);
    this.forward = config.forwardEta === 'off' ? undefined : new ForwardEta(config.ewmaAlpha);
    this.progress = new ProgressReporter(this.eta, config, (w) => this.waiting.get(w.item.requestId) === w, (w, ahead, pacedMs, now) =>
      this.forward?.estimate(w.model, { tier: w.item.tier, tenantId: w.item.tenantId, needKv: this.leastNeed(w) }, ahead, pacedMs, now, () => this.replicasNow(w.model, now)));
    for (const replica of replicas) this.addReplica(replica);
  }

  addReplica(handle: ReplicaHandle): void {
    if (this.replicas.has(handle.id)) throw new Error(`Replica ${handle.id} is already scheduled.`);
    const cacheTokens = this.config.prefixCacheTokens ?? handle.load().kvTokens ?? 2 ** 20;
    const breaker = new Breaker(this.config.breakerFailures, this.config.breakerCooldownMs);
    this.replicas.set(handle.id, { handle, breaker, prefixes: new PrefixLru(cacheTokens), outstanding: 0, kv: new KvLedger(this.config.kvSettleMs), interactive: new InteractiveDemand(this.config.batchPeakDecayMs) });
    this.pump();
  }

  removeReplica(replicaId: string): void {
    this.replicas.delete(replicaId);
  }

  submit(item: WorkItem, callbacks: SubmitCallbacks): void {
    if (this.waiting.has(item.requestId) || this.granted.has(item.requestId)) {
      throw new SkylarkError('invalid_request', `Request ${item.requestId} is already scheduled.`);
    }
    this.preempted.delete(item.requestId);
    const now = this.clock.now();
    const queued = this.waitingPerTenant.get(tenantTier(item)) ?? 0;
    if (queued >= this.config.maxQueuedPerTenant) this.admission.refuseTenant(item, queued, now);
    const { model, fallback, deadline } = this.admission.admit(item, now);
    const { agingFraction, rescueFraction, inputTokenWeight, outputTokenWeight } = this.config;
    const w: Waiting = {
      item,
      callbacks,
      model,
      fallback,
      enqueuedAt: now,
      urgentAt: now + deadline * agingFraction,
      rescueAt: now + deadline * rescueFraction,
      seq: this.seq++,
      cost: inputTokenWeight * item.promptTokens + outputTokenWeight * this.estimator.expectedOutput(model, item.maxOutputTokens),
      cumBefore: 0,
      heapIndex: -1,
      mark: { ahead: 0, tierWork: 0, grants: 0, served: 0, estimates: 0 },
      reportedAt: now,
      firstInLine: false,
      admitLimit: deadline * (1 - this.config.admissionHeadroom),
    };
    const queue = this.queue(model);
    queue.enqueue(w);
    this.waiting.set(item.requestId, w);
    this.waitingPerTenant.set(tenantTier(item), queued + 1);
    this.pump();
    if (!this.waiting.has(item.requestId)) return;
    const position = this.position(item.requestId)!;
    w.firstInLine = position.position === 1;
    callbacks.onProgress?.(position);
  }

  complete(requestId: string, outcome: Outcome): void {
    const g = this.release(requestId);
    if (g === undefined) return this.preemptedEnded(requestId);
    const now = this.clock.now();
    const replica = this.replicas.get(g.replicaId);
    if (outcome.ok) replica?.breaker.succeeded();
    else replica?.breaker.failed(now);
    const { inputTokenWeight, outputTokenWeight } = this.config;
    const actual = outcome.failedBeforeFirstToken ? 0 : inputTokenWeight * outcome.promptTokens + outputTokenWeight * outcome.completionTokens;
    g.queue.correct(g.w.item.tier, g.w.item.tenantId, actual - g.w.cost);
    this.estimator.ended(g.w.model, g.replicaId, g.grantedAt, g.expectedEnd, now, outcome);
    this.forward?.ended(g.w.model, g.w.item.tier, outcome.ok ? now - g.grantedAt : undefined);
    this.pump();
  }

  cancel(requestId: string): void {
    const w = this.waiting.get(requestId);
    if (w !== undefined) {
      this.queue(w.model).drop(w);
      this.forgetWaiting(w);
      // Whoever waited behind it, blocked or not, may fit now.
      this.pump();
      return;
    }
    const g = this.release(requestId);
    if (g === undefined) return this.preemptedEnded(requestId);
    // Its usage is unknown: the pre-charged estimate stands, and the estimators learn nothing.
    if (g.probe) this.replicas.get(g.replicaId)?.breaker.probeAbandoned();
    this.estimator.ended(g.w.model, g.replicaId, g.grantedAt, g.expectedEnd, this.clock.now());
    this.forward?.ended(g.w.model, g.w.item.tier);
    this.pump();
  }

  position(requestId: string): QueuePosition | undefined {
    const w = this.waiting.get(requestId);
    if (w === undefined) return undefined;
    const queue = this.queue(w.model);
    const now = this.clock.now();
    return this.progress.report(w, queue, queue.locate(w), this.eta.capacity(w.model, this.views(w.model, now), now), now);
  }

  /**
   * What a waiting request was told on arrival, with the estimates it was blended from
   * (delay-history.ts): bench:sched calibrates both against the wait.
   */
  toldOnArrival(requestId: string): Told | undefined {
    const w = this.waiting.get(requestId);
    return w === undefined ? undefined : this.progress.toldOnArrival(w);
  }

  pump(): void {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        for (const queue of this.queues.values()) {
          while (queue.count > 0 && this.dispatchOne(queue)) {
            // Each grant changes loads; the next decision reads them afresh.
          }
        }
      } while (this.pumpAgain);
    } finally {
      this.pumping = false;
    }
  }

  snapshot(): QueueSnapshot {
    const now = this.clock.now();
    const models = new Set<string>(this.queues.keys());
    for (const replica of this.replicas.values()) for (const model of replica.handle.models) models.add(model);
    return {
      at: now,
      models: [...models].sort().map((model) => {
        const views = this.views(model, now);
        const queue = this.queues.get(model);
        return {
          model,
          tiers: tiers.map((tier) => {
            const oldest = queue?.fair[tier].oldestEnqueuedAt();
            const probe: WorkItem = { requestId: '', tenantId: newcomer, tier, model, promptTokens: 0, maxOutputTokens: this.config.priorOutputTokens, prefix: [] };
            return {
              tier,
              depth: queue?.fair[tier].count ?? 0,
              oldestWaitMs: oldest === undefined ? 0 : now - oldest,
              etaMs: Math.round(this.admission.newEta(probe, model, views, now)),
            };
          }),
          replicas: views.map((view) => ({ id: view.state.handle.id, slots: view.slots, busy: view.busy, breaker: view.state.breaker.state(now) })),
        };
      }),
    };
  }

  nextWakeAt(): number | undefined {
    if (this.waiting.size === 0) return undefined;
    const now = this.clock.now();
    const moments: Array<number | undefined> = [];
    let interactiveWaiting = false;
    for (const queue of this.queues.values()) {
      moments.push(queue.nextAgingAt(now));
      if (queue.count > queue.fair.batch.count) interactiveWaiting = true;
    }
    // A waiting interactive request may take the place of batch work once it has run long enough.
    if (interactiveWaiting && this.config.batchPreemption) moments.push(...this.preemptible.comingOfAge(this.config.batchPreemptMinRunMs, now));
    for (const replica of this.replicas.values()) {
      moments.push(replica.breaker.reopensAt(now), replica.kv.settlesAt());
    }
    let wake: number | undefined;
    for (const at of moments) if (at !== undefined && (wake === undefined || at < wake)) wake = at;
    return wake;
  }

  private dispatchOne(queue: ModelQueue): boolean {
    const now = this.clock.now();
    const views = this.views(queue.model, now);
    const free = views.some((view) => view.allowed && view.busy < view.slots);
    return (free && this.dispatchFree(queue, views, now)) || this.preemptFor(queue, views, now);
  }

  /** A grant on capacity free now, in the order the file comment gives. */
  private dispatchFree(queue: ModelQueue, views: readonly ReplicaView[], now: number): boolean {
    // A request about to miss its deadline is served before every tier's share (earliest
    // first); aged batch work may take any slot, or batch starves under steady load.
    for (const first of [queue.rescue(now), queue.due('batch', now)]) {
      const choice = first === undefined ? undefined : this.routeFor(first.item, first.model, views, false);
      if (choice !== undefined) return this.grant(queue, first!, choice, now);
    }
    const tier = queue.nextTier();
    if (tier === undefined) return false;
    // Within its tier an aged request goes first (earliest deadline first among the aged);
    // it does not take another tier's share, so a paying tier is not made late by others.
    const aged = tier === 'batch' ? undefined : queue.due(tier, now);
    const agedChoice = aged === undefined ? undefined : this.routeFor(aged.item, aged.model, views, false);
    if (agedChoice !== undefined) return this.grant(queue, aged!, agedChoice, now);
    let pick: { w: Waiting; choice: RouteChoice } | undefined;
    for (const w of queue.fair[tier].candidates(this.config.fairnessWindow, this.config.affinityCandidates)) {
      const choice = this.routeFor(w.item, w.model, views, tier === 'batch');
      if (choice !== undefined && (pick === undefined || choice.matched > pick.choice.matched)) pick = { w, choice };
    }
    return pick !== undefined && this.grant(queue, pick.w, pick.choice, now);
  }

  /**
   * The interactive request that goes next, when nothing can start it now, takes the place
   * of running batch work on the replica where that wastes least (preemption.ts).
   */
  private preemptFor(queue: ModelQueue, views: readonly ReplicaView[], now: number): boolean {
    if (!this.config.batchPreemption || this.preemptible.empty) return false;
    let w = queue.rescue(now);
    if (w === undefined) {
      const tier = queue.nextTier();
      if (tier === undefined || tier === 'batch') return false;
      w = queue.due(tier, now) ?? queue.fair[tier].candidates(0, 1)[0];
      if (w === undefined) return false;
    }
    const best = this.makeRoom(w.item, w.model, views, now);
    if (best === undefined) return false;
    for (const victim of best.victims) this.preempt(victim.requestId, now);
    return this.grant(queue, w, { view: best.view, matched: best.view.state.prefixes.matchedTokens(w.item.prefix) }, now);
  }

  /** The replica and the batch grants to preempt there that would let `item` start now. */
  private makeRoom(item: WorkItem, model: string, views: readonly ReplicaView[], now: number): { view: ReplicaView; victims: Victim[] } | undefined {
    if (!this.config.batchPreemption || this.preemptible.empty) return undefined;
    const expectedOutput = this.estimator.expectedOutput(model, item.maxOutputTokens);
    const options: Array<{ view: ReplicaView; victims: Victim[] }> = [];
    for (const view of views) {
      const running = this.preemptible.running(view.state.handle.id);
      if (running === undefined || item.excludeReplicas?.includes(view.state.handle.id)) continue;
      const victims = chooseVictims(view, running, view.state.kv.need(item.prefix, expectedOutput), this.config, now);
      if (victims !== undefined && victims.length > 0) options.push({ view, victims });
    }
    return leastWasteful(options);
  }

  /** Takes a running batch grant back: its slot and KV are free for the scheduler, and its holder runs it again later. */
  private preempt(requestId: string, now: number): void {
    const g = this.release(requestId);
    if (g === undefined) return;
    this.preempted.add(requestId);
    // It will be charged again when granted again: the service it lost is not its own doing.
    g.queue.correct(g.w.item.tier, g.w.item.tenantId, -g.w.cost);
    if (g.probe) this.replicas.get(g.replicaId)?.breaker.probeAbandoned();
    this.estimator.ended(g.w.model, g.replicaId, g.grantedAt, g.expectedEnd, now);
    this.forward?.ended(g.w.model, g.w.item.tier);
    g.w.callbacks.onPreempt?.();
  }

  /** The holder of a preempted grant stopped it: the engine's capacity it held is free now. */
  private preemptedEnded(requestId: string): void {
    if (this.preempted.delete(requestId)) this.pump();
  }

  private routeFor(item: WorkItem, model: string, views: readonly ReplicaView[], batchLimited: boolean): RouteChoice | undefined {
    const expectedOutput = this.estimator.expectedOutput(model, item.maxOutputTokens);
    return route({ item, expectedOutput, batchLimited }, views, this.config);
  }

  private grant(queue: ModelQueue, w: Waiting, choice: RouteChoice, now: number): true {
    queue.take(w, now);
    this.progress.started(w, now);
    // The grants between its ETA and its own, beyond those it was told were ahead, overtook it.
    if (w.told !== undefined && w.toldGrants !== undefined) this.forward?.waited(w.model, w.item.tier, w.item.tenantId, w.told.position - 1, queue.grantCount - w.toldGrants - 1, now - w.enqueuedAt);
    this.forgetWaiting(w);
    const replica = choice.view.state;
    const replicaId = replica.handle.id;
    replica.outstanding++;
    const probe = replica.breaker.granted(now);
    replica.prefixes.insert(w.item.prefix);
    const kvOutput = this.estimator.expectedOutput(w.model, w.item.maxOutputTokens);
    const kv = replica.kv.need(w.item.prefix, kvOutput);
    replica.kv.add(w.item.prefix, kvOutput, choice.view.kvTokens === undefined ? undefined : now);
    const expectedEnd = now + this.estimator.expectedDuration(w.model, w.item.maxOutputTokens, replicaId);
    this.estimator.started(w.model, expectedEnd);
    this.forward?.granted(w.model, kv);
    const granted: Granted = { requestId: w.item.requestId, w, queue, replicaId, grantedAt: now, expectedEnd, probe, kvOutput, kv };
    this.granted.set(w.item.requestId, granted);
    if (w.item.tier !== 'batch') replica.interactive.add(kv, now);
    else if (w.callbacks.onPreempt !== undefined) this.preemptible.add(replicaId, granted);
    this.progress.granted(queue, () => this.eta.capacity(queue.model, this.views(queue.model, now), now), now);
    w.callbacks.onGrant({ requestId: w.item.requestId, replicaId, model: w.model, fallback: w.fallback, queuedMs: now - w.enqueuedAt });
    return true;
  }

  private release(requestId: string): Granted | undefined {
    const g = this.granted.get(requestId);
    if (g === undefined) return undefined;
    this.granted.delete(requestId);
    const replica = this.replicas.get(g.replicaId);
    if (replica !== undefined) {
      replica.outstanding--;
      replica.kv.remove(g.w.item.prefix, g.kvOutput);
      if (g.w.item.tier !== 'batch') replica.interactive.remove(g.kv, this.clock.now());
    }
    this.preemptible.remove(g.replicaId, g);
    return g;
  }

  private forgetWaiting(w: Waiting): void {
    this.waiting.delete(w.item.requestId);
    const key = tenantTier(w.item);
    const left = (this.waitingPerTenant.get(key) ?? 1) - 1;
    if (left > 0) this.waitingPerTenant.set(key, left);
    else this.waitingPerTenant.delete(key);
  }

  /** The least KV `w` would take on a replica of its model (the one holding most of its prompt). */
  private leastNeed(w: Waiting): number {
    const output = this.estimator.expectedOutput(w.model, w.item.maxOutputTokens);
    let least = Number.POSITIVE_INFINITY;
    for (const replica of this.replicas.values()) {
      if (replica.handle.models.includes(w.model)) least = Math.min(least, replica.kv.need(w.item.prefix, output));
    }
    return Number.isFinite(least) ? least : output;
  }

  /** Each replica of `model` as the forward simulation reads it: room now and the grants running there. */
  private replicasNow(model: string, now: number): ReplicaNow[] {
    const byReplica = new Map<string, Array<{ grantedAt: number; kv: number; tier: WorkItem['tier'] }>>();
    for (const g of this.granted.values()) {
      let list = byReplica.get(g.replicaId);
      if (list === undefined) byReplica.set(g.replicaId, (list = []));
      list.push({ grantedAt: g.grantedAt, kv: g.kv, tier: g.w.item.tier });
    }
    const headroom = 1 - this.config.kvHeadroom;
    return this.views(model, now)
      .filter((view) => view.allowed)
      .map((view) => ({
        slotsFree: view.slots - view.busy,
        kvRoom: view.kvTokens === undefined ? Number.POSITIVE_INFINITY : view.kvTokens * headroom - view.kvUsed,
        running: byReplica.get(view.state.handle.id) ?? [],
      }));
  }

  private views(model: string, now: number): ReplicaView[] {
    const views: ReplicaView[] = [];
    for (const replica of this.replicas.values()) {
      if (replica.handle.models.includes(model)) views.push(viewReplica(replica, now));
    }
    return views;
  }

  private queue(model: string): ModelQueue {
    let queue = this.queues.get(model);
    if (queue === undefined) {
      queue = new ModelQueue(model, this.config.tierWeights, this.config.ewmaAlpha);
      this.queues.set(model, queue);
    }
    return queue;
  }
}

