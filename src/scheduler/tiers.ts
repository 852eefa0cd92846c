/**
 * Everything waiting for one model: a fair queue per tier, weighted shares between the
 * interactive tiers, batch on idle capacity only, and aging.
 *
 * Shares use the same counter idea one level up: each interactive tier's counter grows by
 * service / weight, the backlogged tier with the smallest counter goes next (ties to the
 * higher tier), and a tier returning from idle is lifted to the smallest backlogged
 * counter. With weights 16:4:2 a backlogged `free` tier still gets 2/22 of grants, so no
 * interactive tier starves; batch is not in the contest at all and runs only when no
 * interactive request waits.
 *
 * Aging, in two steps: a request that has used `agingFraction` of its deadline goes first
 * within its tier (earliest first), which reorders no other tier's share; one at
 * `rescueFraction`, about to miss its deadline, goes before every tier. Batch ages straight
 * to the front: it has no share to go first within. Admission leaves headroom, so aging is
 * a safety net for estimates that proved optimistic, not the order of the day: when it
 * fires, fair order yields to arrival order.
 */
import { Ewma } from './estimator.js';
import { IndexedHeap } from './heap.js';
import { Pace } from './pace.js';
import { tiers, type Tier } from './types.js';
import { FairQueue } from './vtc.js';
import type { Waiting } from './waiting.js';

/** Where a request stands. */
export interface Ahead {
  /** Requests predicted to be granted before it, all tiers. */
  ahead: number;
  /** The VTC level (its tenant's counter) at which it is served. */
  level: number;
  /** Service of its own tier granted before it. */
  tierWork: number;
}

export const interactiveTiers: readonly Tier[] = ['priority', 'standard', 'free'];

function agedBefore(a: Waiting, b: Waiting): boolean {
  return a.urgentAt < b.urgentAt || (a.urgentAt === b.urgentAt && a.seq < b.seq);
}

export class ModelQueue {
  readonly fair: Record<Tier, FairQueue> = {
    priority: new FairQueue(),
    standard: new FairQueue(),
    free: new FairQueue(),
    batch: new FairQueue(),
  };
  /** Requests with an onProgress callback, least recently told first. */
  readonly watchers = new Set<Waiting>();
  count = 0;
  /** Grants so far: how far everyone waiting has moved up since their mark. */
  private grants = 0;
  private readonly counters: Record<Tier, number> = { priority: 0, standard: 0, free: 0, batch: 0 };
  private lastLevel = 0;
  private readonly aging: Record<Tier, IndexedHeap<Waiting>> = {
    priority: new IndexedHeap<Waiting>(agedBefore),
    standard: new IndexedHeap<Waiting>(agedBefore),
    free: new IndexedHeap<Waiting>(agedBefore),
    batch: new IndexedHeap<Waiting>(agedBefore),
  };
  /** Each tier's pace through its own service, and that service so far (cost at grant). */
  private readonly paces: Record<Tier, Pace> = { priority: new Pace(), standard: new Pace(), free: new Pace(), batch: new Pace() };
  private readonly served: Record<Tier, number> = { priority: 0, standard: 0, free: 0, batch: 0 };
  /** How long a request of each tier that found nobody ahead of it still waited (eta.ts). */
  private readonly headWaits: Record<Tier, Ewma>;

  constructor(
    readonly model: string,
    private readonly weights: Record<Tier, number>,
    ewmaAlpha: number,
  ) {
    const measured = (): Ewma => new Ewma(0, ewmaAlpha, 0);
    this.headWaits = { priority: measured(), standard: measured(), free: measured(), batch: measured() };
  }

  enqueue(w: Waiting): void {
    const tier = w.item.tier;
    if (this.fair[tier].count === 0) {
      if (tier !== 'batch') this.counters[tier] = this.tierLevel(tier);
      this.paces[tier].resumed();
    }
    this.fair[tier].push(w);
    this.aging[tier].push(w);
    this.count++;
    if (w.callbacks.onProgress !== undefined) this.watchers.add(w);
  }

  /** `w` is granted: charged to its tenant and its tier. */
  take(w: Waiting, now: number): void {
    const tier = w.item.tier;
    // Capped at what it was admitted for: one wait longer than that (a cold start) would
    // otherwise refuse every request that has to wait, and none would be measured again.
    if (w.firstInLine) this.headWaits[tier].add(Math.min(now - w.enqueuedAt, w.admitLimit));
    this.fair[tier].take(w, now);
    this.paces[tier].advanced(now, this.served[tier], this.fair[tier].count > 0);
    this.served[tier] += w.cost;
    this.grants++;
    this.counters[tier] += w.cost / this.weights[tier];
    if (tier !== 'batch') this.lastLevel = this.counters[tier];
    this.forget(w);
  }

  /** `w` leaves unserved. */
  drop(w: Waiting): void {
    this.fair[w.item.tier].remove(w);
    this.forget(w);
  }

  /** Service known only at completion (actual minus estimated), charged like the grant was. */
  correct(tier: Tier, tenantId: string, service: number): void {
    this.fair[tier].charge(tenantId, service);
    this.counters[tier] += service / this.weights[tier];
  }

  /** The longest-aged request of `tier` once aging has made it urgent. */
  due(tier: Tier, now: number): Waiting | undefined {
    const first = this.aging[tier].peek();
    return first !== undefined && first.urgentAt <= now ? first : undefined;
  }

