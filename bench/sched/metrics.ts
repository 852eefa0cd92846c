/**
 * What one run measured, from the per-request records of the requests that arrived in the
 * measurement window (after warm-up). Definitions (also in docs/benchmarks.md):
 *  - good: an interactive request (priority, standard, free) that finished with TTFT ≤ 1 s
 *    (from arrival, scheduler queue included) and TPOT ≤ 50 ms; goodput = good / window.
 *  - TTFT and wait percentiles count a request that gave up as infinitely late and leave
 *    out early rejections (those are counted on their own).
 *  - service = prompt + 2 × output tokens of finished requests (VTC's weights); Jain's
 *    index over the standard tier's tenants (where the flooder is), each tenant's service
 *    divided by its max-min fair share of what the tier received.
 */
import type { SimReplica } from '../../src/engines/sim/index.js';
import { tiers, type Tier } from '../../src/scheduler/types.js';
import { calibrate, etaMinWaitMs, type EtaCalibration } from './calibration.js';
import type { OverAdmission } from './over-admission.js';
import type { Job } from './simulation.js';
import type { RequestSpec, Tenant } from './workload.js';

export interface RequestRecord {
  spec: RequestSpec;
  state: 'waiting' | 'granted' | 'done' | 'rejected' | 'timedout';
  replica: number;
  grantAt: number;
  startedAt: number;
  firstTokenAt: number;
  finishedAt: number;
  cachedTokens: number;
  completionTokens: number;
  /** The scheduler's estimate at submit, for requests that had to wait. */
  etaMs: number;
  /** Its place in line then (1-based; NaN when it did not wait). */
  positionAtArrival: number;
  /** The parts of etaMs (calibration.ts): the paced estimate alone, and the range shown (NaN: none). */
  etaPacedMs: number;
  /** The forward simulation's estimate (forward-eta.ts) and the delay history's, from the same moment (NaN: none). */
  etaForwardMs: number;
  etaHistoryMs: number;
  etaLowMs: number;
  etaHighMs: number;
  wastedTokens: number;
  measured: boolean;
}

export interface Percentiles {
  p50: number;
  p99: number;
}

export interface RunMetrics {
  offeredRps: number;
  goodputRps: number;
  completedRps: number;
  /** Requests finished during the window, whenever they arrived: the cluster's throughput. */
  throughputRps: number;
  ttft: Record<Tier, Percentiles>;
  wait: Record<Tier, Percentiles>;
  /** Interactive tenants other than the flooder. */
  lightTtftP99: number;
  lightRejected: number;
  jainBacklogged: number;
  jainAll: number;
  /** Largest difference in service rate between backlogged standard tenants, tokens/s. */
  maxServiceDiff: number;
  /** Fractions of measured requests. */
  earlyRejected: number;
  lateRejected: number;
  wastedPct: number;
  hitRate: number;
  preemptionsPer1k: number;
  etaMedianError: number;
  etaP90Error: number;
  etaSamples: number;
  etaCalibration: EtaCalibration;
  prioritySlo: number;
  inputTokensPerSecond: number;
  outputTokensPerSecond: number;
  batchTokensPerSecond: number;
  /** Most requests a replica held beyond its slots, and the share of replica-time over (over-admission.ts). */
  overAdmittedMax: number;
  overAdmittedTimeShare: number;
  /** Interactive requests measured that met the SLO, of those that arrived (rejections count as misses). */
  interactiveSlo: number;
}

export const slo = { ttftMs: 1000, tpotMs: 50 };
/** Waits shorter than etaMinWaitMs are left out of the ETA error (a 5 ms wait makes any estimate "100 % off"). */

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

function meetsSlo(record: RequestRecord): boolean {
  if (record.state !== 'done') return false;
  const ttft = record.firstTokenAt - record.spec.arrival;
  const tpot = record.completionTokens > 1 ? (record.finishedAt - record.firstTokenAt) / (record.completionTokens - 1) : 0;
  return ttft <= slo.ttftMs && tpot <= slo.tpotMs;
}

const interactive = (tier: Tier): boolean => tier !== 'batch';
const ttftOf = (r: RequestRecord): number => (Number.isNaN(r.firstTokenAt) ? Number.POSITIVE_INFINITY : r.firstTokenAt - r.spec.arrival);
const waitOf = (r: RequestRecord): number => (Number.isNaN(r.startedAt) ? Number.POSITIVE_INFINITY : r.startedAt - r.spec.arrival);
const service = (promptTokens: number, outputTokens: number): number => promptTokens + 2 * outputTokens;

function jain(values: number[]): number {
  if (values.length === 0) return 1;
  const sum = values.reduce((a, b) => a + b, 0);
  const squares = values.reduce((a, b) => a + b * b, 0);
  return squares === 0 ? 1 : (sum * sum) / (values.length * squares);
}

/** Water level L with Σ min(demand, L) = capacity (max-min fair shares). */
function fairLevel(demands: number[], capacity: number): number {
  const sorted = [...demands].sort((a, b) => a - b);
  let remaining = capacity;
  for (let i = 0; i < sorted.length; i++) {
    const level = remaining / (sorted.length - i);
    if (sorted[i]! >= level) return level;
    remaining -= sorted[i]!;
  }
  return Number.POSITIVE_INFINITY;
}

