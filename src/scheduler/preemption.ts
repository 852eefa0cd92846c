/**
 * Preemption of batch work for interactive arrivals, as vLLM and SGLang do inside one
 * engine and production schedulers do across a fleet: batch runs on idle capacity, and when
 * an interactive request would have to wait because batch sequences hold a replica's slots
 * or KV, the newest of them give their place back. Their holder is told (onPreempt) and
 * runs them again later; the work they had done is lost (the engine frees their KV), which
 * is why the newest go first — the least work is wasted — and why a sequence that has run
 * less than `batchPreemptMinRunMs` is left alone: a line granted and taken back over and
 * over would make no progress at all.
 *
 * Only grants whose holder can run them again (an onPreempt callback) in the batch tier
 * are candidates; interactive work is never preempted.
 */
import type { SchedulerConfig } from './config.js';
import type { ReplicaView } from './router.js';

/** A running batch grant that may be taken back. */
export interface Victim {
  readonly requestId: string;
  readonly grantedAt: number;
  /** KV the scheduler counted for it (its prompt segments no one else references, plus its expected output). */
  readonly kv: number;
}

/**
 * The fewest victims on `view` that make room for a request needing `needKv` tokens of KV
 * (newest first), or undefined when none may be taken or taking the most allowed would not
 * be enough. `running` is in grant order.
 */
export function chooseVictims(view: ReplicaView, running: readonly Victim[], needKv: number, config: SchedulerConfig, now: number): Victim[] | undefined {
  if (!config.batchPreemption || !view.allowed) return undefined;
  let busy = view.busy;
  let kvUsed = view.kvUsed;
  const fits = (): boolean => {
    if (busy >= view.slots) return false;
    if (view.kvTokens === undefined || busy === 0) return true;
    return kvUsed + needKv <= view.kvTokens * (1 - config.kvHeadroom);
  };
  const victims: Victim[] = [];
  for (let i = running.length - 1; i >= 0 && !fits(); i--) {
    const candidate = running[i]!;
    if (now - candidate.grantedAt < config.batchPreemptMinRunMs) continue;
    if (victims.length >= config.batchPreemptMaxVictims) return undefined;
    victims.push(candidate);
    busy--;
    kvUsed -= candidate.kv;
  }
  return fits() ? victims : undefined;
}

/** Per replica, its running batch grants that may be preempted, in grant order. */
export class PreemptibleGrants<T extends Victim> {
  private readonly byReplica = new Map<string, T[]>();

  get empty(): boolean {
    return this.byReplica.size === 0;
  }

  running(replicaId: string): readonly T[] | undefined {
    return this.byReplica.get(replicaId);
  }

  add(replicaId: string, grant: T): void {
    const running = this.byReplica.get(replicaId);
    if (running === undefined) this.byReplica.set(replicaId, [grant]);
    else running.push(grant);
  }

  remove(replicaId: string, grant: T): void {
    const running = this.byReplica.get(replicaId);
    const index = running?.lastIndexOf(grant) ?? -1;
    if (index < 0) return;
    running!.splice(index, 1);
    if (running!.length === 0) this.byReplica.delete(replicaId);
  }

  /** When the next grant still too young to preempt comes of age, per replica. */
  *comingOfAge(minRunMs: number, now: number): Iterable<number> {
    for (const running of this.byReplica.values()) {
      const young = running.find((g) => g.grantedAt + minRunMs > now);
      if (young !== undefined) yield young.grantedAt + minRunMs;
    }
  }
}

/** Of several replicas' answers, the one wasting least: fewest victims, then the newest. */
export function leastWasteful<T extends { victims: readonly Victim[] }>(options: readonly T[]): T | undefined {
  let best: T | undefined;
  let bestAge = 0;
  for (const option of options) {
    const age = option.victims.reduce((sum, v) => sum - v.grantedAt, 0);
    if (best === undefined || option.victims.length < best.victims.length || (option.victims.length === best.victims.length && age < bestAge)) {
      best = option;
      bestAge = age;
    }
  }
  return best;
}
