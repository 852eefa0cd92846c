/**
 * What Skylark adds over a fast upstream: the same load sent straight to a fake
 * OpenAI-compatible upstream and through the gateway, JSON and SSE, 1 and 50 connections.
 * The gateway runs alone on core 0 (its CPU time is read from /proc); the upstream and this
 * process (the load generator) share core 1. Run: npm run bench:gateway [-- --quick]
 * [--sections shapes,billing] [--rate N] [--log-levels warn,info]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchArgs } from './lib/args.js';
import { jsonLoad, type LoadResult, type LoadTarget } from './lib/json-load.js';
import { describeMachine } from './lib/machine.js';
import { canPin, cpuTimeMs, machineBusyMs, pinSelf, selfCpuMs, spawnNode, waitForLine, type Spawned } from './lib/processes.js';
import { startSkylark } from './lib/skylark-gateway.js';
import { streamLoad } from './lib/stream-load.js';
import { benchTenantKey, measureAtRate, reportAtRate } from './gateway-billing.js';
import { fixed, signed, table, thousands } from './lib/stats.js';
import { metricsMicrosPerRequest } from './metrics-cost.js';
import { startRedis } from '../test/support/redis.js';

const args = benchArgs({ duration: 8, warmup: 2, quickDuration: 1.5, quickWarmup: 0.75 }, ['log-levels', 'rate', 'sections']);
const sections = new Set(String(args.values.sections ?? 'shapes,billing').split(','));
const logLevels = String(args.values['log-levels'] ?? 'warn,info').split(',');
const billingRate = Number(args.values.rate ?? 1000);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const adminKey = 'sk-bench-admin-key';
const goals = { cpuMsPerRequest: 0.3, addedP50Ms: 0.5, addedTtftMs: 1, requestsPerSecond: 3000 };

type Kind = 'json' | 'stream';
interface Row {
  via: string; // 'direct' or 'skylark (LEVEL log)'
  kind: Kind;
  connections: number;
  result: LoadResult;
  /** Gateway CPU ms per completed request (NaN for direct rows). */
  cpuPerRequest: number;
  /** Share of one core used by the gateway, and by the upstream + load generator. */
  gatewayCore: number;
  loadCore: number;
  /** Cores' worth of CPU other processes on the machine used meanwhile (noise, if > ~0.1). */
  otherLoad: number;
}

function body(model: string, kind: Kind): string {
  const request = { model, messages: [{ role: 'user', content: 'Say hello in five words.' }], max_tokens: 16 };
  return JSON.stringify(kind === 'json' ? request : { ...request, stream: true, stream_options: { include_usage: true } });
}

function target(origin: string, model: string, kind: Kind, auth: boolean): LoadTarget {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (auth) headers.authorization = `Bearer ${adminKey}`;
  return { origin, path: '/v1/chat/completions', headers, body: body(model, kind) };
}

const load = (t: LoadTarget, kind: Kind, connections: number, seconds: number) =>
  kind === 'json' ? jsonLoad(t, connections, seconds) : streamLoad(t, connections, seconds);

async function measure(via: string, t: LoadTarget, kind: Kind, connections: number, upstream: Spawned, gateway?: Spawned): Promise<Row> {
  await load(t, kind, connections, args.warmup);
  const before = { gw: gateway ? cpuTimeMs(gateway.pid) : 0, up: cpuTimeMs(upstream.pid), self: selfCpuMs(), all: machineBusyMs() };
  const result = await load(t, kind, connections, args.duration);
  const gw = gateway ? cpuTimeMs(gateway.pid) - before.gw : 0;
  const loadMs = cpuTimeMs(upstream.pid) - before.up + selfCpuMs() - before.self;
  const wallMs = result.seconds * 1000;
  const row: Row = {
    via, kind, connections, result,
    cpuPerRequest: gateway ? gw / result.ok : Number.NaN,
    gatewayCore: gw / wallMs,
    loadCore: loadMs / wallMs,
    otherLoad: Math.max(0, machineBusyMs() - before.all - gw - loadMs) / wallMs,
  };
  process.stderr.write(`  ${via.padEnd(20)} ${kind.padEnd(6)} ${String(connections).padStart(2)} conn: ${thousands(result.ok / result.seconds)} req/s\n`);
  return row;
}

async function startGateway(upstreamUrl: string, dir: string, level: string, metrics = true, env: NodeJS.ProcessEnv = {}): Promise<{ proc: Spawned; origin: string }> {
  return startSkylark({ bin: join(root, 'bin/skylark.js'), upstreamUrl, dir, adminKey, core: 0, logLevel: level, metrics, env });
}

