/**
 * bench:sched --batch (issue 11): interactive traffic on a daily curve, with and without a
 * batch backlog in the scheduler's batch tier; see bench/sched/batch-backlog.ts.
 * Run: npm run bench:sched -- --batch [--quick]; SCHED_BATCH_ROWS=1,3 runs only those rows (and
 * the row without batch), SCHED_BATCH_DEBUG=1 adds the engines' own preemptions and the
 * interactive wait in the scheduler under each row.
 */
import { describeMachine } from './lib/machine.js';
import { runBacklog, type BacklogMetrics } from './sched/batch-backlog.js';
import type { SchedulerConfigOverrides } from '../src/scheduler/index.js';
import type { SimReplicaOptions } from '../src/engines/sim/index.js';

type EngineOptions = Pick<SimReplicaOptions, 'schedulingPolicy' | 'backgroundPrefill' | 'longPrefillTokenThreshold'>;
/** vLLM's priority policy; requests carry their tier's place in `tiers` (batch = 3), as the gateway sends it. */
const priority: EngineOptions = { schedulingPolicy: 'priority' };
const batchPrefill = (tokensPerStep: number, exclusive = false, pauseDecodes = false): EngineOptions => ({ schedulingPolicy: 'priority', backgroundPrefill: { fromPriority: 3, tokensPerStep, exclusive, pauseDecodes } });

/**
 * The runner's concurrency (config batches.concurrency) and the scheduler's batch knobs,
 * varied: the rows without preemption are the figures before it existed (same code otherwise).
 */
const variants: Array<{ concurrency: number; label: string; config?: SchedulerConfigOverrides; engine?: EngineOptions }> = [
  { concurrency: 0, label: '—' },
  { concurrency: 256, label: 'before: no preemption, no ceiling', config: { batchPreemption: false, batchLoadFloor: 1 } },
  { concurrency: 32, label: 'defaults' },
  { concurrency: 256, label: 'defaults' },
  { concurrency: 256, label: 'batchLoadFloor 0.3', config: { batchLoadFloor: 0.3 } },
  { concurrency: 256, label: 'ceiling only (batchPreemption: false)', config: { batchPreemption: false } },
  { concurrency: 256, label: 'defaults + engine priority', engine: priority },
  { concurrency: 256, label: 'defaults + engine priority, long-prefill threshold 1024', engine: { ...priority, longPrefillTokenThreshold: 1024 } },
  { concurrency: 256, label: 'defaults + engine priority, batch prefill ≤ 512 tokens/step', engine: batchPrefill(512) },
  { concurrency: 256, label: 'defaults + engine priority, batch prefill ≤ 256 tokens/step', engine: batchPrefill(256) },
  { concurrency: 256, label: 'defaults + engine priority, batch prefill ≤ 128 tokens/step', engine: batchPrefill(128) },
  { concurrency: 256, label: 'defaults + engine priority, batch prefill ≤ 256 tokens/step, none beside an interactive prefill', engine: batchPrefill(256, true) },
  { concurrency: 256, label: 'no ceiling (batchLoadFloor 1) + engine priority, batch prefill ≤ 256 tokens/step', config: { batchLoadFloor: 1 }, engine: batchPrefill(256) },
  { concurrency: 256, label: 'defaults + engine priority, batch prefill ≤ 128 tokens/step, none beside an interactive prefill', engine: batchPrefill(128, true) },
  { concurrency: 256, label: 'batchLoadFloor 0.3 + engine priority, batch prefill ≤ 256 tokens/step, none beside an interactive prefill', config: { batchLoadFloor: 0.3 }, engine: batchPrefill(256, true) },
  { concurrency: 256, label: 'batchLoadFloor 0.2 + engine priority, batch prefill ≤ 256 tokens/step, none beside an interactive prefill', config: { batchLoadFloor: 0.2 }, engine: batchPrefill(256, true) },
  { concurrency: 256, label: 'defaults + engine priority, batch prefill ≤ 256 tokens/step, no batch work beside an interactive prefill', engine: batchPrefill(256, true, true) },
];

