import type { Tier } from './types.js';

/** Every knob of the scheduler; `createScheduler` fills what is omitted from the defaults. */
export interface SchedulerConfig {
  /** VTC service charged per prompt token and per output token (Sheng et al. use 1 and 2). */
  inputTokenWeight: number;
  outputTokenWeight: number;
  /**
   * Relative shares of the interactive tiers when all are backlogged, in VTC service; batch
   * uses idle capacity. Priority's is large so that a burst of its own drains fast: at 8
   * (57 % of contended service) its requests queued behind each other in bench:sched's 2×
   * overload and 1.7 % missed a 1 s TTFT, at 16 (73 %) 0.4 %. Free keeps 2/22: none starves.
   */
  tierWeights: Record<Tier, number>;
  /**
   * Deadline for a wait when the request names none (ms). Under sustained overload every
   * tier's queue settles at its admission limit ((1 − admissionHeadroom) × deadline), so a
   * default longer than the latency users count as good only makes everyone wait that long
   * for the same throughput; a request that will wait longer is told so at once (429 with
   * Retry-After) and may say `x-skylark-max-wait-ms` to queue longer.
   */
  tierMaxWaitMs: Record<Tier, number>;
  /**
   * Aging: once a request has waited this fraction of its deadline it goes first within
   * its tier (earliest such first); batch, which has no share, goes first overall.
   */
  agingFraction: number;
  /** At this fraction of its deadline an interactive request goes before every tier's share. */
  rescueFraction: number;
  /**
   * Admission keeps this fraction of every deadline in hand: a request is admitted when
   * its estimated wait is within (1 − headroom) of its deadline. Estimates err both ways;
   * a queue admitted right up to its deadline would be late for every optimistic one.
   */
  admissionHeadroom: number;
  /** Completed requests of a model measured before a wait estimate may refuse one (0: the prior is trusted). */
  minMeasuredToRefuse: number;
  /** Requests one tenant may have waiting in one tier, over all models. */
  maxQueuedPerTenant: number;
  /** Fraction of each replica's slots batch work may not take, kept for interactive arrivals. */
  batchSlotReserve: number;
  /**
   * An interactive request that would wait because batch sequences hold a replica's slots
   * or KV takes the place of the newest of them (preemption.ts); they run again later.
   */
  batchPreemption: boolean;
  /** A batch grant younger than this is not preempted (ms): a line taken back at once, again and again, would never finish. */
  batchPreemptMinRunMs: number;
  /**
   * Batch work loads a replica (slots, KV) no further than interactive work did at its
   * recent peak, which decays with this time constant (ms), or than `batchLoadFloor` of
   * it (1: batch fills any idle capacity). See interactive-demand.ts.
   */
  batchPeakDecayMs: number;
  batchLoadFloor: number;
  /** At most this many batch sequences are preempted to start one interactive request. */
  batchPreemptMaxVictims: number;
  /** Fraction of a replica's KV budget kept free for the growth of running generations. */
  kvHeadroom: number;
  /** A grant counts on top of the engine's KV report this long, until the engine has admitted it (ms). */
  kvSettleMs: number;
  /**
   * Affinity lookahead: among tenants whose counters are within this much service of the
   * least-served one, the request sharing the longest prefix with a free replica may go
   * first. It widens VTC's fairness bound by the same amount, and no further.
   */
  fairnessWindow: number;
  /** At most this many tenants' head requests are weighed in one affinity lookahead. */
  affinityCandidates: number;
  /** Prefer the affinity replica unless its busy fraction exceeds the least-loaded one's by more. */
  affinityLoadGap: number;
  /** Prefix tokens remembered per replica; omitted: the replica's reported KV budget (or 2^20). */
  prefixCacheTokens?: number;
  /** Consecutive failures that open a replica's breaker, and how long it stays open (ms). */
  breakerFailures: number;
  breakerCooldownMs: number;
  /** Weight of a new sample in the service estimators (a floor: the first samples weigh more). */
  ewmaAlpha: number;
  /** What is assumed before any request completed. */
  priorServiceMs: number;
  priorFirstTokenMs: number;
  priorOutputTokens: number;
  /** Coefficient of variation assumed for service times before any is measured. */
  priorDurationCv: number;
  /** The least Retry-After ever answered (ms); smaller ones make clients hammer. */
  minRetryAfterMs: number;
  /** A waiting request's place is recomputed exactly after this many O(1) estimates (arrivals make them drift). */
  progressExactEvery: number;
  /**
   * The least time between two onProgress calls to one request. 0: on every grant ahead of
   * it, which costs O(watchers) per grant; a gateway sending SSE comments wants ~1000.
   */
  progressMinIntervalMs: number;
  /**
   * The forward simulation of grants as an ETA (forward-eta.ts): 'off', 'measure' (computed
   * and kept with what a request was told, for bench:sched's calibration, not shown), or
   * 'blend' (a third voice of the error-weighted blend shown: delay-history.ts). Off by
   * default: in bench:sched's quick runs the blend improved the median error by 0–2 points
   * but made p90 3–6 points worse in 4 of 12 rows (docs/benchmarks.md, issue 13 item 2),
   * and it costs O(sequences running × steps) per new state.
   */
  forwardEta: 'off' | 'measure' | 'blend';
  /** The SGLang router's cache-aware policy (its defaults). */
  cacheAware: { cacheThreshold: number; balanceAbsThreshold: number; balanceRelThreshold: number; maxTreeTokens: number };
}

