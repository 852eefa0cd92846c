/**
 * A request's expected wait: the larger of two views.
 *  - Slots: its place in line (tiers.ts) turned into time by the service estimator: when
 *    will `ahead + 1` slots have freed up. Exact for a quiet queue, blind to later arrivals.
 *  - Pace: when its tier has been backlogged, the observed pace (pace.ts) at which the tier
 *    grants service and at which its fair order rises, applied to the service queued before
 *    the request and to the VTC level it will be served at. This sees what the snapshot
 *    cannot: higher tiers and lighter tenants arriving later and going first.
 *  - The head of the line: a request that waits at all waits at least about as long as
 *    the requests of its tier that found nobody ahead of them did (measured). Slots say the
 *    next one frees in D / R ms, a few ms with hundreds running, but under load KV decides:
 *    the next completions must free room for this prompt on one replica, the engine must
 *    take the grants before it in its next step, and the lower tiers' rescued requests take
 *    their turn. None of that is in a count of slots; what it adds up to is measurable.
 * When every breaker is open, the rest of the shortest cool-down comes first.
 */
import type { ServiceEstimator } from './estimator.js';
import type { ReplicaView } from './router.js';
import type { Ahead, ModelQueue } from './tiers.js';
import type { WorkItem } from './types.js';

/** What one moment's replicas say about a model's capacity, read once for many estimates. */
export interface Capacity {
  readonly model: string;
  readonly slots: number;
  /** ms until a breaker lets anything through (0 unless all are open). */
  readonly blockedMs: number;
}

export class WaitEstimator {
  constructor(readonly service: ServiceEstimator) {}

  capacity(model: string, views: readonly ReplicaView[], now: number): Capacity {
    let allowed = 0;
    let all = 0;
    let reopens = Number.POSITIVE_INFINITY;
    for (const view of views) {
      all += view.slots;
      if (view.allowed) allowed += view.slots;
      else reopens = Math.min(reopens, view.state.breaker.reopensAt(now) ?? now);
    }
    const blockedMs = allowed === 0 && reopens !== Number.POSITIVE_INFINITY ? reopens - now : 0;
    return { model, slots: allowed || all, blockedMs };
  }

  /** The wait of `item` if queued now; `startsNow` says whether a replica could take it at once. */
  forNew(item: WorkItem, queue: ModelQueue | undefined, capacity: Capacity, startsNow: () => boolean, now: number): number {
    if (queue === undefined) return startsNow() ? 0 : this.slotWait(capacity, 0, now);
    const position = queue.aheadOfNew(item.tier, item.tenantId);
    if (position.ahead === 0 && startsNow()) return 0;
    return this.forPosition(queue, item.tier, position, capacity, now);
  }

  forPosition(queue: ModelQueue, tier: WorkItem['tier'], position: Ahead, capacity: Capacity, now: number): number {
    return Math.max(queue.pacedEta(tier, position), this.slotWait(capacity, position.ahead, now), queue.headWait(tier));
  }

  private slotWait(capacity: Capacity, ahead: number, now: number): number {
    return capacity.blockedMs + this.service.wait(capacity.model, ahead, now, capacity.slots);
  }
}
