/** bench:peers' table, goals and JSON: every target's rows against the direct rows of the same run. */
import type { LoadResult } from '../lib/json-load.js';
import { fixed, signed, table, thousands } from '../lib/stats.js';

export type Kind = 'json' | 'stream';

export interface Measured {
  target: string;
  kind: Kind;
  connections: number;
  result: LoadResult;
  /** CPU ms of the gateway process per answered request (NaN for direct). */
  cpuMsPerRequest: number;
  /** Share of one core the gateway used; cores' worth used by processes outside the bench. */
  gatewayCore: number;
  otherLoad: number;
  /** The gateway's RSS at the end of the row, and its peak so far (VmHWM), MB. */
  rssMb: number;
  peakRssMb: number;
}

export interface Row {
  target: string;
  kind: Kind;
  connections: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  addedP50Ms: number;
  addedP99Ms: number;
  ttftP50Ms: number;
  addedTtftP50Ms: number;
  cpuMsPerRequest: number;
  gatewayCore: number;
  otherLoad: number;
  rssMb: number;
  peakRssMb: number;
  ok: number;
  failed: number;
}

export interface Goal {
  target: string;
  name: string;
  value: number;
  /** undefined: information (a ratio), not a pass/fail goal. */
  met?: boolean;
}

const pct = (samples: LoadResult['latency'] | undefined, p: number) => samples?.percentile(p) ?? Number.NaN;

export function rowsOf(measured: readonly Measured[]): Row[] {
  return measured.map((m) => {
    const direct = measured.find((d) => d.target === 'direct' && d.kind === m.kind && d.connections === m.connections);
    const over = (value: number, base: number) => (m.target === 'direct' || !direct ? Number.NaN : value - base);
    const { result } = m;
    return {
      target: m.target,
      kind: m.kind,
      connections: m.connections,
      requestsPerSecond: result.ok / result.seconds,
      p50Ms: pct(result.latency, 50),
      p99Ms: pct(result.latency, 99),
      addedP50Ms: over(pct(result.latency, 50), pct(direct?.result.latency, 50)),
      addedP99Ms: over(pct(result.latency, 99), pct(direct?.result.latency, 99)),
      ttftP50Ms: pct(result.ttft, 50),
      addedTtftP50Ms: over(pct(result.ttft, 50), pct(direct?.result.ttft, 50)),
      cpuMsPerRequest: m.cpuMsPerRequest,
      gatewayCore: m.gatewayCore,
      otherLoad: m.otherLoad,
      rssMb: m.rssMb,
      peakRssMb: m.peakRssMb,
      ok: result.ok,
      failed: result.failed,
    };
  });
}

export function printTable(rows: readonly Row[], say: (text?: string) => void): void {
  const blank = (row: Row, text: string) => (row.target === 'direct' ? '' : text);
  say(table(
    ['target', 'shape', 'conns', 'req/s', 'p50 ms', 'p99 ms', 'added p50', 'added p99', 'TTFT p50', 'added TTFT', 'CPU ms/req', 'gw core', 'RSS MB', 'peak RSS MB', 'other procs', 'errors'],
    rows.map((r) => [
      r.target, r.kind, String(r.connections), thousands(r.requestsPerSecond), fixed(r.p50Ms), fixed(r.p99Ms),
      signed(r.addedP50Ms), signed(r.addedP99Ms),
      r.kind === 'stream' ? fixed(r.ttftP50Ms) : '', r.kind === 'stream' ? signed(r.addedTtftP50Ms) : '',
      blank(r, fixed(r.cpuMsPerRequest, 3)), blank(r, `${fixed(r.gatewayCore * 100, 0)}%`),
      blank(r, fixed(r.rssMb, 0)), blank(r, fixed(r.peakRssMb, 0)), `${fixed(r.otherLoad * 100, 0)}%`, String(r.failed),
    ]),
  ));
}

export const rssGoalMb = 100;
/** A/B rows of one run still differ by this much from noise alone on a shared 2-core machine. */
export const abNoise = 0.1;

/**
 * The goals: Skylark's peak RSS with only a remote engine, its ratios to Portkey and nginx
 * (req/s, CPU ms/request, peak RSS at 50 connections), and, with --baseline, speed not worse
 * than the baseline checkout's in the same run.
 */
export function goalsOf(rows: readonly Row[], skylarkTargets: readonly string[], baselineOf: ReadonlyMap<string, string>): Goal[] {
  const at50 = (target: string, kind: Kind) => rows.find((r) => r.target === target && r.kind === kind && r.connections === 50);
  const peak = (target: string) => Math.max(...rows.filter((r) => r.target === target).map((r) => r.peakRssMb));
  const goals: Goal[] = [];
  for (const target of skylarkTargets) {
    const rss = peak(target);
    goals.push({ target, name: `peak RSS ≤ ${rssGoalMb} MB (remote engine only, through 50 connections)`, value: rss, met: rss <= rssGoalMb });
    for (const peer of ['portkey', 'nginx']) {
      for (const kind of ['json', 'stream'] as const) {
        const mine = at50(target, kind);
        const theirs = at50(peer, kind);
        if (!mine || !theirs) continue;
        goals.push({ target, name: `${kind} req/s at 50 conns, × ${peer}`, value: mine.requestsPerSecond / theirs.requestsPerSecond });
        goals.push({ target, name: `${kind} CPU ms/request at 50 conns, × ${peer}`, value: mine.cpuMsPerRequest / theirs.cpuMsPerRequest });
      }
      if (rows.some((r) => r.target === peer)) goals.push({ target, name: `peak RSS, × ${peer}`, value: rss / peak(peer) });
    }
    const before = baselineOf.get(target);
    if (!before) continue;
    for (const kind of ['json', 'stream'] as const) {
      const mine = at50(target, kind);
      const theirs = at50(before, kind);
      if (!mine || !theirs) continue;
      const cpu = mine.cpuMsPerRequest / theirs.cpuMsPerRequest;
      const rps = mine.requestsPerSecond / theirs.requestsPerSecond;
      goals.push({ target, name: `${kind} CPU ms/request at 50 conns, × ${before} (≤ ${1 + abNoise}: not worse, within noise)`, value: cpu, met: cpu <= 1 + abNoise });
      goals.push({ target, name: `${kind} req/s at 50 conns, × ${before} (≥ ${1 - abNoise}: not worse, within noise)`, value: rps, met: rps >= 1 - abNoise });
    }
  }
  return goals;
}

export function printGoals(goals: readonly Goal[], say: (text?: string) => void): void {
  for (const goal of goals) {
    const mark = goal.met === undefined ? '(info)  ' : goal.met ? '[met   ]' : '[MISSED]';
    const value = goal.name.includes('RSS ≤') ? `${fixed(goal.value, 1)} MB` : `${fixed(goal.value, 2)}×`;
    say(`  ${mark} ${goal.target}: ${goal.name}: ${value}`);
  }
}
