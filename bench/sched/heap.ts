/**
 * A binary min-heap of timed events for the discrete-event loop. Ties leave in insertion
 * order, so a run is deterministic for a seed.
 */
export class EventHeap<T> {
  private times: number[] = [];
  private order: number[] = [];
  private items: T[] = [];
  private counter = 0;

  get size(): number {
    return this.items.length;
  }

  peekTime(): number {
    return this.items.length === 0 ? Number.POSITIVE_INFINITY : this.times[0]!;
  }

  push(time: number, item: T): void {
    this.times.push(time);
    this.order.push(this.counter++);
    this.items.push(item);
    this.up(this.items.length - 1);
  }

  pop(): T | undefined {
    const n = this.items.length;
    if (n === 0) return undefined;
    const top = this.items[0]!;
    this.move(n - 1, 0);
    this.times.pop();
    this.order.pop();
    this.items.pop();
    if (n > 1) this.down(0);
    return top;
  }

  private less(a: number, b: number): boolean {
    const ta = this.times[a]!;
    const tb = this.times[b]!;
    return ta < tb || (ta === tb && this.order[a]! < this.order[b]!);
  }

  private move(from: number, to: number): void {
    this.times[to] = this.times[from]!;
    this.order[to] = this.order[from]!;
    this.items[to] = this.items[from]!;
  }

  private swap(a: number, b: number): void {
    const t = this.times[a]!;
    const o = this.order[a]!;
    const item = this.items[a]!;
    this.move(b, a);
    this.times[b] = t;
    this.order[b] = o;
    this.items[b] = item;
  }

  private up(index: number): void {
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (!this.less(index, parent)) return;
      this.swap(index, parent);
      index = parent;
    }
  }

  private down(index: number): void {
    const n = this.items.length;
    while (true) {
      const left = 2 * index + 1;
      if (left >= n) return;
      const right = left + 1;
      const child = right < n && this.less(right, left) ? right : left;
      if (!this.less(child, index)) return;
      this.swap(index, child);
      index = child;
    }
  }
}
