/**
 * What the simulation's event loop talks to: one scheduler (bench:sched's policies), or
 * several gateways in front of the same replicas (gateways.ts). Same calls as a Scheduler.
 */
import type { Told } from '../../src/scheduler/delay-history.js';
import type { ManagedScheduler } from '../../src/scheduler/managed.js';
import { SkylarkScheduler } from '../../src/scheduler/skylark-scheduler.js';
import type { Outcome, QueuePosition, SubmitCallbacks, WorkItem } from '../../src/scheduler/types.js';

export interface Front {
  /** Throws SkylarkError('server_overloaded') on an early refusal. */
  submit(item: WorkItem, callbacks: SubmitCallbacks): void;
  complete(requestId: string, outcome: Outcome): void;
  cancel(requestId: string): void;
  position(requestId: string): QueuePosition | undefined;
  pump(): void;
  nextWakeAt(): number | undefined;
  /** What a waiting request was told on arrival, where the scheduler keeps it (Skylark). */
  toldOnArrival(requestId: string): Told | undefined;
}

export function schedulerFront(scheduler: ManagedScheduler): Front {
  return {
    submit: (item, callbacks) => scheduler.submit(item, callbacks),
    complete: (id, outcome) => scheduler.complete(id, outcome),
    cancel: (id) => scheduler.cancel(id),
    position: (id) => scheduler.position(id),
    pump: () => scheduler.pump(),
    nextWakeAt: () => scheduler.nextWakeAt(),
    toldOnArrival: (id) => (scheduler instanceof SkylarkScheduler ? scheduler.toldOnArrival(id) : undefined),
  };
}
