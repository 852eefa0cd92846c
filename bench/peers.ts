/**
 * Skylark against what users would pick instead: the same JSON and streaming load (1 and 50
 * connections) straight to a fake OpenAI upstream, through nginx (`proxy_pass`, the floor of
 * any proxy), through the Portkey AI gateway (npm), and through Skylark with the admin key and
 * with a tenant key on the paid path. Each gateway runs alone on the first core (its CPU time
 * and RSS read from /proc), the load generator on the second, the upstream on the third when
 * there is one (else beside the load generator). After the paid-path rows the ledger must
 * verify and the usage rows match the requests sent.
 *
 * Run: npm run bench:peers [-- --quick] [-- --json] [-- --baseline DIR]
 *   --json       one JSON document on stdout (the tables go to stderr)
 *   --baseline   another built Skylark checkout (bin/skylark.js in DIR) measured as A/B rows
 *   --targets    comma-separated subset of direct,nginx,portkey,skylark,baseline,tiny
 * Needs nginx (`sudo apt-get install nginx`); everything else comes with `npm ci`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchTenantKey } from './gateway-billing.js';
import { benchArgs } from './lib/args.js';
import { jsonLoad, type LoadTarget } from './lib/json-load.js';
import { describeMachine } from './lib/machine.js';
import { canPin, cpuTimeMs, machineBusyMs, pinnableCores, pinSelf, rssMb, selfCpuMs, spawnNode, waitForLine, type Spawned } from './lib/processes.js';
import { startSkylark } from './lib/skylark-gateway.js';
import { fixed, thousands } from './lib/stats.js';
import { streamLoad } from './lib/stream-load.js';
import { findNginx, nginxMissing, startNginx, startPortkey } from './peers/peer-servers.js';
import { goalsOf, printGoals, printTable, rowsOf, type Kind, type Measured } from './peers/report.js';
import { checkUsageRows, verifyLedger, type LedgerCheck, type UsageCheck } from './peers/skylark-checks.js';
import { measureTinyModel, type TinyModelMemory } from './peers/tiny-model.js';

const args = benchArgs({ duration: 8, warmup: 2, quickDuration: 2, quickWarmup: 1 }, ['baseline', 'targets'], ['json']);
const json = args.values.json === true;
const say = (text = ''): void => void (json ? process.stderr : process.stdout).write(`${text}\n`);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const baselineRoot = typeof args.values.baseline === 'string' ? resolve(args.values.baseline) : undefined;
const wanted = new Set(String(args.values.targets ?? `direct,nginx,portkey,skylark,tiny${baselineRoot ? ',baseline' : ''}`).split(','));
const adminKey = 'sk-bench-admin-key';
const shapes: [Kind, number][] = [['json', 1], ['json', 50], ['stream', 1], ['stream', 50]];
// Core 0: the gateway alone. Core 1: the load generator. The upstream gets core 2 when there is one.
const gatewayCore = 0;
const loadCore = 1;
const upstreamCore = pinnableCores >= 3 ? 2 : 1;

interface Target {
  name: string;
  origin: string;
  model: string;
  headers: Record<string, string>;
  proc?: Spawned;
}

function loadTarget(target: Target, kind: Kind): LoadTarget {
  const request = { model: target.model, messages: [{ role: 'user', content: 'Say hello in five words.' }], max_tokens: 16 };
  const body = kind === 'json' ? request : { ...request, stream: true, stream_options: { include_usage: true } };
  return { origin: target.origin, path: '/v1/chat/completions', headers: { 'content-type': 'application/json', ...target.headers }, body: JSON.stringify(body) };
}

/** Requests answered and written, warm-ups included: what the usage rows are checked against. */
interface Sent {
  answered: number;
  sent: number;
}

