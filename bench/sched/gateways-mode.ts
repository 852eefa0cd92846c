/**
 * bench:sched --gateways N (issue 10): the same workload split over N gateways in front of
 * the same 4 simulated replicas, three ways in one run — shared (one line and slot leases,
 * the Redis scripts' rules modelled in process), independent (today without REDIS_URL)
 * and a single gateway — with goodput at the SLO, over-admission, TTFT, SLO attainment
 * and fairness per workload and load, and the goal line per load.
 */
import { describeMachine } from '../lib/machine.js';
import { gatewayVariants, type GatewaySetup, type GatewaySplit } from './gateways.js';
import { evaluateGoal, formatGoal, gatewayJsonRow, gatewayTable, type GatewayRow } from './gateways-report.js';
import { runJobs } from './pool.js';
import { meanMetrics } from './report.js';
import { replicaCount, type Job } from './simulation.js';
import type { WorkloadName } from './workload.js';
import type { SchedulerConfigOverrides } from '../../src/scheduler/index.js';

export interface GatewayModeSettings {
  gateways: number;
  split: GatewaySplit;
  /** Slots of each replica, as configured for a remote engine and enforced by the simulated one. */
  slots: number;
  seeds: number;
  loads: number[];
  durationS: number;
  warmupS: number;
  workloads: WorkloadName[];
  threads: number;
  clientTimeoutS: number;
  saturationRps: number;
  schedulerConfig: SchedulerConfigOverrides | undefined;
}

export async function runGatewayMode(settings: GatewayModeSettings, quick: boolean, json: boolean, say: (text?: string) => void): Promise<void> {
  const started = performance.now();
  const elapsed = (): string => `${((performance.now() - started) / 1000).toFixed(0)} s`;
  say(`# bench:sched --gateways ${settings.gateways} (${quick ? 'quick' : 'full'}) — ${describeMachine()}`);
  say(`${replicaCount} simulated replicas (8B on one H100 each) of ${settings.slots} slots, Skylark's defaults in every gateway, arrivals split ${settings.split}; ` +
    `${settings.seeds} seed(s), ${settings.durationS} s of arrivals (first ${settings.warmupS} s not measured), clients give up after ${settings.clientTimeoutS} s.`);
  say('Gateways see a replica as a remote engine: its configured slots and their own requests on it; shared = one line and slot leases, modelled in process (bench/sched/shared-line.ts).');

  const base = (workload: WorkloadName, load: number, seed: number, rps: number): Job => ({
    workload, policy: 'skylark', load, seed, requestsPerSecond: rps, replicaSlots: settings.slots,
    durationMs: settings.durationS * 1000, warmupMs: settings.warmupS * 1000, clientTimeoutMs: settings.clientTimeoutS * 1000,
    ...(settings.schedulerConfig === undefined ? {} : { schedulerConfig: settings.schedulerConfig }),
  });

  // Capacity of these replicas (their slots bound it): saturation, nobody gives up, no drain.
  const capacityJobs = settings.workloads.flatMap((workload) =>
    (['naive', 'cache-aware'] as const).map((policy) => ({ ...base(workload, 0, 1, settings.saturationRps), policy, clientTimeoutMs: Number.POSITIVE_INFINITY, drain: false })),
  );
  const capacityRuns = await runJobs(capacityJobs, settings.threads);
  const capacity = new Map<WorkloadName, number>();
  capacityJobs.forEach((j, i) => capacity.set(j.workload, Math.max(capacity.get(j.workload) ?? 0, capacityRuns[i]!.throughputRps)));
  say(`Capacity (saturation at ${settings.saturationRps} req/s, best of naive and cache-aware): ` +
    [...capacity].map(([w, rps]) => `${w} ${rps.toFixed(1)} req/s`).join(', ') + ` — ${elapsed()}`);

  const jobs: Job[] = [];
  for (const workload of settings.workloads) {
    for (const load of settings.loads) {
      for (const variant of gatewayVariants) {
        const gateways: GatewaySetup = { variant, count: variant === 'single' ? 1 : settings.gateways, split: settings.split };
        for (let seed = 1; seed <= settings.seeds; seed++) jobs.push({ ...base(workload, load, seed, load * capacity.get(workload)!), gateways });
      }
    }
  }
  const runs = await runJobs(jobs, settings.threads);
  const rows: GatewayRow[] = [];
  for (const workload of settings.workloads) {
    for (const load of settings.loads) {
      for (const variant of gatewayVariants) {
        const mine = runs.filter((_, i) => jobs[i]!.workload === workload && jobs[i]!.load === load && jobs[i]!.gateways!.variant === variant);
        rows.push({ workload, variant, load, nominalRps: load * capacity.get(workload)!, seeds: mine.length, m: meanMetrics(mine) });
      }
    }
  }

  for (const workload of settings.workloads) {
    say(`\n## ${workload} (1× = ${capacity.get(workload)!.toFixed(1)} req/s; goodput = interactive requests/s with TTFT ≤ 1 s and TPOT ≤ 50 ms; ` +
      'over-admitted: most requests a replica held beyond its slots, time over: share of replica-time above its slots)\n');
    say(gatewayTable(rows, workload, settings.gateways));
  }
  const goal = evaluateGoal(rows);
  say(`\nGoal (issue 10): ${settings.gateways} gateways sharing state reach ≥ 95 % of one gateway's goodput, per load`);
  say(formatGoal(goal, settings.gateways));
  say(`Done in ${elapsed()}.`);

  if (json) {
    process.stdout.write(`${JSON.stringify({
      bench: 'sched', mode: 'gateways', quick, machine: describeMachine(),
      settings: { ...settings, replicas: replicaCount, variants: gatewayVariants, sharedModel: 'in-process model of the Redis line and lease scripts (bench/sched/shared-line.ts)' },
      capacityRps: Object.fromEntries(capacity),
      results: rows.map(gatewayJsonRow),
      goal: goal.map((g) => ({ ...g, share: Number.isFinite(g.share) ? Math.round(g.share * 1000) / 1000 : null })),
    }, null, 2)}\n`);
  }
}
