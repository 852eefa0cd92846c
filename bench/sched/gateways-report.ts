/**
 * bench:sched --gateways N: the table, the goal (issue 10: shared ≥ 95 % of one gateway's
 * goodput at every load) and the JSON rows, per workload, load and variant.
 */
import { fixed, table } from '../lib/stats.js';
import type { GatewayVariant } from './gateways.js';
import type { RunMetrics } from './metrics.js';
import type { WorkloadName } from './workload.js';

export interface GatewayRow {
  workload: WorkloadName;
  variant: GatewayVariant;
  load: number;
  nominalRps: number;
  seeds: number;
  m: RunMetrics;
}

export const goalShare = 0.95;

const seconds = (ms: number): string => (ms === Number.POSITIVE_INFINITY ? '∞' : fixed(ms / 1000, 2));
const pct = (fraction: number, digits = 1): string => (Number.isFinite(fraction) ? `${(100 * fraction).toFixed(digits)}%` : '–');
const finite = (value: number): number | null => (Number.isFinite(value) ? Math.round(value * 1000) / 1000 : null);

const label = (variant: GatewayVariant, count: number): string => (variant === 'single' ? '1 gateway' : `${count} ${variant}`);

export function gatewayTable(rows: readonly GatewayRow[], workload: WorkloadName, count: number): string {
  const body = rows
    .filter((row) => row.workload === workload)
    .map(({ load, variant, nominalRps, m }) => [
      `${load}×`, label(variant, count), fixed(nominalRps, 1), fixed(m.goodputRps, 1), pct(m.interactiveSlo),
      fixed(m.overAdmittedMax, 0), pct(m.overAdmittedTimeShare),
      `${seconds(m.ttft.standard.p50)} / ${seconds(m.ttft.standard.p99)}`, `${seconds(m.ttft.priority.p50)} / ${seconds(m.ttft.priority.p99)}`,
      fixed(m.jainBacklogged, 3), pct(m.earlyRejected), pct(m.lateRejected), pct(m.hitRate), fixed(m.preemptionsPer1k, 1),
    ]);
  return table(
    ['load', 'gateways', 'offered req/s', 'goodput', 'SLO attained', 'over-admitted max', 'time over', 'TTFT standard p50/p99 s', 'TTFT priority p50/p99 s',
      'Jain', 'early rej', 'late rej', 'cache hit', 'preempt /1k'],
    body,
  );
}

export interface GoalResult {
  workload: WorkloadName;
  load: number;
  sharedGoodputRps: number;
  singleGoodputRps: number;
  independentGoodputRps: number;
  /** shared / single goodput. */
  share: number;
  met: boolean;
}

export function evaluateGoal(rows: readonly GatewayRow[]): GoalResult[] {
  const at = (workload: WorkloadName, load: number, variant: GatewayVariant) =>
    rows.find((row) => row.workload === workload && row.load === load && row.variant === variant)?.m.goodputRps ?? Number.NaN;
  const keys = [...new Map(rows.map((row) => [`${row.workload}@${row.load}`, row])).values()];
  return keys.map(({ workload, load }) => {
    const shared = at(workload, load, 'shared');
    const single = at(workload, load, 'single');
    const share = single === 0 ? (shared > 0 ? Number.POSITIVE_INFINITY : 1) : shared / single;
    return { workload, load, sharedGoodputRps: shared, singleGoodputRps: single, independentGoodputRps: at(workload, load, 'independent'), share, met: share >= goalShare };
  });
}

export function formatGoal(results: readonly GoalResult[], count: number): string {
  return results
    .map((r) =>
      `  [${r.met ? 'met   ' : 'MISSED'}] ${r.workload} ${r.load}×: ${count} shared ≥ 95 % of 1 gateway's goodput: ` +
      `${fixed(r.sharedGoodputRps, 1)} / ${fixed(r.singleGoodputRps, 1)} req/s = ${pct(r.share)} (${count} independent: ${fixed(r.independentGoodputRps, 1)} req/s)`,
    )
    .join('\n');
}

export function gatewayJsonRow({ workload, variant, load, nominalRps, seeds, m }: GatewayRow) {
  return {
    workload, variant, load, seeds, offeredRps: finite(nominalRps), arrivedRps: finite(m.offeredRps),
    goodputRps: finite(m.goodputRps), throughputRps: finite(m.throughputRps),
    sloAttainment: finite(m.interactiveSlo),
    overAdmission: { maxRequestsBeyondSlots: finite(m.overAdmittedMax), timeShareOver: finite(m.overAdmittedTimeShare) },
    ttftP50Ms: { priority: finite(m.ttft.priority.p50), standard: finite(m.ttft.standard.p50), free: finite(m.ttft.free.p50), batch: finite(m.ttft.batch.p50) },
    ttftP99Ms: { priority: finite(m.ttft.priority.p99), standard: finite(m.ttft.standard.p99), free: finite(m.ttft.free.p99), batch: finite(m.ttft.batch.p99) },
    jain: finite(m.jainBacklogged), jainAll: finite(m.jainAll),
    rejections: { early: finite(m.earlyRejected), late: finite(m.lateRejected) },
    hitRate: finite(m.hitRate), preemptionsPer1k: finite(m.preemptionsPer1k), wastedTokensPct: finite(m.wastedPct),
  };
}
