import type { ReplicaHandle, Scheduler } from './types.js';

/**
 * Scheduling policies, all behind the same Scheduler so a benchmark compares policies and
 * not code paths. `skylark` queues in the scheduler; the others are the baselines people
 * run, which dispatch every request at once and let the engines queue.
 */
export type PolicyName = 'skylark' | 'naive' | 'random' | 'least-request' | 'cache-aware';

export const policyNames: readonly PolicyName[] = ['skylark', 'naive', 'random', 'least-request', 'cache-aware'];

/** A Scheduler plus what its owner needs to run it. */
export interface ManagedScheduler extends Scheduler {
  readonly policy: PolicyName;
  /** Replicas come and go at run time (a deployment scaled, an engine restarted). */
  addReplica(replica: ReplicaHandle): void;
  /** Its grants still in flight complete normally; nothing new is sent to it. */
  removeReplica(replicaId: string): void;
  /**
   * The clock time at which `pump()` may grant something although nothing was submitted
   * or completed (a breaker's cool-down ends, a request ages); undefined when
   * no such moment is pending. An event loop, or the gateway's one timer, calls pump then.
   */
  nextWakeAt(): number | undefined;
}