export const defaultSchedulerConfig: SchedulerConfig = {
  inputTokenWeight: 1,
  outputTokenWeight: 2,
  tierWeights: { priority: 16, standard: 4, free: 2, batch: 1 },
  tierMaxWaitMs: { priority: 2_000, standard: 1_500, free: 3_000, batch: 600_000 },
  agingFraction: 0.75,
  rescueFraction: 0.95,
  admissionHeadroom: 0.2,
  minMeasuredToRefuse: 0,
  maxQueuedPerTenant: 256,
  batchSlotReserve: 0.1,
  batchPreemption: true,
  batchPreemptMinRunMs: 1_000,
  batchPreemptMaxVictims: 4,
  batchPeakDecayMs: 600_000,
  batchLoadFloor: 0.4,
  kvHeadroom: 0.05,
  kvSettleMs: 100,
  fairnessWindow: 2_048,
  affinityCandidates: 8,
  affinityLoadGap: 0.25,
  breakerFailures: 5,
  breakerCooldownMs: 10_000,
  ewmaAlpha: 0.05,
  priorServiceMs: 4_000,
  priorFirstTokenMs: 300,
  priorOutputTokens: 256,
  priorDurationCv: 1,
  minRetryAfterMs: 100,
  progressExactEvery: 16,
  progressMinIntervalMs: 0,
  forwardEta: 'off',
  // SGLang router (sglang_router RouterArgs): cache_threshold 0.5, balance_abs_threshold 32,
  // balance_rel_threshold 1.0001, max_tree_size 2^24 characters (about 4 per token).
  cacheAware: { cacheThreshold: 0.5, balanceAbsThreshold: 32, balanceRelThreshold: 1.0001, maxTreeTokens: 2 ** 22 },
};

/** What a caller may override: any field, and any single tier of the per-tier maps. */
export type SchedulerConfigOverrides = Partial<Omit<SchedulerConfig, 'tierWeights' | 'tierMaxWaitMs' | 'cacheAware'>> & {
  tierWeights?: Partial<SchedulerConfig['tierWeights']>;
  tierMaxWaitMs?: Partial<SchedulerConfig['tierMaxWaitMs']>;
  cacheAware?: Partial<SchedulerConfig['cacheAware']>;
};

export function resolveConfig(overrides: SchedulerConfigOverrides = {}): SchedulerConfig {
  const config: SchedulerConfig = {
    ...defaultSchedulerConfig,
    ...overrides,
    tierWeights: { ...defaultSchedulerConfig.tierWeights, ...overrides.tierWeights },
    tierMaxWaitMs: { ...defaultSchedulerConfig.tierMaxWaitMs, ...overrides.tierMaxWaitMs },
    cacheAware: { ...defaultSchedulerConfig.cacheAware, ...overrides.cacheAware },
  };
  for (const [tier, weight] of Object.entries(config.tierWeights)) {
    if (!(weight > 0)) throw new RangeError(`tierWeights.${tier} must be positive`);
  }
  if (!(config.agingFraction > 0 && config.rescueFraction > 0)) throw new RangeError('agingFraction and rescueFraction must be positive');
  if (!(config.admissionHeadroom >= 0 && config.admissionHeadroom < 1)) throw new RangeError('admissionHeadroom must be in [0, 1)');
  if (!(config.ewmaAlpha > 0 && config.ewmaAlpha <= 1)) throw new RangeError('ewmaAlpha must be in (0, 1]');
  return config;
}
