/**
 * What the gateway's dispatch asks of a scheduler shared by several gateways: a place in
 * one global line per model, and replica slots as leases. The Redis implementation is
 * redis-slot-leases.ts; without REDIS_URL nothing of this runs.
 */
import type { Tier } from '../../scheduler/types.js';

export interface LeaseRequest {
  /** From the first answer on: the request's member in the line ('' before). */
  member: string;
  requestId: string;
  model: string;
  tenantId: string;
  tier: Tier;
  /** Fair-share service this request is charged at entry (VTC weights), before the tier's weight. */
  cost: number;
  /** Replicas it may run on, with their slots; the first choice first when it has one. */
  candidates: ReadonlyArray<{ id: string; slots: number }>;
  /** The replica the local scheduler would pick (prefix affinity), if any. */
  preferred?: string;
  /** Now in wall-clock ms, the time base all gateways share; the line ages its members by it. Default: Date.now(). */
  now?: number;
  /** When, waiting, it goes to the head of fair order (agingFraction of its deadline); omitted: never. */
  agingAt?: number;
  /** When, waiting, it goes before everyone (rescueFraction of its deadline); omitted: never. */
  rescueAt?: number;
}

export type LeaseAnswer =
  | {
      granted: true;
      member: string;
      replicaId: string;
      rank: number;
      /** The line's virtual time after the grant, and members still waiting. */
      v: number;
      waiting: number;
    }
  | {
      granted: false;
      member: string;
      /** 0-based place in the global line. */
      rank: number;
      free: number;
      /** Its fair start tag (score less the batch offset; lower once aged) and the line's virtual time. */
      tag: number;
      v: number;
      /** Members waiting in the line. */
      waiting: number;
    };

export interface HeldLease {
  member: string;
  model: string;
  tenantId: string;
  tier: Tier;
  replicaId: string;
}

export interface Freed {
  model: string;
  /** The first waiting members of the line, head first. */
  head: string[];
}

export interface SlotLeases {
  /** Joins the line if not in it yet, and takes a lease when its turn has come. */
  acquire(request: LeaseRequest): Promise<LeaseAnswer>;
  /**
   * Gives a lease back; `correction` is service received minus the `cost` charged. The
   * first `heads` waiting members of the line are named to every gateway (onFreed).
   */
  release(lease: HeldLease, correction: number, heads: number, now?: number): Promise<void>;
  /** Leaves the line unserved. */
  withdraw(request: Pick<LeaseRequest, 'member' | 'model' | 'tenantId' | 'tier' | 'cost'>): Promise<void>;
  /**
   * Called whenever some gateway gave a slot back (or a dead one's were swept). `freed`
   * names the model and the members at the head of its line when a lease was released;
   * it is undefined when the line changed otherwise (a sweep, a withdrawal).
   */
  onFreed(listener: (freed: Freed | undefined) => void): void;
  /** Leases held on each replica now, by every gateway. */
  leases(replicaIds: readonly string[]): Promise<number[]>;
  close(): Promise<void>;
}
