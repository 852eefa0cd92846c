/**
 * A binary min-heap whose members remember their own slot, so a member whose key changed
 * (a tenant charged for service) or that leaves early (a cancelled request) is fixed in
 * O(log n) instead of searched for.
 */
export interface HeapMember {
  heapIndex: number;
}

export class IndexedHeap<T extends HeapMember> {
  private readonly items: T[] = [];

  /** `before(a, b)`: a must come out first. */
  constructor(private readonly before: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  /** All members, in no useful order; read-only. */
  members(): readonly T[] {
    return this.items;
  }

  has(item: T): boolean {
    return item.heapIndex >= 0 && this.items[item.heapIndex] === item;
  }

  push(item: T): void {
    item.heapIndex = this.items.length;
    this.items.push(item);
    this.up(item.heapIndex);
  }

  remove(item: T): void {
    if (!this.has(item)) return;
    const index = item.heapIndex;
    const last = this.items.pop()!;
    item.heapIndex = -1;
    if (last === item) return;
    this.items[index] = last;
    last.heapIndex = index;
    this.update(last);
  }

  /** Restores order after `item`'s key changed in either direction. */
  update(item: T): void {
    if (!this.has(item)) return;
    this.up(item.heapIndex);
    this.down(item.heapIndex);
  }

  /**
   * The first `limit` members in heap order among those satisfying `keep`, best first.
   * `keep` must be monotone along the order (once false, false for everything after), so
   * whole subtrees are pruned: the cost is O(limit log limit), not O(n).
   */
  smallest(limit: number, keep: (item: T) => boolean): T[] {
    const out: T[] = [];
    const frontier: number[] = this.items.length > 0 ? [0] : [];
    while (frontier.length > 0 && out.length < limit) {
      let best = 0;
      for (let i = 1; i < frontier.length; i++) {
        if (this.before(this.items[frontier[i]!]!, this.items[frontier[best]!]!)) best = i;
      }
      const index = frontier[best]!;
      frontier[best] = frontier[frontier.length - 1]!;
      frontier.pop();
      const item = this.items[index]!;
      if (!keep(item)) continue;
      out.push(item);
      for (const child of [2 * index + 1, 2 * index + 2]) if (child < this.items.length) frontier.push(child);
    }
    return out;
  }

  private up(index: number): void {
    const item = this.items[index]!;
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = this.items[parentIndex]!;
      if (!this.before(item, parent)) break;
      this.items[index] = parent;
      parent.heapIndex = index;
      index = parentIndex;
    }
    this.items[index] = item;
    item.heapIndex = index;
  }

  private down(index: number): void {
    const item = this.items[index]!;
    const length = this.items.length;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= length) break;
      const right = left + 1;
      const child = right < length && this.before(this.items[right]!, this.items[left]!) ? right : left;
      if (!this.before(this.items[child]!, item)) break;
      this.items[index] = this.items[child]!;
      this.items[index]!.heapIndex = index;
      index = child;
    }
    this.items[index] = item;
    item.heapIndex = index;
  }
}