function report(rows: Row[]): void {
  const direct = (row: Row) => rows.find((r) => r.via === 'direct' && r.kind === row.kind && r.connections === row.connections);
  const ms = (row: Row, samples: 'latency' | 'ttft' | 'done', p: number) => row.result[samples]?.percentile(p);
  const added = (row: Row, samples: 'latency' | 'ttft') => {
    const base = direct(row);
    return row.via === 'direct' || !base ? '' : signed((ms(row, samples, 50) ?? NaN) - (ms(base, samples, 50) ?? NaN));
  };
  const shared = (row: Row) => [
    row.via === 'direct' ? '' : fixed(row.cpuPerRequest, 3),
    row.via === 'direct' ? '' : `${fixed(row.gatewayCore * 100, 0)}%`,
    `${fixed(row.loadCore * 100, 0)}%`,
    `${fixed(row.otherLoad * 100, 0)}%`,
    String(row.result.failed),
  ];
  const base = (row: Row) => [row.via, String(row.connections), thousands(row.result.ok / row.result.seconds), fixed(ms(row, 'latency', 50)), fixed(ms(row, 'latency', 99))];
  const tail = ['gw CPU ms/req', 'gw core', 'upstream+load core', 'other procs', 'errors'];
  console.log('\nJSON (POST /v1/chat/completions, stream: false)\n');
  console.log(table(['path', 'conns', 'req/s', 'p50 ms', 'p99 ms', 'added p50', ...tail],
    rows.filter((r) => r.kind === 'json').map((r) => [...base(r), added(r, 'latency'), ...shared(r)])));
  console.log('\nStreaming (stream: true, include_usage; latency = end of response)\n');
  console.log(table(['path', 'conns', 'req/s', 'p50 ms', 'p99 ms', 'TTFT p50', 'TTFT p99', '[DONE] p50', '[DONE] p99', 'added p50', 'added TTFT', ...tail],
    rows.filter((r) => r.kind === 'stream').map((r) => [
      ...base(r), fixed(ms(r, 'ttft', 50)), fixed(ms(r, 'ttft', 99)), fixed(ms(r, 'done', 50)), fixed(ms(r, 'done', 99)),
      added(r, 'latency'), added(r, 'ttft'), ...shared(r),
    ])));

  const noisy = Math.max(...rows.map((r) => r.otherLoad));
  if (noisy > 0.1) console.log(`\nWARNING: other processes used up to ${fixed(noisy * 100, 0)}% of a core during a row; figures are pessimistic.`);
  console.log('\nGoals');
  for (const via of new Set(rows.filter((r) => r.via !== 'direct').map((r) => r.via))) {
    const mine = rows.filter((r) => r.via === via);
    const pick = (kind: Kind, connections: number) => mine.find((r) => r.kind === kind && r.connections === connections);
    const addedP50 = (row: Row | undefined, samples: 'latency' | 'ttft') => {
      const b = row && direct(row);
      return row && b ? (ms(row, samples, 50) ?? NaN) - (ms(b, samples, 50) ?? NaN) : NaN;
    };
    // One line per goal and shape, so a partial miss is visible at a glance.
    const line = (name: string, label: string, value: number, ok: boolean) =>
      console.log(`  [${ok ? 'met   ' : 'MISSED'}] ${via}, ${label}: ${name}: ${fixed(value, value > 100 ? 0 : 3)}`);
    const rps = (row: Row | undefined) => (row ? row.result.ok / row.result.seconds : NaN);
    for (const kind of ['json', 'stream'] as const) {
      const under = pick(kind, 50);
      line(`CPU ≤ ${goals.cpuMsPerRequest} ms/request at 50 connections`, kind, under?.cpuPerRequest ?? NaN, (under?.cpuPerRequest ?? NaN) <= goals.cpuMsPerRequest);
      line(`≥ ${thousands(goals.requestsPerSecond)} req/s at 50 connections`, kind, rps(under), rps(under) >= goals.requestsPerSecond);
      const added = addedP50(pick(kind, 1), 'latency');
      line(`added p50 ≤ ${goals.addedP50Ms} ms at 1 connection`, kind, added, added <= goals.addedP50Ms);
    }
    const ttft = addedP50(pick('stream', 1), 'ttft');
    line(`added TTFT ≤ ${goals.addedTtftMs} ms at 1 connection`, 'stream', ttft, ttft <= goals.addedTtftMs);
    const idle = [pick('json', 1), pick('stream', 1)].map((r) => fixed(r?.cpuPerRequest, 3)).join(' / ');
    console.log(`  (info)   ${via}: CPU ms/request at 1 connection (json / stream): ${idle}; each request then wakes an idle event loop twice`);
  }
}

