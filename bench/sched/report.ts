/**
 * bench:sched's printed report: seed-averaged metrics per workload, policy and load as
 * Markdown tables, the economics of item 9, and the JSON summary.
 */
import { fixed, table } from '../lib/stats.js';
import { tiers } from '../../src/scheduler/types.js';
import { calibrationJson } from './calibration.js';
import type { RunMetrics } from './metrics.js';
import type { PolicyName } from './simulation.js';
import type { WorkloadName } from './workload.js';

export interface Row {
  workload: WorkloadName;
  policy: PolicyName;
  load: number;
  nominalRps: number;
  seeds: number;
  m: RunMetrics;
}

/** Item 9: what a replica costs and what the tokens it serves earn (Skylark "pro" prices). */
export const economics = { replicaYuanPerHour: 18, replicas: 4, inputYuanPerMillion: 0.8, outputYuanPerMillion: 2 };

/** Mean over seeds, field by field; NaN (no sample in a run) is left out, Infinity stays. */
export function meanMetrics(runs: readonly RunMetrics[]): RunMetrics {
  const mean = (values: unknown[]): unknown => {
    const first = values[0];
    if (typeof first === 'number') {
      const numbers = (values as number[]).filter((v) => !Number.isNaN(v));
      return numbers.length === 0 ? Number.NaN : numbers.reduce((a, b) => a + b, 0) / numbers.length;
    }
    if (first !== null && typeof first === 'object') {
      return Object.fromEntries(Object.keys(first).map((key) => [key, mean(values.map((v) => (v as Record<string, unknown>)[key]))]));
    }
    return first;
  };
  return mean([...runs]) as RunMetrics;
}

export function yuan(m: RunMetrics) {
  const costPerHour = economics.replicaYuanPerHour * economics.replicas;
  const inputRevenue = (m.inputTokensPerSecond * 3600 * economics.inputYuanPerMillion) / 1e6;
  const outputRevenue = (m.outputTokensPerSecond * 3600 * economics.outputYuanPerMillion) / 1e6;
  const revenue = inputRevenue + outputRevenue;
  // The GPU hour is split between input and output in proportion to their list revenue,
  // so both carry the same margin and the two costs add up to the hour's rent.
  const inputShare = revenue === 0 ? 0.5 : inputRevenue / revenue;
  return {
    costPerHour,
    revenuePerHour: revenue,
    costPerMillionInput: (costPerHour * inputShare) / ((m.inputTokensPerSecond * 3600) / 1e6),
    costPerMillionOutput: (costPerHour * (1 - inputShare)) / ((m.outputTokensPerSecond * 3600) / 1e6),
    margin: revenue === 0 ? Number.NEGATIVE_INFINITY : (revenue - costPerHour) / revenue,
  };
}

const seconds = (ms: number): string => (ms === Number.POSITIVE_INFINITY ? '∞' : fixed(ms / 1000, 2));
const pct = (fraction: number, digits = 1): string => (Number.isFinite(fraction) ? `${(100 * fraction).toFixed(digits)}%` : '–');

function rowsOf(rows: readonly Row[], workload: WorkloadName): Row[] {
  return rows.filter((row) => row.workload === workload);
}

export function goodputTable(rows: readonly Row[], workload: WorkloadName, policies: readonly PolicyName[]): string {
  const mine = rowsOf(rows, workload);
  const loads = [...new Set(mine.map((row) => row.load))];
  const body = loads.map((load) => {
    const at = mine.filter((row) => row.load === load);
    return [
      `${load}×`,
      fixed(at[0]!.nominalRps, 1),
      ...policies.map((policy) => fixed(at.find((row) => row.policy === policy)?.m.goodputRps, 1)),
    ];
  });
  return table(['load', 'offered req/s', ...policies.map((p) => `${p} goodput`)], body);
}

