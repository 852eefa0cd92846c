/**
 * bench:sched — the real scheduler (src/scheduler) in virtual time in front of 4 simulated
 * GPU replicas (src/engines/sim: an 8B model on one H100 each), on seeded workloads, with
 * every policy side by side: naive (round robin), random, least-request, cache-aware
 * (SGLang's router), skylark (its defaults) and skylark-slo (its tier deadlines set to the
 * SLO goodput counts). Run: npm run bench:sched [-- --quick] [-- --json]
 *
 * 1. Capacity: a saturation run per workload (naive and cache-aware, no client give-ups);
 *    the higher throughput is "1×".
 * 2. The sweep: workloads × policies × loads × seeds, on worker threads.
 * 3. Tables (Markdown), the targets of issue 4 item 8, the chart docs/sched-goodput.png,
 *    and with --json one JSON document on stdout (everything else goes to stderr).
 * Rejected requests are counted, not retried.
 *
 * With --gateways N [--slots S] [--split round-robin|random]: N gateways sharing one line
 * vs N independent ones vs one, instead of the policy sweep (sched/gateways-mode.ts).
 */
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { describeMachine } from './lib/machine.js';
import { calibrationTable } from './sched/calibration.js';
import { goodputSvg, renderPng } from './sched/chart.js';
import { runGatewayMode } from './sched/gateways-mode.js';
import { runJobs } from './sched/pool.js';
import { economics, economicsTable, fairnessTable, goodputTable, jsonRow, latencyTable, meanMetrics, type Row } from './sched/report.js';
import { policyNames, replicaCount, sloDeadlines, type Job, type PolicyName } from './sched/simulation.js';
import { evaluateTargets, formatTargets } from './sched/targets.js';
import { workloadNames, type WorkloadName } from './sched/workload.js';
import type { SchedulerConfigOverrides } from '../src/scheduler/index.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    seeds: { type: 'string' },
    loads: { type: 'string' },
    duration: { type: 'string' },
    warmup: { type: 'string' },
    workloads: { type: 'string' },
    policies: { type: 'string' },
    threads: { type: 'string' },
    chart: { type: 'string' },
    config: { type: 'string' },
    'no-chart': { type: 'boolean', default: false },
    /** The batch workload of issue 11 instead (bench/sched-batch.ts). */
    batch: { type: 'boolean', default: false },
    gateways: { type: 'string' },
    slots: { type: 'string' },
    split: { type: 'string' },
  },
  strict: true,
});

const quick = values.quick === true;
const list = (value: string | undefined, fallback: readonly string[]): string[] => (value === undefined ? [...fallback] : value.split(','));
const settings = {
  seeds: Number(values.seeds ?? (quick ? 1 : 5)),
  loads: list(values.loads, quick ? ['0.5', '1', '1.5', '2'] : ['0.5', '0.75', '1', '1.25', '1.5', '2']).map(Number),
  durationS: Number(values.duration ?? (quick ? 120 : 240)),
  warmupS: Number(values.warmup ?? 60),
  workloads: list(values.workloads, workloadNames) as WorkloadName[],
  policies: list(values.policies, policyNames) as PolicyName[],
  threads: Number(values.threads ?? availableParallelism()),
  clientTimeoutS: 30,
  saturationRps: 250,
  /** Overrides of the scheduler's defaults for the skylark variants (JSON), to try a setting. */
  schedulerConfig: values.config === undefined ? undefined : (JSON.parse(values.config) as SchedulerConfigOverrides),
};
const chartPath = values.chart ?? (quick ? join(tmpdir(), 'sched-goodput-quick.png') : fileURLToPath(new URL('../../docs/sched-goodput.png', import.meta.url)));
for (const w of settings.workloads) if (!workloadNames.includes(w)) throw new Error(`Unknown workload ${w}; one of ${workloadNames.join(', ')}`);
for (const p of settings.policies) if (!policyNames.includes(p)) throw new Error(`Unknown policy ${p}; one of ${policyNames.join(', ')}`);

// With --json, stdout carries the JSON document alone.
const say = (text = ''): void => void (values.json ? process.stderr : process.stdout).write(`${text}\n`);

if (values.gateways !== undefined) {
  const split = values.split ?? 'round-robin';
  if (split !== 'round-robin' && split !== 'random') throw new Error('--split is round-robin or random');
  const gateways = Number(values.gateways);
  if (!(Number.isInteger(gateways) && gateways >= 1)) throw new Error('--gateways wants a positive integer');
  const { seeds, loads, durationS, warmupS, workloads, threads, clientTimeoutS, saturationRps, schedulerConfig } = settings;
  await runGatewayMode(
    { gateways, split, slots: Number(values.slots ?? 32), seeds, loads, durationS, warmupS, workloads, threads, clientTimeoutS, saturationRps, schedulerConfig },
    quick, values.json, say,
  );
  process.exit(0);
}
const started = performance.now();
const elapsed = (): string => `${((performance.now() - started) / 1000).toFixed(0)} s`;