export async function benchBatch(options: { quick: boolean; seeds?: number; durationS?: number; say(text?: string): void }): Promise<object> {
  const { say } = options;
  const seeds = options.seeds ?? (options.quick ? 1 : 2);
  const durationMs = (options.durationS ?? (options.quick ? 300 : 600)) * 1000;
  const saturationMs = 120_000;
  const started = performance.now();
  say(`# bench:sched --batch (${options.quick ? 'quick' : 'full'}) — ${describeMachine()}`);

  const capInteractive = runBacklog({ seed: 1, peakRps: 200, durationMs: saturationMs, batchConcurrency: 0, saturate: 'interactive' });
  // The hardware's capacity for the batch mix, not a policy's: batch alone, allowed to fill every replica.
  const capBatch = runBacklog({ seed: 1, peakRps: 0, durationMs: saturationMs, batchConcurrency: 0, saturate: 'batch', schedulerConfig: { batchLoadFloor: 1 } });
  const peakRps = 0.9 * capInteractive.interactiveRps;
  say(`4 simulated replicas (8B, one H100 each). Saturated: interactive mix ${capInteractive.interactiveRps.toFixed(1)} req/s = ` +
    `${fmt(capInteractive.interactiveTokensPerS)} tokens/s; batch mix ${fmt(capBatch.batchTokensPerS)} tokens/s. ` +
    `Interactive peak ${peakRps.toFixed(1)} req/s (90 % of capacity), trough 20 % of that, one "day" = ${durationMs / 1000} s of virtual time; ${seeds} seed(s).`);

  const only = process.env.SCHED_BATCH_ROWS?.split(',').map(Number);
  const results = variants.filter((_, i) => i === 0 || only === undefined || only.includes(i)).map(({ concurrency, label, config, engine }) => {
    const runs: BacklogMetrics[] = [];
    for (let seed = 1; seed <= seeds; seed++) {
      runs.push(runBacklog({ seed, peakRps, durationMs, batchConcurrency: concurrency, ...(config ? { schedulerConfig: config } : {}), ...(engine ? { engine } : {}) }));
    }
    return { concurrency, label, m: mean(runs) };
  });
  const base = results[0]!.m;
  const interactiveShare = base.interactiveTokensPerS / capInteractive.interactiveTokensPerS;
  say('\n| batch lines in flight | scheduler | interactive TTFT p50 / p99 (s) | p99 vs no batch | SLO attainment | vs no batch | batch tokens/s | batch use of idle capacity | preempted lines/s | wasted batch tokens | revenue ¥/GPU-hour |');
  say('|---|---|---|---|---|---|---|---|---|---|---|');
  const rows = results.map(({ concurrency, label, m }) => {
    const useOfIdle = m.batchTokensPerS / capBatch.batchTokensPerS / (1 - interactiveShare);
    const row = {
      concurrency, scheduler: label, preemptionsPerS: m.preemptionsPerS, wastedBatchTokensPerS: m.wastedBatchTokensPerS,
      ttftP50: m.ttftP50, ttftP99: m.ttftP99, p99Change: m.ttftP99 / base.ttftP99 - 1,
      slo: m.sloAttainment, sloChange: m.sloAttainment - base.sloAttainment,
      batchTokensPerS: m.batchTokensPerS, useOfIdle, revenuePerGpuHour: m.revenuePerGpuHour,
    };
    const wasted = m.batchTokensPerS > 0 ? `${pct(m.wastedBatchTokensPerS / m.batchTokensPerS)}` : '—';
    say(`| ${concurrency === 0 ? 'none' : concurrency} | ${label} | ${(m.ttftP50 / 1000).toFixed(2)} / ${(m.ttftP99 / 1000).toFixed(2)} | ${pct(row.p99Change, true)} | ` +
      `${pct(m.sloAttainment)} | ${concurrency === 0 ? '—' : `${(100 * row.sloChange).toFixed(1)} pt`} | ${fmt(m.batchTokensPerS)} | ${concurrency === 0 ? '—' : pct(useOfIdle)} | ` +
      `${m.preemptionsPerS.toFixed(2)} | ${wasted} | ${m.revenuePerGpuHour.toFixed(2)} |`);
    if (process.env.SCHED_BATCH_DEBUG) say(`  engine preemptions/s ${m.enginePreemptionsPerS.toFixed(2)}, interactive queue p99 ${m.queueP99.toFixed(0)} ms`);
    return row;
  });
  say(`\nInteractive traffic used ${pct(interactiveShare)} of capacity over the day (idle: ${pct(1 - interactiveShare)}). ` +
    `Wasted batch tokens: what preempted lines had computed (prompt and output) and lost, as a share of the batch tokens finished. ` +
    `Goals: p99 TTFT and SLO attainment within 5 % of the run without batch; batch ≥ 80 % of idle capacity. Done in ${((performance.now() - started) / 1000).toFixed(0)} s.`);
  return { bench: 'sched-batch', machine: describeMachine(), seeds, durationMs, peakRps, capacity: { interactive: capInteractive, batch: capBatch }, interactiveShare, rows };
}

function mean(runs: BacklogMetrics[]): BacklogMetrics {
  const keys = Object.keys(runs[0]!) as (keyof BacklogMetrics)[];
  return Object.fromEntries(keys.map((key) => [key, runs.reduce((sum, run) => sum + run[key], 0) / runs.length])) as unknown as BacklogMetrics;
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const pct = (x: number, signed = false): string => `${signed && x >= 0 ? '+' : ''}${(100 * x).toFixed(1)} %`;
