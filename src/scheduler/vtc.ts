/**
 * Fair share among the tenants of one tier of one model: Virtual Token Counters (Sheng
 * et al., "Fairness in Serving Large Language Models", OSDI'24). Each tenant's counter is
 * the weighted service it received; the backlogged tenant with the smallest counter is
 * served next, and a tenant that becomes backlogged is lifted to the smallest backlogged
 * counter (or, when nobody waits, the last served one) so idleness banks no credit.
 */
import { IndexedHeap, type HeapMember } from './heap.js';
import { Pace } from './pace.js';
import type { Waiting } from './waiting.js';

export class TenantQueue implements HeapMember {
  heapIndex = -1;
  counter = 0;
  /** Waiting requests in arrival order, from `head` on. */
  items: Array<Waiting | undefined> = [];
  head = 0;
  queuedCost = 0;
  /** `cumBefore` the next request enqueued gets. */
  nextCum = 0;

  constructor(readonly tenantId: string) {}

  get length(): number {
    return this.items.length - this.head;
  }

  first(): Waiting | undefined {
    return this.items[this.head];
  }

  /** Service queued ahead of `w` within this tenant. */
  workBefore(w: Waiting): number {
    return w.cumBefore - this.first()!.cumBefore;
  }

  /** The counter value at which `w` will be served if nothing else changes. */
  startLevel(w: Waiting): number {
    return this.counter + this.workBefore(w);
  }

  indexOf(w: Waiting): number {
    let low = this.head;
    let high = this.items.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (this.items[mid]!.seq < w.seq) low = mid + 1;
      else high = mid;
    }
    return this.items[low] === w ? low : -1;
  }
}

function servedBefore(a: TenantQueue, b: TenantQueue): boolean {
  if (a.counter !== b.counter) return a.counter < b.counter;
  return a.first()!.seq < b.first()!.seq;
}

export class FairQueue {
  private readonly tenants = new Map<string, TenantQueue>();
  private readonly backlogged = new IndexedHeap<TenantQueue>(servedBefore);
  private lastServed = 0;
  /** How fast the water level rises: slower the more tenants compete, present or arriving. */
  private readonly pace = new Pace();
  count = 0;
  queuedCost = 0;

  tenant(tenantId: string): TenantQueue | undefined {
    return this.tenants.get(tenantId);
  }

  /** The counter a tenant returning from idle is lifted to. */
  liftLevel(): number {
    return this.backlogged.peek()?.counter ?? this.lastServed;
  }

  push(w: Waiting): void {
    let tenant = this.tenants.get(w.item.tenantId);
    if (tenant === undefined) {
      tenant = new TenantQueue(w.item.tenantId);
      this.tenants.set(tenant.tenantId, tenant);
    }
    const wasIdle = tenant.length === 0;
    if (this.count === 0) this.pace.resumed();
    if (wasIdle) tenant.counter = Math.max(tenant.counter, this.liftLevel());
    w.cumBefore = tenant.nextCum;
    tenant.nextCum += w.cost;
    tenant.items.push(w);
    tenant.queuedCost += w.cost;
    this.count++;
    this.queuedCost += w.cost;
    if (wasIdle) this.backlogged.push(tenant);
  }

  /** `w` is granted: it leaves, its tenant is charged, and the tenant's pace is sampled. */
  take(w: Waiting, now: number): void {
    const tenant = this.tenants.get(w.item.tenantId)!;
    this.remove(w);
    this.charge(tenant.tenantId, w.cost);
    this.lastServed = tenant.counter;
    // The water level (least backlogged counter) is what a waiting request's level must be
    // reached by; it ignores grants made out of fair order (aged, affinity), as it should.
    this.pace.advanced(now, this.liftLevel(), this.count > 0);
  }

  /** `w` leaves without service (cancelled). */
  remove(w: Waiting): void {
    const tenant = this.tenants.get(w.item.tenantId);
    const index = tenant?.indexOf(w) ?? -1;
    if (tenant === undefined || index < 0) return;
    if (index === tenant.head) {
      tenant.items[tenant.head++] = undefined;
    } else {
      tenant.items.splice(index, 1);
      for (let i = index; i < tenant.items.length; i++) tenant.items[i]!.cumBefore -= w.cost;
      tenant.nextCum -= w.cost;
    }
    tenant.queuedCost -= w.cost;
    this.count--;
    this.queuedCost -= w.cost;
    if (tenant.length === 0) {
      tenant.items = [];
      tenant.head = 0;
      this.backlogged.remove(tenant);
    } else {
      if (tenant.head > 32 && tenant.head * 2 > tenant.items.length) {
        tenant.items = tenant.items.slice(tenant.head);
        tenant.head = 0;
      }
      this.backlogged.update(tenant);
    }
  }

  /** Adds service to a tenant's counter (a grant, or the correction when usage is known). */
  charge(tenantId: string, amount: number): void {
    const tenant = this.tenants.get(tenantId);
    if (tenant === undefined) return;
    tenant.counter += amount;
    this.backlogged.update(tenant);
  }

  /** Head requests of the least-served tenants within `window` of the least, best first. */
  candidates(window: number, limit: number): Waiting[] {
    const least = this.backlogged.peek();
    if (least === undefined) return [];
    const bound = least.counter + window;
    return this.backlogged.smallest(limit, (t) => t.counter <= bound).map((t) => t.first()!);
  }

  /**
   * Requests (and their service) of tenants other than `exceptTenant` that fair order
   * serves before a request starting at counter `level` and arriving as `seq`.
   */
  aheadOf(level: number, seq: number, exceptTenant: string): { count: number; work: number } {
    let count = 0;
    let work = 0;
    for (const tenant of this.backlogged.members()) {
      if (tenant.tenantId === exceptTenant) continue;
      const base = tenant.first()!.cumBefore;
      let low = tenant.head;
      let high = tenant.items.length;
      while (low < high) {
        const mid = (low + high) >> 1;
        const item = tenant.items[mid]!;
        const start = tenant.counter + item.cumBefore - base;
        if (start < level || (start === level && item.seq < seq)) low = mid + 1;
        else high = mid;
      }
      count += low - tenant.head;
      work += (low < tenant.items.length ? tenant.items[low]!.cumBefore : tenant.nextCum) - base;
    }
    return { count, work };
  }

  /** When fair order reaches `level` at the pace observed; 0 when the tier has no pace now. */
  levelEta(level: number): number {
    return this.pace.eta(level);
  }

  oldestEnqueuedAt(): number | undefined {
    let oldest: number | undefined;
    for (const tenant of this.backlogged.members()) {
      const at = tenant.first()!.enqueuedAt;
      if (oldest === undefined || at < oldest) oldest = at;
    }
    return oldest;
  }
}
