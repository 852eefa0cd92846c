import type { Told } from './delay-history.js';
import type { HeapMember } from './heap.js';
import type { SubmitCallbacks, WorkItem } from './types.js';

/** A request admitted and waiting in the scheduler. */
export interface Waiting extends HeapMember {
  readonly item: WorkItem;
  readonly callbacks: SubmitCallbacks;
  /** The model it waits for: `item.model` or the fallback it was admitted to. */
  readonly model: string;
  readonly fallback: boolean;
  readonly enqueuedAt: number;
  /** When aging puts it first in its tier, ahead of fair order. */
  readonly urgentAt: number;
  /** When, about to miss its deadline, it goes before every tier's share. */
  readonly rescueAt: number;
  /** Arrival order, the tie-break everywhere. */
  readonly seq: number;
  /** VTC service it will be charged at dispatch (prompt plus the output estimate, weighted). */
  readonly cost: number;
  /** Service of its tenant's requests queued before it, counted from an arbitrary origin. */
  cumBefore: number;
  /**
   * Its place as last computed exactly, with the model's grants and its tier's service at
   * that moment: each grant since moves it up one, each unit of its tier's service since
   * takes one off the service before it, without touching it (tiers.ts, estimate).
   */
  mark: { ahead: number; tierWork: number; grants: number; served: number; estimates: number };
  /** When onProgress was last called. */
  reportedAt: number;
  /** Nobody was ahead of it when it was queued: its wait measures the head of the line. */
  firstInLine: boolean;
  /** The longest wait admission accepted for it (its deadline less the headroom). */
  readonly admitLimit: number;
  /** What it was first told (on arrival), to learn from when it is granted (delay-history.ts). */
  told?: Told;
  /** The model's grant count when it was told that (forward-eta.ts learns overtaking from it). */
  toldGrants?: number;
}