async function main(): Promise<void> {
  console.log(`bench:gateway — ${describeMachine()}${canPin ? '' : ' (NOT pinned: no taskset or < 2 CPUs)'}`);
  console.log(`${args.duration} s measured per row after ${args.warmup} s warm-up; gateway on core 0, upstream + load generator on core 1`);
  pinSelf(1);
  const dir = await mkdtemp(join(tmpdir(), 'skylark-bench-'));
  const upstream = spawnNode([join(root, 'dist/bench/upstream-server.js')], { core: 1 });
  let gateway: Spawned | undefined;
  const cleanup = async () => {
    await gateway?.stop();
    await upstream.stop();
    await rm(dir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));
  try {
    const upstreamUrl = await waitForLine(upstream, /upstream listening on (\S+)/);
    const upstreamOrigin = new URL(upstreamUrl).origin;
    if (sections.has('shapes')) {
      const rows: Row[] = [];
      const shapes: [Kind, number][] = [['json', 1], ['json', 50], ['stream', 1], ['stream', 50]];
      for (const [kind, connections] of shapes) {
        rows.push(await measure('direct', target(upstreamOrigin, 'fake-ok', kind, false), kind, connections, upstream));
      }
      for (const level of logLevels) {
        const started = await startGateway(upstreamUrl, dir, level);
        gateway = started.proc;
        for (const [kind, connections] of shapes) {
          rows.push(await measure(`skylark (${level} log)`, target(started.origin, 'bench-model', kind, true), kind, connections, upstream, gateway));
        }
        await gateway.stop();
        gateway = undefined;
      }
      report(rows);
    }
    if (!sections.has('billing')) return;

    // The billing-on column: the whole paid path at a constant rate, with the floor any
    // Node.js proxy pays (bare-proxy-server.ts) measured in the same run.
    const bare = spawnNode([join(root, 'dist/bench/bare-proxy-server.js'), upstreamUrl], { core: 0 });
    let bareRow;
    try {
      const bareOrigin = await waitForLine(bare, /bare proxy listening on (\S+)/);
      bareRow = await measureAtRate('bare proxy (Fastify + undici)', target(bareOrigin, 'bench-model', 'json', false), billingRate, args.duration, args.warmup, bare);
    } finally {
      await bare.stop();
    }
    const started = await startGateway(upstreamUrl, dir, 'info');
    gateway = started.proc;
    const tenantKey = await benchTenantKey(join(dir, 'data'));
    const paced = (origin: string, model: string, key?: string) => {
      const t = target(origin, model, 'json', key !== undefined);
      if (key !== undefined) t.headers = { ...t.headers, authorization: `Bearer ${key}` };
      return t;
    };
    const rateRows = [
      await measureAtRate('direct', paced(upstreamOrigin, 'fake-ok'), billingRate, args.duration, args.warmup),
      bareRow,
      await measureAtRate('skylark (operator key)', paced(started.origin, 'bench-model', adminKey), billingRate, args.duration, args.warmup, gateway),
      await measureAtRate('skylark (tenant key, paid path)', paced(started.origin, 'bench-model', tenantKey), billingRate, args.duration, args.warmup, gateway),
    ];
    // A/B: the same paid path on the same data with the metrics module off (server.metrics: false).
    await gateway.stop();
    const plain = await startGateway(upstreamUrl, dir, 'info', false);
    gateway = plain.proc;
    rateRows.push(await measureAtRate('skylark (paid path, metrics off)', paced(plain.origin, 'bench-model', tenantKey), billingRate, args.duration, args.warmup, gateway));
    const off = rateRows.at(-1)!;
    // A/B: the same paid path with REDIS_URL set: limits, funds and scheduling (slot leases
    // and the global line) shared through a real Redis, as N gateways would run.
    await gateway.stop();
    const redis = await startRedis();
    try {
      const sharedGateway = await startGateway(upstreamUrl, dir, 'info', true, { REDIS_URL: redis.url });
      gateway = sharedGateway.proc;
      rateRows.push(await measureAtRate('skylark (paid path, REDIS_URL)', paced(sharedGateway.origin, 'bench-model', tenantKey), billingRate, args.duration, args.warmup, gateway));
      await gateway.stop();
      gateway = undefined;
    } finally {
      await redis.stop();
    }
    reportAtRate(rateRows, billingRate);
    const on = rateRows.find((row) => row.via === 'skylark (tenant key, paid path)')!;
    const shared = rateRows.at(-1)!;
    console.log(
      `  (info)   REDIS_URL − in process, paid path: CPU ${signed(shared.cpuPerRequest - on.cpuPerRequest, 3)} ms/request, ` +
        `p50 ${signed((shared.result.latency.percentile(50) ?? Number.NaN) - (on.result.latency.percentile(50) ?? Number.NaN))} ms`,
    );
    const p50 = (row: typeof on) => row.result.latency.percentile(50) ?? Number.NaN;
    console.log(
      `  (info)   metrics on − off, paid path: CPU ${signed(on.cpuPerRequest - off.cpuPerRequest, 3)} ms/request, p50 ${signed(p50(on) - p50(off))} ms; ` +
        `the observations themselves, in process: ${fixed(metricsMicrosPerRequest(), 2)} µs/request`,
    );
  } finally {
    await cleanup();
  }
}

await main();
