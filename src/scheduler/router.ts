/**
 * Skylark's replica choice: among replicas that can start a request now, the one most
 * likely to hold its prompt prefix in cache, unless that one is busier than the least
 * busy by more than `affinityLoadGap` of its slots; then the least busy.
 */
import type { Breaker } from './breaker.js';
import type { InteractiveDemand } from './interactive-demand.js';
import type { KvLedger } from './kv-ledger.js';
import type { SchedulerConfig } from './config.js';
import type { PrefixLru } from './prefix-lru.js';
import type { ReplicaHandle, WorkItem } from './types.js';

export interface ReplicaState {
  readonly handle: ReplicaHandle;
  readonly breaker: Breaker;
  readonly prefixes: PrefixLru;
  /** Grants not yet completed or cancelled. */
  outstanding: number;
  /** KV those grants will hold (kv-ledger.ts). */
  readonly kv: KvLedger;
  /** Interactive grants and their recent peak, the room batch leaves them (interactive-demand.ts). */
  readonly interactive: InteractiveDemand;
}

/** A replica as one dispatch decision sees it: its load read once, our own grants folded in. */
export interface ReplicaView {
  readonly state: ReplicaState;
  /** The breaker lets a grant through. */
  readonly allowed: boolean;
  readonly slots: number;
  readonly busy: number;
  readonly kvTokens: number | undefined;
  readonly kvUsed: number;
  /** Interactive work's recent peak on it (interactive-demand.ts): as loaded as batch work may make it. */
  readonly interactivePeak: { slots: number; kv: number };
}

export function viewReplica(state: ReplicaState, now: number): ReplicaView {
  const load = state.handle.load();
  return {
    state,
    allowed: state.breaker.allows(now),
    slots: load.slots,
    // The engine may not count a grant until it sees the request; we count it at once.
    busy: Math.max(load.busy, state.outstanding),
    kvTokens: load.kvTokens,
    kvUsed: state.kv.used(load.kvUsed ?? 0, now),
    interactivePeak: state.interactive.peak(now),
  };
}

export interface RouteRequest {
  item: WorkItem;
  expectedOutput: number;
  /** Batch work that has not aged: it leaves `batchSlotReserve` of every replica free. */
  batchLimited: boolean;
}

export interface RouteChoice {
  view: ReplicaView;
  /** Prompt tokens the chosen replica most likely holds in cache. */
  matched: number;
}

export function canStart(view: ReplicaView, request: RouteRequest, config: SchedulerConfig): boolean {
  if (!view.allowed) return false;
  const limit = request.batchLimited ? Math.max(1, view.slots - Math.floor(view.slots * config.batchSlotReserve)) : view.slots;
  if (view.busy >= limit) return false;
  // An idle replica takes anything: a prompt larger than the whole budget must still run somewhere.
  if (view.busy === 0) return true;
  const ceiling = request.batchLimited ? batchCeiling(view, config) : undefined;
  if (ceiling !== undefined && view.busy + 1 > ceiling.slots) return false;
  if (view.kvTokens === undefined) return true;
  const after = view.kvUsed + view.state.kv.need(request.item.prefix, request.expectedOutput);
  return after <= view.kvTokens * (1 - config.kvHeadroom) && (ceiling === undefined || after <= ceiling.kv);
}

/**
 * As loaded as batch work may make a replica: interactive work's recent peak, or
 * `batchLoadFloor` of it; all of it when no interactive work ran there lately (the peak
 * has decayed below half a slot), for then no one's latency is at stake.
 */
export function batchCeiling(view: ReplicaView, config: SchedulerConfig): { slots: number; kv: number } {
  if (view.interactivePeak.slots < 0.5) return { slots: Number.POSITIVE_INFINITY, kv: Number.POSITIVE_INFINITY };
  const floor = config.batchLoadFloor;
  return {
    slots: Math.max(view.interactivePeak.slots, floor * view.slots),
    kv: view.kvTokens === undefined ? Number.POSITIVE_INFINITY : Math.max(view.interactivePeak.kv, floor * view.kvTokens),
  };
}

export function route(request: RouteRequest, views: readonly ReplicaView[], config: SchedulerConfig): RouteChoice | undefined {
  const excluded = request.item.excludeReplicas;
  const startable: Array<{ view: ReplicaView; matched: number; load: number }> = [];
  let leastLoad = Number.POSITIVE_INFINITY;
  for (const view of views) {
    if (excluded?.includes(view.state.handle.id)) continue;
    if (!canStart(view, request, config)) continue;
    const matched = view.state.prefixes.matchedTokens(request.item.prefix);
    const load = view.busy / Math.max(1, view.slots);
    startable.push({ view, matched, load });
    leastLoad = Math.min(leastLoad, load);
  }
  let best: (typeof startable)[number] | undefined;
  for (const choice of startable) {
    if (choice.load - leastLoad > config.affinityLoadGap) continue;
    if (best === undefined || choice.matched > best.matched || (choice.matched === best.matched && choice.load < best.load)) best = choice;
  }
  return best === undefined ? undefined : { view: best.view, matched: best.matched };
}