export function latencyTable(rows: readonly Row[], workload: WorkloadName): string {
  const both = (p: { p50: number; p99: number }): string => `${seconds(p.p50)} / ${seconds(p.p99)}`;
  const body = rowsOf(rows, workload).map(({ load, policy, m }) => [
    `${load}×`, policy, fixed(m.goodputRps, 1), fixed(m.offeredRps, 1),
    ...tiers.map((tier) => both(m.ttft[tier])),
    ...tiers.map((tier) => both(m.wait[tier])),
    seconds(m.lightTtftP99), pct(m.prioritySlo),
  ]);
  return table(
    ['load', 'policy', 'goodput', 'arrived/s', ...tiers.map((t) => `TTFT ${t} p50/p99 s`), ...tiers.map((t) => `wait ${t} p50/p99 s`), 'light p99 TTFT s', 'priority SLO'],
    body,
  );
}

export function fairnessTable(rows: readonly Row[], workload: WorkloadName): string {
  const body = rowsOf(rows, workload).map(({ load, policy, m }) => [
    `${load}×`, policy, fixed(m.jainBacklogged, 3), fixed(m.jainAll, 3), fixed(m.maxServiceDiff, 0),
    pct(m.earlyRejected), pct(m.lateRejected), pct(m.lightRejected), fixed(m.wastedPct, 2), pct(m.hitRate),
    fixed(m.preemptionsPer1k, 1), `${pct(m.etaMedianError, 0)} / ${pct(m.etaP90Error, 0)}`,
  ]);
  return table(
    ['load', 'policy', 'Jain backlogged', 'Jain all', 'max diff tok/s', 'early rej', 'late rej', 'light early rej', 'wasted %', 'cache hit', 'preempt /1k', 'ETA err p50 / p90'],
    body,
  );
}

export function economicsTable(rows: readonly Row[], workload: WorkloadName): string {
  const body = rowsOf(rows, workload).map(({ load, policy, m }) => {
    const e = yuan(m);
    return [
      `${load}×`, policy, fixed(m.inputTokensPerSecond / 1000, 1), fixed(m.outputTokensPerSecond / 1000, 1),
      fixed(e.costPerMillionInput, 3), fixed(e.costPerMillionOutput, 3), fixed(e.revenuePerHour, 1), fixed(e.costPerHour, 0), pct(e.margin, 0),
    ];
  });
  return table(['load', 'policy', 'in ktok/s', 'out ktok/s', '¥ cost/1M in', '¥ cost/1M out', '¥ revenue/h', '¥ cost/h', 'margin'], body);
}

const finite = (value: number): number | null => (Number.isFinite(value) ? Math.round(value * 1000) / 1000 : null);

export function jsonRow({ workload, policy, load, nominalRps, m }: Row) {
  const e = yuan(m);
  return {
    workload, policy, load, offeredRps: finite(nominalRps), arrivedRps: finite(m.offeredRps),
    goodputRps: finite(m.goodputRps),
    ttftP99Ms: { priority: finite(m.ttft.priority.p99), standard: finite(m.ttft.standard.p99), free: finite(m.ttft.free.p99), batch: finite(m.ttft.batch.p99) },
    ttftP50Ms: { priority: finite(m.ttft.priority.p50), standard: finite(m.ttft.standard.p50), free: finite(m.ttft.free.p50), batch: finite(m.ttft.batch.p50) },
    waitP50Ms: Object.fromEntries(tiers.map((tier) => [tier, finite(m.wait[tier].p50)])),
    waitP99Ms: Object.fromEntries(tiers.map((tier) => [tier, finite(m.wait[tier].p99)])),
    lightTenantsTtftP99Ms: finite(m.lightTtftP99),
    jain: finite(m.jainBacklogged), jainAll: finite(m.jainAll), maxServiceDiffTokensPerSecond: finite(m.maxServiceDiff),
    hitRate: finite(m.hitRate),
    rejections: { early: finite(m.earlyRejected), late: finite(m.lateRejected) },
    wastedTokensPct: finite(m.wastedPct), preemptionsPer1k: finite(m.preemptionsPer1k),
    etaError: { median: finite(m.etaMedianError), p90: finite(m.etaP90Error), samples: finite(m.etaSamples) },
    etaCalibration: calibrationJson(m.etaCalibration),
    prioritySloAttainment: finite(m.prioritySlo),
    economics: { costPerMillionInputYuan: finite(e.costPerMillionInput), costPerMillionOutputYuan: finite(e.costPerMillionOutput), revenuePerHourYuan: finite(e.revenuePerHour), costPerHourYuan: e.costPerHour, margin: finite(e.margin) },
  };
}
