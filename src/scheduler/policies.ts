/**
 * Replica choice of the baseline policies, each as its reference implementation does it,
 * so the benchmark measures the policies and not our rendition of them.
 */
import type { SchedulerConfig } from './config.js';
import { PrefixLru } from './prefix-lru.js';
import type { ReplicaHandle, WorkItem } from './types.js';

export interface ImmediateReplica {
  readonly handle: ReplicaHandle;
  /** Requests sent and not yet completed, as a router counts them (it cannot see engine queues). */
  outstanding: number;
  /** What this router sent the replica (cache-aware only). */
  readonly prefixes: PrefixLru;
}

/** Picks one of `candidates` (never empty: the replicas serving the model, minus exclusions). */
export type ReplicaChooser = (item: WorkItem, candidates: readonly ImmediateReplica[]) => ImmediateReplica;

/** Round robin per model, as a plain load balancer (or SGLang's round_robin policy) does. */
export function roundRobin(): ReplicaChooser {
  const cursors = new Map<string, number>();
  return (item, candidates) => {
    const cursor = cursors.get(item.model) ?? 0;
    cursors.set(item.model, cursor + 1);
    return candidates[cursor % candidates.length]!;
  };
}

/** LiteLLM's default `simple-shuffle`: a uniformly random deployment (no weights configured). */
export function simpleShuffle(random: () => number): ReplicaChooser {
  return (_item, candidates) => candidates[Math.min(candidates.length - 1, Math.floor(random() * candidates.length))]!;
}

/** Fewest requests in flight from this router (LiteLLM's least-busy, SGLang's shortest queue). */
export function leastRequest(): ReplicaChooser {
  return (_item, candidates) => leastLoaded(candidates);
}

/**
 * The SGLang router's `cache_aware` policy: when load is imbalanced (max − min in-flight
 * above the absolute threshold and max above min × the relative one) the least loaded
 * replica; otherwise the replica whose approximate tree matches the longest prefix, if
 * the match covers more than `cacheThreshold` of the prompt, else the replica with the
 * smallest tree (the most cache room). The prompt is then recorded in the chosen tree.
 */
export function cacheAware(config: SchedulerConfig['cacheAware']): ReplicaChooser {
  return (item, candidates) => {
    const chosen = cacheAwareChoice(item, candidates, config);
    chosen.prefixes.insert(item.prefix);
    return chosen;
  };
}

function cacheAwareChoice(item: WorkItem, candidates: readonly ImmediateReplica[], config: SchedulerConfig['cacheAware']): ImmediateReplica {
  let max = 0;
  let min = Number.POSITIVE_INFINITY;
  for (const replica of candidates) {
    max = Math.max(max, replica.outstanding);
    min = Math.min(min, replica.outstanding);
  }
  if (max - min > config.balanceAbsThreshold && max > min * config.balanceRelThreshold) return leastLoaded(candidates);
  let best = candidates[0]!;
  let bestMatched = -1;
  for (const replica of candidates) {
    const matched = replica.prefixes.matchedTokens(item.prefix);
    if (matched > bestMatched) {
      best = replica;
      bestMatched = matched;
    }
  }
  if (item.promptTokens > 0 && bestMatched / item.promptTokens > config.cacheThreshold) return best;
  let smallest = candidates[0]!;
  for (const replica of candidates) if (replica.prefixes.tokens < smallest.prefixes.tokens) smallest = replica;
  return smallest;
}

function leastLoaded(candidates: readonly ImmediateReplica[]): ImmediateReplica {
  let best = candidates[0]!;
  for (const replica of candidates) if (replica.outstanding < best.outstanding) best = replica;
  return best;
}
