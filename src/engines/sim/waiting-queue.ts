/**
 * The simulated engine's queue of sequences waiting to be admitted, under vLLM's two
 * scheduling policies (`--scheduling-policy fcfs | priority`, vllm/v1/core/sched/request_queue.py):
 *  - fcfs: preempted sequences first (most recent on top, as vLLM puts each back at the
 *    front), then new ones in arrival order;
 *  - priority: a heap on (priority, arrival): lower value first, ties in arrival order; a
 *    preempted sequence goes back into the heap with its own priority and arrival, as
 *    vLLM's PriorityRequestQueue does (prepend = add).
 * Aborted sequences are skipped lazily, since a queue thousands long under overload must
 * not be searched per abort.
 */
import type { Sequence } from './sequence.js';

export type SchedulingPolicy = 'fcfs' | 'priority';

export interface WaitingQueue {
  /** A new request. */
  push(sequence: Sequence): void;
  /** A running sequence the engine preempted (KV ran out): it waits to be recomputed. */
  pushPreempted(sequence: Sequence): void;
  /** The sequence the engine would admit next, dropping aborted entries on the way. */
  front(): Sequence | undefined;
  /** Removes what front() returned. */
  dequeueFront(): void;
}

export function waitingQueue(policy: SchedulingPolicy): WaitingQueue {
  return policy === 'priority' ? new PriorityQueue() : new FcfsQueue();
}

class FcfsQueue implements WaitingQueue {
  private readonly preempted: Sequence[] = [];
  private waiting: Sequence[] = [];
  private head = 0;

  push(sequence: Sequence): void {
    this.waiting.push(sequence);
  }

  pushPreempted(sequence: Sequence): void {
    this.preempted.push(sequence);
  }

  front(): Sequence | undefined {
    while (this.preempted.length > 0) {
      const top = this.preempted.at(-1)!;
      if (!top.aborted) return top;
      this.preempted.pop();
    }
    while (this.head < this.waiting.length) {
      const next = this.waiting[this.head]!;
      if (!next.aborted) return next;
      this.head++;
    }
    return undefined;
  }

  dequeueFront(): void {
    if (this.preempted.length > 0) this.preempted.pop();
    else this.head++;
    if (this.head > 1024 || (this.head > 0 && this.head === this.waiting.length)) {
      this.waiting = this.waiting.slice(this.head);
      this.head = 0;
    }
  }
}

/** Lower priority value first, then earlier arrival (vLLM's (priority, arrival_time) order). */
export function servedBefore(a: Sequence, b: Sequence): boolean {
  return a.priority !== b.priority ? a.priority < b.priority : a.arrival < b.arrival;
}

class PriorityQueue implements WaitingQueue {
  private readonly heap: Sequence[] = [];

  push(sequence: Sequence): void {
    const heap = this.heap;
    heap.push(sequence);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!servedBefore(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  pushPreempted(sequence: Sequence): void {
    this.push(sequence);
  }

  front(): Sequence | undefined {
    while (this.heap.length > 0 && this.heap[0]!.aborted) this.dequeueFront();
    return this.heap[0];
  }

  dequeueFront(): void {
    const heap = this.heap;
    const last = heap.pop();
    if (last === undefined || heap.length === 0) return;
    heap[0] = last;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let best = i;
      if (left < heap.length && servedBefore(heap[left]!, heap[best]!)) best = left;
      if (right < heap.length && servedBefore(heap[right]!, heap[best]!)) best = right;
      if (best === i) return;
      [heap[i], heap[best]] = [heap[best]!, heap[i]!];
      i = best;
    }
  }
}
