/**
 * Service-time estimates learned from completions, and the wait they imply.
 *
 * The wait of a request with `ahead` requests before it is the time until `ahead + 1`
 * slots have freed up. Two views of that are blended by how predictable service times
 * have proved to be (their measured coefficient of variation, cv):
 *  - by expected ends: the running requests end at grant + expected duration, sorted; the
 *    k-th request ahead takes the slot freed k-th, and each later round adds one duration.
 *    Exact when durations are known (cv → 0).
 *  - fluid: R requests running with mean duration D complete at R / D per ms (Little's
 *    law), so the wait is (ahead + 1) · D / R. Right on average whatever the distribution,
 *    and the better guess when durations vary (cv ≈ 1: an exponential's residual life is
 *    its mean however long it has run, and the running set over-represents long requests).
 */
import type { SchedulerConfig } from './config.js';
import type { Outcome } from './types.js';

/** An exponentially weighted mean whose first samples weigh more, so the prior fades fast. */
export class Ewma {
  private samples = 0;

  constructor(
    public value: number,
    private readonly alpha: number,
    /** Samples the prior is worth (0: the first sample replaces it). */
    private readonly priorSamples = 1,
  ) {}

  /** Samples seen so far. */
  get count(): number {
    return this.samples;
  }

  add(sample: number): void {
    const weight = Math.max(this.alpha, 1 / (this.samples + 1 + this.priorSamples));
    this.value += weight * (sample - this.value);
    this.samples++;
  }
}

interface ModelStats {
  duration: Ewma;
  firstToken: Ewma;
  output: Ewma;
  /** Mean squared relative error of duration predictions. */
  relativeError2: Ewma;
  /** Expected ends of running requests, ascending. */
  ends: number[];
}

export class ServiceEstimator {
  private readonly models = new Map<string, ModelStats>();
  private readonly replicaDurations = new Map<string, Ewma>();

  constructor(private readonly config: SchedulerConfig) {}

  expectedOutput(model: string, maxOutputTokens: number): number {
    return Math.min(maxOutputTokens, this.stats(model).output.value);
  }

  /** How long a request holds a slot, from grant to end, on `replicaId` (or anywhere). */
  expectedDuration(model: string, maxOutputTokens: number, replicaId?: string): number {
    const stats = this.stats(model);
    const base = (replicaId === undefined ? undefined : this.replicaDurations.get(key(model, replicaId))?.value) ?? stats.duration.value;
    const firstToken = Math.min(stats.firstToken.value, base);
    // A low max_tokens cuts decoding short, not the prefill before the first token.
    const share = stats.output.value > 0 ? Math.min(1, maxOutputTokens / stats.output.value) : 1;
    return firstToken + (base - firstToken) * share;
  }

  started(model: string, expectedEnd: number): void {
    const ends = this.stats(model).ends;
    ends.splice(lowerBound(ends, expectedEnd), 0, expectedEnd);
  }

  /** A grant ended; `outcome` (a success) teaches the estimators, a cancel or failure does not. */
  ended(model: string, replicaId: string, grantedAt: number, expectedEnd: number, now: number, outcome?: Outcome): void {
    const stats = this.stats(model);
    const index = lowerBound(stats.ends, expectedEnd);
    if (stats.ends[index] === expectedEnd) stats.ends.splice(index, 1);
    if (outcome === undefined || !outcome.ok) return;
    const duration = now - grantedAt;
    const expected = expectedEnd - grantedAt;
    if (expected > 0) stats.relativeError2.add(((duration - expected) / expected) ** 2);
    stats.duration.add(duration);
    let replica = this.replicaDurations.get(key(model, replicaId));
    if (replica === undefined) {
      replica = new Ewma(stats.duration.value, this.config.ewmaAlpha);
      this.replicaDurations.set(key(model, replicaId), replica);
    }
    replica.add(duration);
    if (outcome.firstTokenMs !== undefined) stats.firstToken.add(outcome.firstTokenMs);
    stats.output.add(outcome.completionTokens);
  }

  running(model: string): number {
    return this.stats(model).ends.length;
  }

  /** Expected ms until a request with `ahead` requests before it gets a slot; `capacity` when nothing runs. */
  wait(model: string, ahead: number, now: number, capacity: number): number {
    const stats = this.stats(model);
    const duration = stats.duration.value;
    const running = stats.ends.length;
    if (running === 0) return ((ahead + 1) * duration) / Math.max(1, capacity);
    const fluid = ((ahead + 1) * duration) / running;
    const byEnds = Math.max(0, stats.ends[ahead % running]! - now) + Math.floor(ahead / running) * duration;
    const variability = Math.min(1, Math.sqrt(stats.relativeError2.value));
    return (1 - variability) * byEnds + variability * fluid;
  }

  /** Requests of this model that completed and were measured. */
  measured(model: string): number {
    return this.stats(model).duration.count;
  }

  meanDuration(model: string): number {
    return this.stats(model).duration.value;
  }

  private stats(model: string): ModelStats {
    let stats = this.models.get(model);
    if (stats === undefined) {
      const { ewmaAlpha: alpha } = this.config;
      stats = {
        duration: new Ewma(this.config.priorServiceMs, alpha),
        firstToken: new Ewma(this.config.priorFirstTokenMs, alpha),
        output: new Ewma(this.config.priorOutputTokens, alpha),
        relativeError2: new Ewma(this.config.priorDurationCv ** 2, alpha),
        ends: [],
      };
      this.models.set(model, stats);
    }
    return stats;
  }
}

function key(model: string, replicaId: string): string {
  return `${model}\u0000${replicaId}`;
}

function lowerBound(sorted: readonly number[], value: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (sorted[mid]! < value) low = mid + 1;
    else high = mid;
  }
  return low;
}