async function measure(target: Target, upstream: Spawned, sent: Sent): Promise<Measured[]> {
  const rows: Measured[] = [];
  for (const [kind, connections] of shapes) {
    const t = loadTarget(target, kind);
    const run = (seconds: number) => (kind === 'json' ? jsonLoad(t, connections, seconds) : streamLoad(t, connections, seconds));
    const count = (r: { ok: number; sent: number }) => {
      sent.answered += r.ok;
      sent.sent += r.sent;
    };
    count(await run(args.warmup));
    const pid = target.proc?.pid;
    const before = { gw: pid ? cpuTimeMs(pid) : 0, load: cpuTimeMs(upstream.pid) + selfCpuMs(), all: machineBusyMs() };
    const result = await run(args.duration);
    count(result);
    const gw = pid ? cpuTimeMs(pid) - before.gw : 0;
    const load = cpuTimeMs(upstream.pid) + selfCpuMs() - before.load;
    const wallMs = result.seconds * 1000;
    const rss = pid ? rssMb(pid) : { now: Number.NaN, peak: Number.NaN };
    rows.push({
      target: target.name, kind, connections, result,
      cpuMsPerRequest: pid ? gw / result.ok : Number.NaN,
      gatewayCore: gw / wallMs,
      otherLoad: Math.max(0, machineBusyMs() - before.all - gw - load) / wallMs,
      rssMb: rss.now,
      peakRssMb: rss.peak,
    });
    process.stderr.write(`  ${target.name.padEnd(30)} ${kind.padEnd(6)} ${String(connections).padStart(2)} conn: ${thousands(result.ok / result.seconds)} req/s, ${result.failed} errors\n`);
  }
  return rows;
}

interface SkylarkRun {
  rows: Measured[];
  usage?: UsageCheck;
  ledger?: LedgerCheck;
}

/** One Skylark process per key, so each target's peak RSS is its own. */
async function runSkylark(name: string, checkout: string, key: 'admin' | 'tenant', upstream: Spawned, upstreamUrl: string, dir: string): Promise<SkylarkRun> {
  const bin = join(checkout, 'bin/skylark.js');
  const gateway = await startSkylark({ bin, upstreamUrl, dir: join(dir, name.replace(/\W+/g, '-')), adminKey, core: gatewayCore });
  const sent: Sent = { answered: 0, sent: 0 };
  let rows: Measured[];
  try {
    const bearer = key === 'admin' ? adminKey : await benchTenantKey(gateway.dataDir);
    rows = await measure({ name, origin: gateway.origin, model: 'bench-model', headers: { authorization: `Bearer ${bearer}` }, proc: gateway.proc }, upstream, sent);
  } finally {
    await gateway.proc.stop(); // SIGTERM: drains, flushes the usage writer, closes the store
  }
  if (key === 'admin') return { rows };
  return { rows, usage: checkUsageRows(gateway.dataDir, sent.answered, sent.sent), ledger: verifyLedger(bin, gateway.dataDir) };
}