  /** The interactive request most in need of rescue from its deadline, among each tier's most aged. */
  rescue(now: number): Waiting | undefined {
    let late: Waiting | undefined;
    for (const tier of interactiveTiers) {
      const first = this.aging[tier].peek();
      if (first !== undefined && first.rescueAt <= now && (late === undefined || first.rescueAt < late.rescueAt)) late = first;
    }
    return late;
  }

  /** When the next request not yet aged will be (undefined: none waits). */
  nextAgingAt(now: number): number | undefined {
    let next: number | undefined;
    for (const tier of tiers) {
      const first = this.aging[tier].peek();
      if (first !== undefined && first.urgentAt > now && (next === undefined || first.urgentAt < next)) next = first.urgentAt;
    }
    return next;
  }

  /** The tier whose turn it is by weighted share; batch only when no interactive request waits. */
  nextTier(): Tier | undefined {
    let best: Tier | undefined;
    for (const tier of interactiveTiers) {
      if (this.fair[tier].count > 0 && (best === undefined || this.counters[tier] < this.counters[best])) best = tier;
    }
    return best ?? (this.fair.batch.count > 0 ? 'batch' : undefined);
  }

  /** Grants of this model so far (a request's grants between two moments: how far the line moved). */
  get grantCount(): number {
    return this.grants;
  }

  /** Where `w` stands if nobody else arrives, computed exactly: O(tenants · log queue). */
  locate(w: Waiting): Ahead {
    const queue = this.fair[w.item.tier];
    const tenant = queue.tenant(w.item.tenantId)!;
    const level = tenant.startLevel(w);
    const others = queue.aheadOf(level, w.seq, w.item.tenantId);
    const tierWork = tenant.workBefore(w) + others.work;
    const ahead = tenant.indexOf(w) - tenant.head + others.count + this.otherTiersAhead(w.item.tier, tierWork);
    w.mark = { ahead, tierWork, grants: this.grants, served: this.served[w.item.tier], estimates: 0 };
    return { ahead, level, tierWork };
  }

  /**
   * Where `w` stands, moved on from its mark by the grants since: O(1). Arrivals that went
   * ahead since are not seen, so it is recomputed exactly once it reaches the front or
   * after `exactEvery` estimates.
   */
  estimate(w: Waiting, exactEvery: number): Ahead {
    const mark = w.mark;
    const ahead = mark.ahead - (this.grants - mark.grants);
    if (ahead <= 0 || mark.estimates >= exactEvery) return this.locate(w);
    mark.estimates++;
    const tierWork = Math.max(0, mark.tierWork - (this.served[w.item.tier] - mark.served));
    return { ahead, level: this.fair[w.item.tier].tenant(w.item.tenantId)!.startLevel(w), tierWork };
  }

  /** Where a request of `tenantId` would stand if it were queued now. */
  aheadOfNew(tier: Tier, tenantId: string): Ahead {
    const queue = this.fair[tier];
    const tenant = queue.tenant(tenantId);
    const backlogged = tenant !== undefined && tenant.length > 0;
    const ownWork = backlogged ? tenant.queuedCost : 0;
    const level = backlogged ? tenant.counter + ownWork : Math.max(tenant?.counter ?? 0, queue.liftLevel());
    const others = queue.aheadOf(level, Number.POSITIVE_INFINITY, tenantId);
    const tierWork = ownWork + others.work;
    const ahead = (backlogged ? tenant.length : 0) + others.count + this.otherTiersAhead(tier, tierWork);
    return { ahead, level, tierWork };
  }

  /**
   * The wait implied by observed paces (0 when the tier has none): its tier must grant the
   * service queued before it, and its tier's fair order must rise to its level.
   */
  pacedEta(tier: Tier, position: Ahead): number {
    return Math.max(this.paces[tier].eta(this.served[tier] + position.tierWork), this.fair[tier].levelEta(position.level));
  }

  /** The wait of a request of `tier` at the head of the line, as measured (0 until one waited). */
  headWait(tier: Tier): number {
    return this.headWaits[tier].value;
  }

  /**
   * Requests of other tiers granted while `tier` works through `work` of its own queue:
   * each backlogged tier is served up to the counter `tier` will have reached, in
   * proportion to its weight. Batch waits for every interactive request.
   */
  private otherTiersAhead(tier: Tier, work: number): number {
    let ahead = 0;
    if (tier === 'batch') {
      for (const other of interactiveTiers) ahead += this.fair[other].count;
      return ahead;
    }
    const level = this.tierLevel(tier) + work / this.weights[tier];
    for (const other of interactiveTiers) {
      const queue = this.fair[other];
      if (other === tier || queue.count === 0) continue;
      const reach = (level - this.counters[other]) * this.weights[other];
      if (reach <= 0) continue;
      const average = queue.queuedCost / queue.count;
      ahead += average > 0 ? Math.min(queue.count, Math.ceil(reach / average)) : queue.count;
    }
    return ahead;
  }

  /** The counter `tier` is served from: its own while backlogged, else where lifting puts it. */
  private tierLevel(tier: Tier): number {
    if (this.fair[tier].count > 0) return this.counters[tier];
    let least = Number.POSITIVE_INFINITY;
    for (const other of interactiveTiers) {
      if (other !== tier && this.fair[other].count > 0) least = Math.min(least, this.counters[other]);
    }
    return Math.max(this.counters[tier], least === Number.POSITIVE_INFINITY ? this.lastLevel : least);
  }

  private forget(w: Waiting): void {
    this.aging[w.item.tier].remove(w);
    this.watchers.delete(w);
    this.count--;
  }
}