if (values.batch === true) {
  const { benchBatch } = await import('./sched-batch.js');
  const result = await benchBatch({ quick, ...(values.seeds ? { seeds: Number(values.seeds) } : {}), ...(values.duration ? { durationS: Number(values.duration) } : {}), say });
  if (values.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  process.exit(0);
}

say(`# bench:sched (${quick ? 'quick' : 'full'}) — ${describeMachine()}`);
say(`${replicaCount} simulated replicas (8B on one H100 each, 131,072 KV tokens, 256 slots), ${settings.seeds} seed(s), ` +
  `${settings.durationS} s of arrivals per run (first ${settings.warmupS} s not measured), clients give up after ${settings.clientTimeoutS} s without a first token.`);

const job = (workload: WorkloadName, policy: PolicyName, load: number, seed: number, rps: number): Job => ({
  workload, policy, load, seed, requestsPerSecond: rps,
  durationMs: settings.durationS * 1000, warmupMs: settings.warmupS * 1000, clientTimeoutMs: settings.clientTimeoutS * 1000,
  ...(settings.schedulerConfig !== undefined && policy.startsWith('skylark') ? { schedulerConfig: settings.schedulerConfig } : {}),
});

// 1. Capacity: offered far above what 4 replicas serve, nobody gives up, no drain.
const capacityPolicies: PolicyName[] = ['naive', 'cache-aware'];
const capacityJobs = settings.workloads.flatMap((workload) =>
  capacityPolicies.map((policy) => ({ ...job(workload, policy, 0, 1, settings.saturationRps), clientTimeoutMs: Number.POSITIVE_INFINITY, drain: false })),
);
const capacityRuns = await runJobs(capacityJobs, settings.threads);
const capacity = new Map<WorkloadName, number>();
capacityJobs.forEach((j, i) => capacity.set(j.workload, Math.max(capacity.get(j.workload) ?? 0, capacityRuns[i]!.throughputRps)));
say(`Capacity (saturation at ${settings.saturationRps} req/s offered, best of ${capacityPolicies.join(' and ')}): ` +
  [...capacity].map(([w, rps]) => `${w} ${rps.toFixed(1)} req/s`).join(', ') + ` — ${elapsed()}`);

// 2. The sweep.
const jobs: Job[] = [];
for (const workload of settings.workloads) {
  for (const load of settings.loads) {
    for (const policy of settings.policies) {
      for (let seed = 1; seed <= settings.seeds; seed++) jobs.push(job(workload, policy, load, seed, load * capacity.get(workload)!));
    }
  }
}
let lastReport = 0;
const runs = await runJobs(jobs, settings.threads, (done, total) => {
  if (performance.now() - lastReport > 10_000) {
    lastReport = performance.now();
    process.stderr.write(`  ${done}/${total} runs — ${elapsed()}\n`);
  }
});
const rows: Row[] = [];
for (const workload of settings.workloads) {
  for (const load of settings.loads) {
    for (const policy of settings.policies) {
      const mine = runs.filter((_, i) => jobs[i]!.workload === workload && jobs[i]!.load === load && jobs[i]!.policy === policy);
      rows.push({ workload, policy, load, nominalRps: load * capacity.get(workload)!, seeds: mine.length, m: meanMetrics(mine) });
    }
  }
}

// 3. Report.
for (const workload of settings.workloads) {
  say(`\n## ${workload} (1× = ${capacity.get(workload)!.toFixed(1)} req/s; goodput = interactive requests/s with TTFT ≤ 1 s and TPOT ≤ 50 ms)\n`);
  say(goodputTable(rows, workload, settings.policies));
  say('\nLatency (TTFT from arrival, scheduler queue included; wait: arrival to the first engine step; ∞: more than 1% gave up at 30 s)\n');
  say(latencyTable(rows, workload));
  say('\nFairness, rejections, waste, cache\n');
  say(fairnessTable(rows, workload));
  say(`\nEconomics (${economics.replicas} replicas at ¥${economics.replicaYuanPerHour}/h; price ¥${economics.inputYuanPerMillion} in / ¥${economics.outputYuanPerMillion} out per 1M tokens; tokens of finished requests)\n`);
  say(economicsTable(rows, workload));
  say(`\nETA calibration (shown on arrival vs actual wait, waits ≥ 100 ms; before = the paced estimate alone, blend = with the delay history, as shown now)\n`);
  say(calibrationTable(rows, workload));
}
const variants = settings.policies.filter((p) => p.startsWith('skylark'));
const targets = Object.fromEntries(variants.map((variant) => [variant, evaluateTargets(rows, variant)]));
for (const variant of variants) {
  say(`\nTargets (issue 4, item 8) for ${variant}, against the baselines of this run`);
  say(formatTargets(targets[variant]!));
}

if (values['no-chart'] !== true) {
  const svg = goodputSvg(rows, settings.workloads, settings.policies, (w) => `4 × simulated H100 (8B), 1× = ${capacity.get(w)!.toFixed(1)} req/s, mean of ${settings.seeds} seed(s)`);
  const failed = await renderPng(svg, chartPath).catch((error: unknown) => String(error));
  say(failed === undefined ? `\nChart: ${chartPath}` : `\nChart not written: ${failed}`);
}
say(`Done in ${elapsed()}.`);

if (values.json) {
  process.stdout.write(`${JSON.stringify({
    bench: 'sched', quick, machine: describeMachine(),
    settings: { ...settings, replicas: replicaCount, economics, skylarkSloConfig: sloDeadlines },
    capacityRps: Object.fromEntries(capacity),
    results: rows.map(jsonRow),
    targets,
  }, null, 2)}\n`);
}