async function main(): Promise<void> {
  if (wanted.has('nginx') && !findNginx()) {
    process.stderr.write(`${nginxMissing}\n`);
    process.exit(1);
  }
  const machine = describeMachine(); // before pinning: once pinned, this process sees one core
  say(`bench:peers — ${machine}${canPin ? '' : ' (NOT pinned: no taskset or < 2 CPUs)'}`);
  say(`${args.duration} s measured per row after ${args.warmup} s warm-up; gateway on core ${gatewayCore}, load generator on core ${loadCore}, upstream on core ${upstreamCore}`);
  pinSelf(loadCore);
  const dir = await mkdtemp(join(tmpdir(), 'skylark-peers-'));
  const upstream = spawnNode([join(root, 'dist/bench/upstream-server.js')], { core: upstreamCore });
  const running = new Set<Spawned>([upstream]);
  const cleanup = async () => {
    await Promise.all([...running].map((proc) => proc.stop()));
    await rm(dir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));
  const measured: Measured[] = [];
  const checks: { target: string; usage: UsageCheck; ledger: LedgerCheck }[] = [];
  const skylarkTargets: string[] = [];
  const baselineOf = new Map<string, string>();
  let tiny: TinyModelMemory | undefined;
  try {
    const upstreamUrl = await waitForLine(upstream, /upstream listening on (\S+)/);
    const upstreamOrigin = new URL(upstreamUrl).origin;
    const peer = async (name: string, start: () => Promise<{ proc: Spawned; origin: string }>, headers: Record<string, string>, model: string) => {
      const { proc, origin } = await start();
      running.add(proc);
      try {
        measured.push(...(await measure({ name, origin, model, headers, proc }, upstream, { answered: 0, sent: 0 })));
      } finally {
        await proc.stop();
        running.delete(proc);
      }
    };
    if (wanted.has('direct')) measured.push(...(await measure({ name: 'direct', origin: upstreamOrigin, model: 'fake-ok', headers: {} }, upstream, { answered: 0, sent: 0 })));
    if (wanted.has('nginx')) await peer('nginx', () => startNginx(upstreamUrl, join(dir, 'nginx'), gatewayCore), {}, 'fake-ok');
    if (wanted.has('portkey')) {
      const headers = { 'x-portkey-provider': 'openai', 'x-portkey-custom-host': upstreamUrl, authorization: 'Bearer sk-bench-upstream' };
      await peer('portkey', () => startPortkey(gatewayCore), headers, 'fake-ok');
    }
    const skylarks: [string, string, 'admin' | 'tenant', string | undefined][] = [];
    if (wanted.has('skylark')) skylarks.push(['skylark (admin key)', root, 'admin', undefined], ['skylark (tenant key, paid)', root, 'tenant', undefined]);
    if (wanted.has('baseline') && baselineRoot) {
      skylarks.push(['baseline (admin key)', baselineRoot, 'admin', 'skylark (admin key)'], ['baseline (tenant key, paid)', baselineRoot, 'tenant', 'skylark (tenant key, paid)']);
    }
    for (const [name, checkout, key, comparedWith] of skylarks) {
      const run = await runSkylark(name, checkout, key, upstream, upstreamUrl, dir);
      measured.push(...run.rows);
      if (run.usage && run.ledger) checks.push({ target: name, usage: run.usage, ledger: run.ledger });
      if (comparedWith) baselineOf.set(comparedWith, name);
      else skylarkTargets.push(name);
    }
    if (wanted.has('tiny')) tiny = await measureTinyModel(join(root, 'bin/skylark.js'), join(dir, 'tiny'), adminKey, gatewayCore, args.duration);
  } finally {
    await cleanup();
  }

  const rows = rowsOf(measured);
  const goals = goalsOf(rows, skylarkTargets, baselineOf);
  say('\nPOST /v1/chat/completions; added = over direct in the same shape; TTFT = first content chunk; RSS and CPU are the gateway process\'s\n');
  printTable(rows, say);
  const noisy = Math.max(0, ...rows.map((r) => r.otherLoad));
  if (noisy > 0.1) say(`\nWARNING: other processes used up to ${fixed(noisy * 100, 0)}% of a core during a row: compare rows of this run only.`);
  if (tiny) {
    say(`\nSkylark with the built-in tiny model in process (no upstream): RSS ${fixed(tiny.idleRssMb, 0)} MB once loaded, ` +
      `peak ${fixed(tiny.peakRssMb, 0)} MB after ${thousands(tiny.requests)} JSON requests at 50 connections (${thousands(tiny.requestsPerSecond)} req/s)`);
  }
  say('\nChecks (paid path)');
  for (const { target, usage, ledger } of checks) {
    say(`  [${ledger.ok ? 'ok    ' : 'FAILED'}] ${target}: skylark ledger verify: ${ledger.tenants} tenant(s)${ledger.ok ? ', every balance matches' : `, ${ledger.problems.length} problem(s)`}`);
    say(`  [${usage.ok ? 'ok    ' : 'FAILED'}] ${target}: ${thousands(usage.rows)} usage rows (${Object.entries(usage.byStatus).map(([s, n]) => `${s} ${n}`).join(', ')}) for ` +
      `${thousands(usage.answered)} requests answered, ${thousands(usage.sent)} sent (the difference: cut off as a row's time ran out)`);
  }
  say('\nGoals');
  printGoals(goals, say);
  if (json) {
    process.stdout.write(`${JSON.stringify({
      bench: 'peers', machine, pinned: canPin, durationSeconds: args.duration, warmupSeconds: args.warmup,
      rows, tinyModel: tiny ?? null, checks, goals,
    }, (_key, value: unknown) => (typeof value === 'number' && !Number.isFinite(value) ? null : value), 2)}\n`);
  }
  if (checks.some((c) => !c.usage.ok || !c.ledger.ok)) process.exitCode = 1;
}

await main();
