/**
 * The baselines' scheduler: every request is granted at once, FCFS, to the replica its
 * policy picks, whatever that replica's load; the engine queues what it cannot start, as
 * vLLM and SGLang do behind a plain router. No admission control, no early rejection, no
 * tiers: what a gateway without a scheduler gives.
 */
import type { Clock } from '../core/clock.js';
import { SkylarkError } from '../core/errors.js';
import type { SchedulerConfig } from './config.js';
import type { ManagedScheduler, PolicyName } from './managed.js';
import type { ImmediateReplica, ReplicaChooser } from './policies.js';
import { PrefixLru } from './prefix-lru.js';
import { tiers, type Outcome, type QueuePosition, type QueueSnapshot, type ReplicaHandle, type SubmitCallbacks, type WorkItem } from './types.js';

export class ImmediateScheduler implements ManagedScheduler {
  private readonly replicas = new Map<string, ImmediateReplica>();
  private readonly granted = new Map<string, ImmediateReplica>();

  constructor(
    readonly policy: Exclude<PolicyName, 'skylark'>,
    private readonly clock: Clock,
    replicas: readonly ReplicaHandle[],
    private readonly choose: ReplicaChooser,
    private readonly config: SchedulerConfig,
  ) {
    for (const replica of replicas) this.addReplica(replica);
  }

  addReplica(handle: ReplicaHandle): void {
    if (this.replicas.has(handle.id)) throw new Error(`Replica ${handle.id} is already scheduled.`);
    this.replicas.set(handle.id, { handle, outstanding: 0, prefixes: new PrefixLru(this.config.cacheAware.maxTreeTokens) });
  }

  removeReplica(replicaId: string): void {
    this.replicas.delete(replicaId);
  }

  submit(item: WorkItem, callbacks: SubmitCallbacks): void {
    if (this.granted.has(item.requestId)) throw new SkylarkError('invalid_request', `Request ${item.requestId} is already scheduled.`);
    // A fallback is used only when no replica may take the primary (routers fail over on
    // errors, not on load).
    for (const [index, model] of [item.model, ...(item.fallbackModels ?? [])].entries()) {
      const candidates = [...this.replicas.values()].filter(
        (replica) => replica.handle.models.includes(model) && !item.excludeReplicas?.includes(replica.handle.id),
      );
      if (candidates.length === 0) continue;
      const replica = this.choose(item, candidates);
      replica.outstanding++;
      this.granted.set(item.requestId, replica);
      callbacks.onGrant({ requestId: item.requestId, replicaId: replica.handle.id, model, fallback: index > 0, queuedMs: 0 });
      return;
    }
    throw new SkylarkError('engine_unavailable', `No replica that may take this request serves model ${item.model}.`);
  }

  complete(requestId: string, _outcome: Outcome): void {
    this.cancel(requestId);
  }

  cancel(requestId: string): void {
    const replica = this.granted.get(requestId);
    if (replica === undefined) return;
    this.granted.delete(requestId);
    replica.outstanding--;
  }

  position(_requestId: string): QueuePosition | undefined {
    return undefined;
  }

  pump(): void {
    // Nothing waits here: every request was granted when it was submitted.
  }

  nextWakeAt(): number | undefined {
    return undefined;
  }

  snapshot(): QueueSnapshot {
    const models = new Set<string>();
    for (const replica of this.replicas.values()) for (const model of replica.handle.models) models.add(model);
    return {
      at: this.clock.now(),
      models: [...models].sort().map((model) => ({
        model,
        tiers: tiers.map((tier) => ({ tier, depth: 0, oldestWaitMs: 0, etaMs: 0 })),
        replicas: [...this.replicas.values()]
          .filter((replica) => replica.handle.models.includes(model))
          .map((replica) => {
            const load = replica.handle.load();
            return { id: replica.handle.id, slots: load.slots, busy: Math.max(load.busy, replica.outstanding), breaker: 'closed' as const };
          }),
      })),
    };
  }
}