function fairness(records: RequestRecord[], tenants: Tenant[], windowSeconds: number) {
  const standard = tenants.filter((t) => t.tier === 'standard');
  const demand = new Map(standard.map((t) => [t.index, 0]));
  const served = new Map(standard.map((t) => [t.index, 0]));
  for (const r of records) {
    if (!demand.has(r.spec.tenant.index)) continue;
    demand.set(r.spec.tenant.index, demand.get(r.spec.tenant.index)! + service(r.spec.promptTokens, r.spec.outputTokens));
    if (r.state === 'done') served.set(r.spec.tenant.index, served.get(r.spec.tenant.index)! + service(r.spec.promptTokens, r.completionTokens));
  }
  const active = standard.filter((t) => demand.get(t.index)! > 0);
  const capacity = active.reduce((sum, t) => sum + served.get(t.index)!, 0);
  const level = fairLevel(active.map((t) => demand.get(t.index)!), capacity);
  const backlogged = active.filter((t) => demand.get(t.index)! > level * 1.02);
  const share = (t: Tenant): number => served.get(t.index)! / Math.min(demand.get(t.index)!, level);
  const rates = backlogged.map((t) => served.get(t.index)! / windowSeconds);
  return {
    jainBacklogged: jain(backlogged.map(share)),
    jainAll: jain(active.map(share)),
    maxServiceDiff: rates.length < 2 ? 0 : Math.max(...rates) - Math.min(...rates),
  };
}

export function summarize(job: Job, tenants: Tenant[], all: RequestRecord[], sims: SimReplica[], over?: OverAdmission): RunMetrics {
  const records = all.filter((r) => r.measured && r.spec.arrival < job.durationMs);
  const windowSeconds = (job.durationMs - job.warmupMs) / 1000;
  const admitted = records.filter((r) => r.state !== 'rejected');
  const byTier = (tier: Tier, values: (r: RequestRecord) => number): Percentiles => {
    const list = admitted.filter((r) => r.spec.tenant.tier === tier).map(values);
    return { p50: percentile(list, 50), p99: percentile(list, 99) };
  };
  const ttft = Object.fromEntries(tiers.map((tier) => [tier, byTier(tier, ttftOf)])) as Record<Tier, Percentiles>;
  const wait = Object.fromEntries(tiers.map((tier) => [tier, byTier(tier, waitOf)])) as Record<Tier, Percentiles>;
  const light = records.filter((r) => interactive(r.spec.tenant.tier) && !r.spec.tenant.flooder);
  const done = records.filter((r) => r.state === 'done');
  const started = records.filter((r) => !Number.isNaN(r.startedAt));
  const promptStarted = started.reduce((sum, r) => sum + r.spec.promptTokens, 0);
  const etaErrors = records
    .filter((r) => !Number.isNaN(r.etaMs) && !Number.isNaN(r.grantAt) && r.grantAt - r.spec.arrival >= etaMinWaitMs)
    .map((r) => Math.abs(r.etaMs - (r.grantAt - r.spec.arrival)) / (r.grantAt - r.spec.arrival));
  const priority = records.filter((r) => r.spec.tenant.tier === 'priority');
  const interactiveRecords = records.filter((r) => interactive(r.spec.tenant.tier));
  let computed = 0;
  let wasted = 0;
  let preemptions = 0;
  for (const sim of sims) {
    computed += sim.counters.tokensComputed;
    wasted += sim.counters.wastedTokens;
    preemptions += sim.counters.preemptions;
  }
  const sumTokens = (list: RequestRecord[], pick: (r: RequestRecord) => number): number => list.reduce((sum, r) => sum + pick(r), 0);
  return {
    offeredRps: records.length / windowSeconds,
    goodputRps: records.filter((r) => interactive(r.spec.tenant.tier) && meetsSlo(r)).length / windowSeconds,
    completedRps: done.length / windowSeconds,
    throughputRps: all.filter((r) => r.state === 'done' && r.finishedAt >= job.warmupMs && r.finishedAt < job.durationMs).length / windowSeconds,
    ttft,
    wait,
    lightTtftP99: percentile(light.filter((r) => r.state !== 'rejected').map(ttftOf), 99),
    lightRejected: light.length === 0 ? 0 : light.filter((r) => r.state === 'rejected').length / light.length,
    ...fairness(records, tenants, windowSeconds),
    earlyRejected: records.filter((r) => r.state === 'rejected').length / Math.max(1, records.length),
    lateRejected: records.filter((r) => r.state === 'timedout').length / Math.max(1, records.length),
    wastedPct: computed === 0 ? 0 : (100 * wasted) / computed,
    hitRate: promptStarted === 0 ? 0 : sumTokens(started, (r) => r.cachedTokens) / promptStarted,
    preemptionsPer1k: (1000 * preemptions) / Math.max(1, all.length),
    etaMedianError: percentile(etaErrors, 50),
    etaP90Error: percentile(etaErrors, 90),
    etaSamples: etaErrors.length,
    etaCalibration: calibrate(records),
    prioritySlo: priority.length === 0 ? Number.NaN : priority.filter(meetsSlo).length / priority.length,
    inputTokensPerSecond: sumTokens(done, (r) => r.spec.promptTokens) / windowSeconds,
    outputTokensPerSecond: sumTokens(done, (r) => r.completionTokens) / windowSeconds,
    batchTokensPerSecond: sumTokens(done.filter((r) => r.spec.tenant.tier === 'batch'), (r) => r.spec.promptTokens + r.completionTokens) / windowSeconds,
    overAdmittedMax: over?.maxOver ?? Number.NaN,
    overAdmittedTimeShare: over?.timeShare() ?? Number.NaN,
    interactiveSlo: interactiveRecords.length === 0 ? Number.NaN : interactiveRecords.filter(meetsSlo).length / interactiveRecords.length,
  };
}
