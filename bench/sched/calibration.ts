/**
 * ETA calibration (issue 13, item 2): the ETA a waiting request was shown on arrival
 * against the wait it had, for the scheduler's paced estimate alone (the ETA before the
 * delay history) and for the blend it now shows, in the same run. Per tier and over all:
 * median and p90 relative error, and the share of waits that ended within what was shown
 * (the range's high end where a range was shown, else the point). Same population as the
 * error in the other tables: requests that waited ≥ 100 ms. Beside them, the forward
 * simulation of grants (forward-eta.ts), which the skylark rows compute without showing
 * it (config.forwardEta 'measure'; --config '{"forwardEta":"blend"}' shows it).
 */
import { fixed, table } from '../lib/stats.js';
import { tiers, type Tier } from '../../src/scheduler/types.js';
import type { RequestRecord } from './metrics.js';
import type { Row } from './report.js';
import type { WorkloadName } from './workload.js';

export interface EtaFit {
  median: number;
  p90: number;
  /** Share of waits ≤ the ETA shown (its range's high end where one was shown). */
  within: number;
  samples: number;
}

export interface EtaCalibration {
  /** The paced estimate alone (eta.ts): what was shown before the delay history. */
  paced: Record<Tier | 'all', EtaFit>;
  /** The blend with the delay history, and its range (delay-history.ts): what is shown now. */
  blend: Record<Tier | 'all', EtaFit>;
  /**
   * The forward simulation of grants (forward-eta.ts), where it answered, else the paced
   * estimate (what the blend falls back to); measured, shown only with forwardEta 'blend'.
   */
  forward: Record<Tier | 'all', EtaFit>;
  /** Share of these requests the forward simulation answered for (NaN: it was off). */
  forwardShare: number;
  /** Share of these requests shown a range. */
  rangeShown: number;
}

export const etaMinWaitMs = 100;

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

function fit(records: readonly RequestRecord[], point: (r: RequestRecord) => number, high: (r: RequestRecord) => number): EtaFit {
  const errors = Float64Array.from(records, (r) => Math.abs(point(r) - waitOf(r)) / waitOf(r)).sort();
  const within = records.filter((r) => waitOf(r) <= high(r)).length;
  return { median: quantile([...errors], 0.5), p90: quantile([...errors], 0.9), within: records.length === 0 ? Number.NaN : within / records.length, samples: records.length };
}

const waitOf = (r: RequestRecord): number => r.grantAt - r.spec.arrival;
const forwardOr = (r: RequestRecord): number => (Number.isNaN(r.etaForwardMs) ? r.etaPacedMs : r.etaForwardMs);

export function calibrate(records: readonly RequestRecord[]): EtaCalibration {
  const waited = records.filter((r) => !Number.isNaN(r.etaMs) && !Number.isNaN(r.etaPacedMs) && !Number.isNaN(r.grantAt) && waitOf(r) >= etaMinWaitMs);
  const per = (pick: (list: readonly RequestRecord[]) => EtaFit): Record<Tier | 'all', EtaFit> =>
    Object.fromEntries([['all', pick(waited)], ...tiers.map((tier) => [tier, pick(waited.filter((r) => r.spec.tenant.tier === tier))])]) as Record<Tier | 'all', EtaFit>;
  return {
    paced: per((list) => fit(list, (r) => r.etaPacedMs, (r) => r.etaPacedMs)),
    blend: per((list) => fit(list, (r) => r.etaMs, (r) => (Number.isNaN(r.etaHighMs) ? r.etaMs : r.etaHighMs))),
    forward: per((list) => fit(list, forwardOr, forwardOr)),
    forwardShare: waited.length === 0 || waited.every((r) => Number.isNaN(r.etaForwardMs)) ? Number.NaN : waited.filter((r) => !Number.isNaN(r.etaForwardMs)).length / waited.length,
    rangeShown: waited.length === 0 ? Number.NaN : waited.filter((r) => !Number.isNaN(r.etaHighMs)).length / waited.length,
  };
}

const pct = (v: number): string => (Number.isFinite(v) ? `${Math.round(100 * v)}%` : '–');
const both = (f: EtaFit): string => `${pct(f.median)} / ${pct(f.p90)}`;

/** Rows for the skylark variants: every load over all tiers, then each tier with ≥ 30 waits. */
export function calibrationTable(rows: readonly Row[], workload: WorkloadName): string {
  const body: string[][] = [];
  for (const { load, policy, m } of rows.filter((row) => row.workload === workload && row.policy.startsWith('skylark'))) {
    const c = m.etaCalibration;
    for (const tier of ['all', ...tiers] as const) {
      const blend = c.blend[tier];
      if (tier !== 'all' && !(blend.samples >= 30)) continue;
      body.push([
        `${load}×`, policy, tier, fixed(blend.samples, 0),
        both(c.paced[tier]), pct(c.paced[tier].within),
        both(blend), pct(blend.within), tier === 'all' ? pct(c.rangeShown) : '',
        both(c.forward[tier]), tier === 'all' ? pct(c.forwardShare) : '',
      ]);
    }
  }
  return table(['load', 'policy', 'tier', 'waits ≥ 100 ms', 'before: err p50 / p90', 'before: within ETA', 'blend: err p50 / p90', 'blend: within ETA (range high)', 'range shown', 'forward sim: err p50 / p90', 'forward answered'], body);
}

const finite = (value: number): number | null => (Number.isFinite(value) ? Math.round(value * 1000) / 1000 : null);

export function calibrationJson(c: EtaCalibration) {
  const side = (fits: Record<Tier | 'all', EtaFit>) =>
    Object.fromEntries(Object.entries(fits).map(([tier, f]) => [tier, { median: finite(f.median), p90: finite(f.p90), within: finite(f.within), samples: finite(f.samples) }]));
  return { paced: side(c.paced), blend: side(c.blend), forward: side(c.forward), forwardShare: finite(c.forwardShare), rangeShown: finite(c.rangeShown) };
}
