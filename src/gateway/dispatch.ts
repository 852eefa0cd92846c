/**
 * The scheduler as the gateway runs it: engines become replicas, the scheduler's one
 * pending wake-up (a breaker's cool-down, say) becomes one timer, and waiting requests are
 * remembered with their tenant so `GET /v1/queue/{id}` answers only their owner.
 */
import type { Clock } from '../core/clock.js';
import type { SkylarkError } from '../core/errors.js';
import type { Engine } from '../engines/engine.js';
import type { ManagedScheduler } from '../scheduler/managed.js';
import type { QueuePosition, QueueSnapshot, ReplicaHandle, SubmitCallbacks, WorkItem } from '../scheduler/types.js';

/** An engine as the scheduler sees it: its slots and what runs on them now. */
export function engineReplica(engine: Engine, models: readonly string[]): ReplicaHandle {
  return {
    id: engine.id,
    models,
    load: () => {
      // An engine still loading (or failed) can start nothing.
      if (engine.health().state !== 'ready') return { slots: 0, busy: 0 };
      const { slots, busy, kvTokens, kvUsed } = engine.capacity();
      return kvTokens === undefined ? { slots, busy } : { slots, busy, kvTokens, kvUsed: kvUsed ?? 0 };
    },
  };
}

/** The scheduler's callbacks, plus a refusal that can come after submit returned (shared scheduling's global line). */
export interface DispatchCallbacks extends SubmitCallbacks {
  onRefused?(error: SkylarkError): void;
}

const admittedNow = Promise.resolve();

export class Dispatch {
  private timer: NodeJS.Timeout | undefined;
  private poll: NodeJS.Timeout | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private readonly owners = new Map<string, string>();
  /** `tenant:x-client-request-id` → request id, so a client can ask before it has our id. */
  private readonly aliases = new Map<string, string>();

  constructor(
    protected readonly scheduler: ManagedScheduler,
    protected readonly engines: ReadonlyMap<string, Engine>,
    protected readonly clock: Clock,
  ) {}

  engine(replicaId: string): Engine | undefined {
    return this.engines.get(replicaId);
  }

  /**
   * Throws SkylarkError('server_overloaded') when the request cannot be served in time.
   * The promise settles once admission is final: here at once; with a shared line
   * (shared-scheduling/) when the global line has answered, rejecting on a refusal.
   */
  submit(item: WorkItem, callbacks: DispatchCallbacks, clientRequestId?: string): Promise<void> {
    this.owners.set(item.requestId, item.tenantId);
    const alias = clientRequestId === undefined ? undefined : `${item.tenantId}:${clientRequestId}`;
    if (alias !== undefined) this.aliases.set(alias, item.requestId);
    const forget = () => {
      this.owners.delete(item.requestId);
      if (alias !== undefined && this.aliases.get(alias) === item.requestId) this.aliases.delete(alias);
    };
    this.forgetters.set(item.requestId, forget);
    try {
      this.scheduler.submit(item, {
        ...callbacks,
        onGrant: (grant) => {
          this.forget(item.requestId);
          callbacks.onGrant(grant);
        },
      });
    } catch (error) {
      this.forget(item.requestId);
      throw error;
    } finally {
      this.arm();
    }
    return admittedNow;
  }

  complete(...args: Parameters<ManagedScheduler['complete']>): void {
    this.scheduler.complete(...args);
    this.arm();
  }

  cancel(requestId: string): void {
    this.forget(requestId);
    this.scheduler.cancel(requestId);
    this.arm();
  }

  /** A waiting request's place in line (by our id or the client's), for its own tenant only. */
  position(id: string, tenantId: string, operator: boolean): QueuePosition | undefined {
    const requestId = this.aliases.get(`${tenantId}:${id}`) ?? id;
    const owner = this.owners.get(requestId);
    if (owner === undefined || (owner !== tenantId && !operator)) return undefined;
    return this.scheduler.position(requestId);
  }

  /** As position(), but also a request waiting on another gateway (shared scheduling). */
  async positionAnywhere(id: string, tenantId: string, operator: boolean): Promise<QueuePosition | undefined> {
    return this.position(id, tenantId, operator);
  }

  snapshot(): QueueSnapshot {
    return this.scheduler.snapshot();
  }

  /**
   * Engines whose load comes from their own metrics change outside submit and complete:
   * look again every `everyMs`, so a replica freed by traffic Skylark did not send is used
   * at once rather than at the next local event.
   */
  watchExternalLoad(everyMs: number): void {
    if (this.poll) return;
    this.poll = setInterval(() => {
      this.scheduler.pump();
      this.arm();
    }, everyMs);
    this.poll.unref();
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.poll) clearInterval(this.poll);
    this.timer = undefined;
    this.poll = undefined;
  }

  private readonly forgetters = new Map<string, () => void>();

  private forget(requestId: string): void {
    this.forgetters.get(requestId)?.();
    this.forgetters.delete(requestId);
  }

  protected arm(): void {
    const at = this.scheduler.nextWakeAt();
    if (at === undefined || at >= this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Number.POSITIVE_INFINITY;
      this.scheduler.pump();
      this.arm();
    }, Math.max(0, at - this.clock.now()));
    this.timer.unref();
  }
}
