/**
 * What waiting requests have actually waited, as a second opinion on the ETA (eta.ts) and
 * as the measure of how far to trust it.
 *
 * Delay history (Ibrahim & Whitt's "last-to-enter-service" family): a request arriving now
 * will wait about as long as the requests of its tier that just started did. It sees what a
 * snapshot of the line cannot (later, higher-tier arrivals going ahead, KV, rescues) because
 * it measures their effect; it lags when load changes. Each past wait is scaled to the new
 * request's place in line by the square root of the ratio of places: waits grow with the
 * place, but less than linearly, since the further back a request stands, the more its
 * wait is set by the tier's pace than by the line (the bench's runs: the square root beat
 * both the plain and the linearly scaled history on p90 at every load).
 *
 * The blend: both estimates are averaged in log space (errors are multiplicative: told
 * 200 ms, waited 600 ms), each weighted inversely to its recent squared log error on the
 * requests of the same tier. An estimator that has been exact keeps the whole weight; in
 * bench:sched's overload the weights settle near 0.5 each.
 * With config.forwardEta 'blend', the forward simulation of grants (forward-eta.ts) is a
 * third voice weighed the same way; with 'measure' it is kept in Told but has no say.
 *
 * The range: the ratio of actual to told wait over the tier's recent requests, its 10th
 * and 90th percentiles applied to the point (split conformal prediction). Shown only when
 * it is wide enough to matter; a precise number stays precise where it has proved so.
 */
import type { Tier } from './types.js';

/** Past waits kept per tier for the delay-history estimate. */
const historySize = 16;
/** Past ratios (actual ÷ told) kept per tier for the range. */
const rangeWindow = 64;
const rangeQuantiles = [0.1, 0.9] as const;
/** Ratios needed before a range is measured (none is shown before). */
const rangeMinSamples = 16;
/** Errors of both estimators measured before history gets any weight. */
const blendMinSamples = 8;
/** Weight of a new error in the running mean (a floor: the first ones weigh more). */
const errorAlpha = 0.05;
/**
 * Waits are compared in log space offset by this much (ms): 5 ms against 15 ms is no
 * error anyone notices, and a 0 ms estimate must not be infinitely wrong.
 */
const floorMs = 20;
/** A range is shown when its high end is at least this multiple of its low end … */
const rangeMinRatio = 1.5;
/** … and at least this much wider (ms). */
const rangeMinWidthMs = 100;

/** What a waiting request was told, and from which parts, kept until it is granted. */
export interface Told {
  /** 1-based place in line when told. */
  readonly position: number;
  readonly pacedMs: number;
  readonly historyMs: number | undefined;
  /** The forward simulation of grants (forward-eta.ts), where it had an answer. */
  readonly forwardMs?: number;
  readonly etaMs: number;
  readonly lowMs?: number;
  readonly highMs?: number;
}

interface Past {
  wait: number;
  position: number;
}

interface TierRecord {
  waits: Past[];
  ratios: number[];
  pacedError: number;
  historyError: number;
  errors: number;
  forwardError: number;
  forwardErrors: number;
}

const log = (ms: number): number => Math.log(Math.max(0, ms) + floorMs);

function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** One model's delay history, per tier. */
export class DelayHistory {
  private readonly tiers = new Map<Tier, TierRecord>();

  /** The delay-history estimate for place `position` (1-based); undefined before any request of the tier waited. */
  estimate(tier: Tier, position: number): number | undefined {
    const waits = this.tiers.get(tier)?.waits;
    if (waits === undefined || waits.length === 0) return undefined;
    let sum = 0;
    for (const past of waits) sum += past.wait * Math.sqrt(position / past.position);
    return sum / waits.length;
  }

  /** The ETA to tell for place `position`, given the paced estimate (eta.ts) and the forward simulation's (forward-eta.ts). */
  tell(tier: Tier, position: number, pacedMs: number, forwardMs?: number, blendForward = true): Told {
    const historyMs = this.estimate(tier, position);
    const record = this.tiers.get(tier);
    // Each voice weighs inversely to its recent squared log error; one not yet measured
    // enough (or without an answer now) has no say. Exact ones keep it all.
    const voices: Array<{ ms: number; error: number }> = [{ ms: pacedMs, error: record?.pacedError ?? 0 }];
    if (historyMs !== undefined && record !== undefined && record.errors >= blendMinSamples) voices.push({ ms: historyMs, error: record.historyError });
    if (blendForward && forwardMs !== undefined && record !== undefined && record.forwardErrors >= blendMinSamples) voices.push({ ms: forwardMs, error: record.forwardError });
    let etaMs = pacedMs;
    if (voices.length > 1) {
      const exact = voices.filter((v) => v.error <= 0);
      const used = exact.length > 0 ? exact : voices;
      let sum = 0;
      let weights = 0;
      for (const v of used) {
        const weight = exact.length > 0 ? 1 : 1 / v.error;
        sum += weight * log(v.ms);
        weights += weight;
      }
      etaMs = Math.exp(sum / weights) - floorMs;
    }
    etaMs = Math.max(0, etaMs);
    const range = this.range(record, etaMs);
    return { position, pacedMs, historyMs, ...(forwardMs === undefined ? {} : { forwardMs }), etaMs, ...range };
  }

  /** A request told `told` when it arrived was granted after `waitMs`. */
  learn(tier: Tier, told: Told, waitMs: number): void {
    const record = this.record(tier);
    if (told.historyMs !== undefined) {
      const weight = Math.max(errorAlpha, 1 / (record.errors + 1));
      record.pacedError += weight * ((log(told.pacedMs) - log(waitMs)) ** 2 - record.pacedError);
      record.historyError += weight * ((log(told.historyMs) - log(waitMs)) ** 2 - record.historyError);
      record.errors++;
    }
    if (told.forwardMs !== undefined) {
      const weight = Math.max(errorAlpha, 1 / (record.forwardErrors + 1));
      record.forwardError += weight * ((log(told.forwardMs) - log(waitMs)) ** 2 - record.forwardError);
      record.forwardErrors++;
    }
    push(record.ratios, (waitMs + floorMs) / (told.etaMs + floorMs), rangeWindow);
    push(record.waits, { wait: waitMs, position: told.position }, historySize);
  }

  private range(record: TierRecord | undefined, etaMs: number): { lowMs?: number; highMs?: number } {
    if (record === undefined || record.ratios.length < rangeMinSamples) return {};
    let low = (etaMs + floorMs) * quantile(record.ratios, rangeQuantiles[0]) - floorMs;
    let high = (etaMs + floorMs) * quantile(record.ratios, rangeQuantiles[1]) - floorMs;
    low = Math.round(Math.max(0, Math.min(low, etaMs)));
    high = Math.round(Math.max(high, etaMs));
    if (high < rangeMinRatio * Math.max(low, 1) || high - low < rangeMinWidthMs) return {};
    return { lowMs: low, highMs: high };
  }

  private record(tier: Tier): TierRecord {
    let record = this.tiers.get(tier);
    if (record === undefined) {
      record = { waits: [], ratios: [], pacedError: 0, historyError: 0, errors: 0, forwardError: 0, forwardErrors: 0 };
      this.tiers.set(tier, record);
    }
    return record;
  }
}

function push<T>(ring: T[], value: T, size: number): void {
  ring.push(value);
  if (ring.length > size) ring.shift();
}
