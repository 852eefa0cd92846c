/**
 * How well could any ETA shown on arrival do? (issue 13, item 2). Two bounds, measured on
 * bench:sched's own runs, against the error the ETA shown now has on the same requests
 * (|ETA − wait| ÷ wait over waits ≥ 100 ms, as calibration.ts):
 *
 *  - Futures: the run is repeated with the same past and other futures (new sessions from
 *    moment T on drawn from other seeds: workload.ts FutureSplice). A request that arrived
 *    in the 300 ms before T waits w_f in future f; the best single number for it, picked in
 *    hindsight over its futures, errs by what the future alone decides. Everything else
 *    (the line, the running set, even the output lengths the scheduler cannot know) is the
 *    same in every future, so this is the floor for an oracle of the present: the error no
 *    estimator made at arrival can avoid.
 *  - Order: the number k of grants from arrival to the request's own, read off the run
 *    afterwards (future arrivals that overtook it included), times the mean gap between the
 *    last 512 grants before it arrived: an ETA with a perfect order and a fluid grant rate.
 *    Its error is what the timing of grants (bursts as KV frees) costs on its own.
 *
 * Run (after npm run build): node dist/bench/sched/eta-floor.js [--workload flood]
 * [--policy skylark] [--load 2] [--at 75000,90000] [--futures 4]. Sequential, in virtual
 * time: about 10–15 s of CPU per run, (futures + 1) runs per moment.
 */
import { parseArgs } from 'node:util';
import { table } from '../lib/stats.js';
import { etaMinWaitMs } from './calibration.js';
import type { RequestRecord } from './metrics.js';
import { run, type Job, type PolicyName } from './simulation.js';
import type { WorkloadName } from './workload.js';

const { values } = parseArgs({
  options: {
    workload: { type: 'string', default: 'flood' },
    policy: { type: 'string', default: 'skylark' },
    load: { type: 'string', default: '2' },
    /** 1× in req/s (bench:sched --quick measured prefix-heavy 25.8, flood 74.8). */
    capacity: { type: 'string' },
    at: { type: 'string', default: '75000,90000' },
    futures: { type: 'string', default: '4' },
  },
  strict: true,
});
const workload = values.workload as WorkloadName;
const policy = values.policy as PolicyName;
const load = Number(values.load);
const capacity = Number(values.capacity ?? (workload === 'flood' ? 74.8 : 25.8));
const moments = values.at.split(',').map(Number);
const futureSeeds = Array.from({ length: Number(values.futures) }, (_, i) => 101 + i);
const window = 300;
const orderHorizon = 512;

const quantile = (values: readonly number[], q: number): number => {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
};
const waitOf = (r: RequestRecord): number => r.grantAt - r.spec.arrival;
const relative = (point: number, wait: number): number => Math.abs(point - wait) / wait;

const futureErrors: number[] = [];
const shownErrors: number[] = [];
const orderErrors: number[] = [];
const shownAll: number[] = [];
let spreadSum = 0;
let requests = 0;
/** The order bound counts each request once, from the first moment's run that saw it granted. */
const ordered = new Set<string>();
for (const at of moments) {
  const job = (seed: number | undefined): Job => ({
    workload, policy, load, seed: 1, requestsPerSecond: load * capacity,
    durationMs: at + 6_000, warmupMs: 60_000, clientTimeoutMs: 30_000, drain: false,
    ...(seed === undefined ? {} : { future: { at, seed } }),
  });
  const base = run(job(undefined)).records;
  const runs = [base, ...futureSeeds.map((seed) => run(job(seed)).records)];
  // Order: over the base run's measured requests up to T.
  const grants = base.filter((r) => !Number.isNaN(r.grantAt)).map((r) => r.grantAt).sort((a, b) => a - b);
  const firstAtOrAfter = (t: number): number => {
    let low = 0;
    let high = grants.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (grants[mid]! < t) low = mid + 1;
      else high = mid;
    }
    return low;
  };
  for (const r of base) {
    if (!r.measured || r.spec.arrival >= at || ordered.has(r.spec.id) || Number.isNaN(r.etaMs) || !(waitOf(r) >= etaMinWaitMs)) continue;
    ordered.add(r.spec.id);
    const before = firstAtOrAfter(r.spec.arrival);
    if (before < 2) continue;
    const k = firstAtOrAfter(r.grantAt) - firstAtOrAfter(r.spec.arrival + 1e-9) + 1;
    const span = Math.min(orderHorizon, before - 1);
    const gap = (grants[before - 1]! - grants[before - 1 - span]!) / span;
    orderErrors.push(relative(k * gap, waitOf(r)));
    shownAll.push(relative(r.etaMs, waitOf(r)));
  }
  // Futures: the requests that arrived in the window before T and waited in every future.
  const byId = new Map<string, RequestRecord[]>();
  for (const records of runs) {
    for (const r of records) {
      if (r.spec.arrival < at - window || r.spec.arrival >= at || Number.isNaN(r.grantAt) || Number.isNaN(r.etaMs)) continue;
      byId.set(r.spec.id, [...(byId.get(r.spec.id) ?? []), r]);
    }
  }
  for (const versions of byId.values()) {
    if (versions.length < runs.length) continue;
    const waits = versions.map(waitOf);
    const counted = versions.filter((r) => waitOf(r) >= etaMinWaitMs);
    if (counted.length === 0) continue;
    // The best point for this request over its futures, in hindsight (kind to the oracle).
    let best: number[] | undefined;
    let bestSum = Number.POSITIVE_INFINITY;
    for (const point of waits) {
      const errors = counted.map((r) => relative(point, waitOf(r)));
      const sum = errors.reduce((a, b) => a + b, 0);
      if (sum < bestSum) [best, bestSum] = [errors, sum];
    }
    futureErrors.push(...best!);
    shownErrors.push(...counted.map((r) => relative(r.etaMs, waitOf(r))));
    spreadSum += Math.max(...waits) / Math.max(1, Math.min(...waits));
    requests++;
  }
}

const pct = (v: number): string => (Number.isFinite(v) ? `${Math.round(100 * v)}%` : '–');
const both = (errors: readonly number[]): string => `${pct(quantile(errors, 0.5))} / ${pct(quantile(errors, 0.9))}`;
console.log(`# ETA floor: ${workload} ${policy} ${load}× (1× = ${capacity} req/s), moments ${moments.join(', ')} ms, ${futureSeeds.length} other futures each`);
console.log(table(['bound', 'waits ≥ 100 ms', 'bound err p50 / p90', 'shown now, same waits'], [
  ['futures (oracle of the present)', String(futureErrors.length), both(futureErrors), both(shownErrors)],
  ['order (perfect k × fluid grant gap)', String(orderErrors.length), both(orderErrors), both(shownAll)],
]));
console.log(`Requests in the futures bound: ${requests}; mean max/min of one request's wait over its futures: ${(spreadSum / Math.max(1, requests)).toFixed(2)}.`);
