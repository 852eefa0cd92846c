/**
 * Issue 4, item 8: the targets, checked on Skylark against the baselines of the same run.
 * Goodput ratios are checked at every swept load above 1× (overload: at or below capacity
 * every policy serves nearly everything, and 2× naive cannot exist); cache, fairness and
 * ETA targets at every load ≥ 1× (ETA only where ≥ 30 requests waited 100 ms or more);
 * the 2× ones at the highest load swept, on both workloads. The worst load decides.
 */
import type { Row } from './report.js';
import type { PolicyName } from './simulation.js';
import type { WorkloadName } from './workload.js';

export interface TargetResult {
  target: string;
  met: boolean;
  detail: string;
}

type Check = { value: number; ok: boolean; label: string };

function at(rows: readonly Row[], workload: WorkloadName, policy: PolicyName, load: number): Row | undefined {
  return rows.find((row) => row.workload === workload && row.policy === policy && row.load === load);
}

function result(target: string, checks: Check[], format: (v: number) => string): TargetResult {
  if (checks.length === 0) return { target, met: false, detail: 'not measured in this run' };
  return {
    target,
    met: checks.every((check) => check.ok),
    detail: checks.map((check) => `${check.label}: ${format(check.value)}`).join(', '),
  };
}

const ratio = (v: number): string => (Number.isFinite(v) ? `${v.toFixed(2)}×` : '∞');
const percent = (v: number): string => (Number.isFinite(v) ? `${(100 * v).toFixed(1)}%` : '–');
const secondsText = (v: number): string => (Number.isFinite(v) ? `${(v / 1000).toFixed(2)} s` : '∞');

export function evaluateTargets(rows: readonly Row[], skylark: PolicyName = 'skylark'): TargetResult[] {
  const loads = [...new Set(rows.map((row) => row.load))].sort((a, b) => a - b);
  const underLoad = loads.filter((load) => load >= 1);
  const overload = loads.filter((load) => load > 1);
  const top = loads.at(-1) ?? 0;
  const out: TargetResult[] = [];
  const perLoad = (workload: WorkloadName, list: number[], check: (sky: Row, load: number) => Check | undefined): Check[] =>
    list.flatMap((load) => {
      const sky = at(rows, workload, skylark, load);
      const c = sky && check(sky, load);
      return c ? [c] : [];
    });
  const vs = (workload: WorkloadName, other: PolicyName, factor: number, metric: (r: Row) => number, list = underLoad) =>
    perLoad(workload, list, (sky, load) => {
      const base = at(rows, workload, other, load);
      if (base === undefined) return undefined;
      const value = metric(base) === 0 ? (metric(sky) > 0 ? Number.POSITIVE_INFINITY : 1) : metric(sky) / metric(base);
      return { value, ok: value >= factor, label: `${load}×` };
    });

  out.push(result('prefix-heavy: goodput ≥ 2× naive (every load > 1×)', vs('prefix-heavy', 'naive', 2, (r) => r.m.goodputRps, overload), ratio));
  out.push(result('prefix-heavy: goodput ≥ cache-aware (every load > 1×)', vs('prefix-heavy', 'cache-aware', 1, (r) => r.m.goodputRps, overload), ratio));
  out.push(result('prefix-heavy: cache hit rate ≥ 3× round-robin (every load ≥ 1×)', vs('prefix-heavy', 'naive', 3, (r) => r.m.hitRate), ratio));
  out.push(result('flood: Jain ≥ 0.95 (backlogged standard tenants, every load ≥ 1×)',
    perLoad('flood', underLoad, (sky, load) => ({ value: sky.m.jainBacklogged, ok: sky.m.jainBacklogged >= 0.95, label: `${load}×` })), (v) => v.toFixed(3)));
  out.push(result('flood: light tenants p99 TTFT ≤ 2 s (every load ≥ 1×)',
    perLoad('flood', underLoad, (sky, load) => ({ value: sky.m.lightTtftP99, ok: sky.m.lightTtftP99 <= 2000, label: `${load}×` })), secondsText));
  for (const workload of ['prefix-heavy', 'flood'] as const) {
    const sky = at(rows, workload, skylark, top);
    const label = `${top}×`;
    const one = (target: string, value: number | undefined, ok: (v: number) => boolean, format: (v: number) => string) =>
      out.push(result(`${workload}: ${target}`, value === undefined ? [] : [{ value, ok: ok(value), label }], format));
    one('at 2× overload: priority tier meets its SLO for ≥ 99%', sky?.m.prioritySlo, (v) => v >= 0.99, percent);
    one('at 2× overload: admitted-then-timed-out = 0', sky?.m.lateRejected, (v) => v === 0, percent);
    one('at 2× overload: wasted tokens ≤ 2%', sky?.m.wastedPct, (v) => v <= 2, (v) => `${v.toFixed(2)}%`);
    const peak = Math.max(...rows.filter((row) => row.workload === workload && row.policy === skylark).map((row) => row.m.goodputRps));
    one('at 2× overload: goodput ≥ 90% of the peak', sky === undefined ? undefined : sky.m.goodputRps / peak, (v) => v >= 0.9, percent);
    const etaCheck = (pick: (r: Row) => number, limit: number) => (s: Row, load: number): Check | undefined =>
      s.m.etaSamples < 30 || Number.isNaN(pick(s)) ? undefined : { value: pick(s), ok: pick(s) <= limit, label: `${load}× (${Math.round(s.m.etaSamples)} waits)` };
    out.push(result(`${workload}: ETA median error ≤ 20% (every load ≥ 1×)`, perLoad(workload, underLoad, etaCheck((r) => r.m.etaMedianError, 0.2)), percent));
    out.push(result(`${workload}: ETA p90 error ≤ 50% (every load ≥ 1×)`, perLoad(workload, underLoad, etaCheck((r) => r.m.etaP90Error, 0.5)), percent));
  }
  if (top < 2) for (const r of out) if (r.target.includes('at 2×')) r.detail += ` (highest load swept is ${top}×, not 2×)`;
  return out;
}

export function formatTargets(results: readonly TargetResult[]): string {
  return results.map((r) => `  [${r.met ? 'met   ' : 'MISSED'}] ${r.target}: ${r.detail}`).join('\n');
}
