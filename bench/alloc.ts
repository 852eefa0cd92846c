/**
 * Bytes the gateway allocates on V8's heap per request (issues 13 and 14): unlike CPU time on
 * a shared machine, this barely moves from run to run, and it is what sizes the young
 * generation and feeds the GC. A fresh `skylark serve` (bench/lib/skylark-gateway.ts) runs
 * with bench/alloc/probe.ts imported; for the operator key and a tenant key on the paid path,
 * JSON and streaming, requests are paced at a fixed rate (lib/paced-load.ts) after a
 * warm-up, and the probe's allocation counter read before and after.
 *
 * Run: npm run bench:alloc [-- --requests N] [-- --rate R] [-- --baseline DIR] [-- --rounds N]
 *        [-- --profile] [-- --interval BYTES] [-- --top K] [-- --json]
 *   --requests  requests measured per row (default 4,000; warm-up: half as many)
 *   --rate      requests per second (default 500)
 *   --baseline  another built checkout (its bin/skylark.js), measured in the same run, rows
 *               alternating with this one's over --rounds rounds (default 2)
 *   --profile   after the rows, a sampled allocation profile of this checkout's paid path
 *               (tenant key, JSON, then streaming): the top allocating sites, in bytes/request
 *   --floor     also the bare Fastify + undici proxy (bench/bare-proxy-server.ts), JSON only
 *   --json      one JSON document on stdout (the tables go to stderr)
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AllocSite } from './alloc/probe.js';
import { benchTenantKey } from './gateway-billing.js';
import { benchArgs } from './lib/args.js';
import type { LoadTarget } from './lib/json-load.js';
import { pacedLoad } from './lib/paced-load.js';
import { pinnableCores, pinSelf, sleep, spawnNode, waitForLine, type Spawned } from './lib/processes.js';
import { startSkylark } from './lib/skylark-gateway.js';
import { table, thousands } from './lib/stats.js';

const args = benchArgs({ duration: 0, warmup: 0, quickDuration: 0, quickWarmup: 0 }, ['requests', 'rate', 'baseline', 'rounds', 'interval', 'top', 'node-flags'], ['profile', 'floor', 'json']);
const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const requests = Number(args.values.requests ?? (args.quick ? 1000 : 4000));
const rate = Number(args.values.rate ?? 500);
const rounds = Number(args.values.rounds ?? (args.values.baseline ? 2 : 1));
const interval = Number(args.values.interval ?? 4096);
const top = Number(args.values.top ?? 30);
const json = args.values.json === true;
const say = (text = ''): void => void (json ? process.stderr : process.stdout).write(`${text}\n`);
const builds: { name: string; bin: string }[] = [{ name: 'this checkout', bin: join(root, 'bin/skylark.js') }];
if (typeof args.values.baseline === 'string') builds.push({ name: 'baseline', bin: join(resolve(args.values.baseline), 'bin/skylark.js') });
const adminKey = 'sk-admin-alloc-bench-0123456789abcdef';
type Kind = 'json' | 'stream';

/** A process with the probe imported, and the two files that drive it. */
class Probed {
  constructor(readonly proc: Spawned, private readonly ctl: string, private readonly out: string) {}

  static files(dir: string) {
    const ctl = join(dir, 'alloc.ctl');
    const out = join(dir, 'alloc.jsonl');
    writeFileSync(out, '');
    const extra = typeof args.values['node-flags'] === 'string' ? args.values['node-flags'].split(' ').filter(Boolean) : [];
    return { ctl, out, nodeArgs: [...extra, '--import', join(here, 'alloc/probe.js')], env: { SKYLARK_ALLOC_CTL: ctl, SKYLARK_ALLOC_OUT: out } };
  }

  async command<T>(command: string): Promise<T> {
    const before = this.lines().length;
    writeFileSync(this.ctl, command);
    process.kill(this.proc.pid, 'SIGUSR2');
    for (let i = 0; i < 600; i++) {
      const lines = this.lines();
      if (lines.length > before) {
        const answer = JSON.parse(lines.at(-1)!) as T & { error?: string };
        if (answer.error) throw new Error(`probe: ${answer.error}`);
        return answer;
      }
      await sleep(50);
    }
    throw new Error(`probe did not answer ${command}`);
  }

  async allocated(): Promise<number> {
    return (await this.command<{ allocated: number }>('mark')).allocated;
  }

  private lines(): string[] {
    return readFileSync(this.out, 'utf8').split('\n').filter(Boolean);
  }
}

function target(origin: string, key: string, kind: Kind, model = 'bench-model'): LoadTarget {
  const request = { model, messages: [{ role: 'user', content: 'Say hello in five words.' }], max_tokens: 16 };
  const body = kind === 'json' ? request : { ...request, stream: true, stream_options: { include_usage: true } };
  return { origin, path: '/v1/chat/completions', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify(body) };
}

interface Row {
  build: string;
  round: number;
  path: string;
  kind: Kind;
  requests: number;
  failed: number;
  bytesPerRequest: number;
  gcsPer1000: number;
}

/** Warm-up, then `requests` paced requests between two marks; idle allocation (timers, metrics) is included. */
async function measure(probe: Probed, t: LoadTarget, kind: Kind, build: string, round: number, path: string): Promise<Row> {
  await pacedLoad(t, rate, requests / 2 / rate);
  await sleep(200);
  const before = await probe.command<{ allocated: number; gcs: number }>('mark');
  const result = await pacedLoad(t, rate, requests / rate);
  const after = await probe.command<{ allocated: number; gcs: number }>('mark');
  const row = {
    build,
    round,
    path,
    kind,
    requests: result.ok,
    failed: result.failed,
    bytesPerRequest: (after.allocated - before.allocated) / result.ok,
    gcsPer1000: ((after.gcs - before.gcs) * 1000) / result.ok,
  };
  process.stderr.write(`  ${build} r${round} ${path} ${kind}: ${thousands(row.bytesPerRequest)} B/req (${result.ok} ok, ${result.failed} failed)\n`);
  return row;
}

async function idleRate(probe: Probed): Promise<number> {
  const before = await probe.allocated();
  await sleep(2000);
  return ((await probe.allocated()) - before) / 2;
}

interface Profile {
  build: string;
  kind: Kind;
  requests: number;
  sampledPerRequest: number;
  sites: { site: string; bytesPerRequest: number; share: number; callers: [string, number][] }[];
  byModule: [string, number][];
}

/** Where a site lives, coarsely: node's internals, a package, or our own file. */
function moduleOf(site: string): string {
  const path = /\(([^()]*):\d+\)$/.exec(site)?.[1];
  if (!path) return '(native / V8)';
  if (path.startsWith('node:')) return path.split('/')[0]!.startsWith('node:internal') ? `node:${path.split('/')[1] ?? 'internal'}` : path;
  const pkg = /^node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1];
  return pkg ?? path;
}

async function profile(probe: Probed, t: LoadTarget, kind: Kind, build: string): Promise<Profile> {
  await probe.command(`sample-start ${interval}`);
  const result = await pacedLoad(t, rate, requests / rate);
  const { sites, total } = await probe.command<{ sites: AllocSite[]; total: number }>('sample-stop');
  const perRequest = (bytes: number) => bytes / result.ok;
  const modules = new Map<string, number>();
  for (const site of sites) modules.set(moduleOf(site.site), (modules.get(moduleOf(site.site)) ?? 0) + site.bytes);
  return {
    build,
    kind,
    requests: result.ok,
    sampledPerRequest: perRequest(total),
    sites: sites.slice(0, top).map((site) => ({
      site: site.site,
      bytesPerRequest: perRequest(site.bytes),
      share: site.bytes / total,
      callers: site.callers.map(([caller, bytes]) => [caller, Math.round(perRequest(bytes))]),
    })),
    byModule: [...modules].sort((a, b) => b[1] - a[1]).map(([name, bytes]) => [name, Math.round(perRequest(bytes))]),
  };
}

if (pinnableCores > 1) pinSelf(1);
const upstream = spawnNode([join(here, 'upstream-server.js')], { core: pinnableCores > 2 ? 2 : 1 });
const upstreamUrl = await waitForLine(upstream, /upstream listening on (\S+)/);
const rows: Row[] = [];
const idle: Record<string, number> = {};
const profiles: Profile[] = [];
say(`bench:alloc: ${thousands(requests)} requests per row at ${rate} req/s (Node ${process.version})`);
try {
  if (args.values.floor === true) {
    const dir = mkdtempSync(join(tmpdir(), 'skylark-alloc-'));
    const files = Probed.files(dir);
    const proc = spawnNode([...files.nodeArgs, join(here, 'bare-proxy-server.js'), upstreamUrl], { core: 0, env: { ...process.env, ...files.env } });
    try {
      const origin = await waitForLine(proc, /bare proxy listening on (\S+)/);
      const probe = new Probed(proc, files.ctl, files.out);
      rows.push(await measure(probe, target(origin, 'none', 'json'), 'json', 'bare proxy', 1, 'Fastify + undici'));
    } finally {
      await proc.stop();
    }
  }
  for (let round = 1; round <= rounds; round++) {
    // Alternate the order each round so neither build always runs first.
    for (const build of round % 2 === 1 ? builds : [...builds].reverse()) {
      const dir = mkdtempSync(join(tmpdir(), 'skylark-alloc-'));
      const files = Probed.files(dir);
      const gateway = await startSkylark({ bin: build.bin, upstreamUrl, dir, adminKey, core: 0, nodeArgs: files.nodeArgs, env: files.env });
      try {
        const probe = new Probed(gateway.proc, files.ctl, files.out);
        const tenantKey = await benchTenantKey(gateway.dataDir);
        await sleep(500);
        idle[`${build.name} r${round}`] = await idleRate(probe);
        for (const kind of ['json', 'stream'] as const) {
          rows.push(await measure(probe, target(gateway.origin, adminKey, kind), kind, build.name, round, 'operator key'));
          rows.push(await measure(probe, target(gateway.origin, tenantKey, kind), kind, build.name, round, 'tenant key (paid path)'));
        }
        if (args.values.profile === true && round === rounds) {
          for (const kind of ['json', 'stream'] as const) profiles.push(await profile(probe, target(gateway.origin, tenantKey, kind), kind, build.name));
        }
      } finally {
        await gateway.proc.stop();
      }
    }
  }
} finally {
  await upstream.stop();
}

say('\nBytes allocated on the V8 heap per request (off-heap Buffers not counted; idle allocation included)\n');
say(
  table(
    ['build', 'round', 'key', 'kind', 'requests', 'failed', 'bytes/req', 'GCs per 1,000 req'],
    rows.map((row) => [row.build, String(row.round), row.path, row.kind, thousands(row.requests), String(row.failed), thousands(row.bytesPerRequest), row.gcsPer1000.toFixed(1)]),
  ),
);
if (builds.length > 1) {
  const mean = (build: string, path: string, kind: Kind) => {
    const matching = rows.filter((row) => row.build === build && row.path === path && row.kind === kind);
    return matching.reduce((sum, row) => sum + row.bytesPerRequest, 0) / matching.length;
  };
  say('\nThis checkout against the baseline (mean of the rounds)\n');
  const paths = ['operator key', 'tenant key (paid path)'];
  say(
    table(
      ['key', 'kind', 'baseline B/req', 'this B/req', 'change'],
      paths.flatMap((path) =>
        (['json', 'stream'] as const).map((kind) => {
          const [a, b] = [mean('baseline', path, kind), mean('this checkout', path, kind)];
          return [path, kind, thousands(a), thousands(b), `${(((b - a) / a) * 100).toFixed(1)}%`];
        }),
      ),
    ),
  );
}
say(`\nIdle allocation (bytes/s, ÷ ${rate} for its share of a request): ${Object.entries(idle).map(([name, bytes]) => `${name} ${thousands(bytes)}`).join(', ')}`);
for (const p of profiles.filter((p) => p.build === builds[0]!.name)) {
  say(`\nSampled allocation profile, this checkout, tenant key, ${p.kind} (${thousands(p.requests)} requests, one sample per ~${interval} B; ${thousands(p.sampledPerRequest)} B/req sampled)\n`);
  say(table(['bytes/req', 'share', 'site', 'heaviest callers (B/req)'], p.sites.map((s) => [thousands(s.bytesPerRequest), `${(s.share * 100).toFixed(1)}%`, s.site, s.callers.map(([c, b]) => `${c.replace(/ \(.*/, '')} ${b}`).join('; ')])));
  say(`\nBy module (B/req): ${p.byModule.slice(0, 20).map(([name, bytes]) => `${name} ${thousands(bytes)}`).join(', ')}`);
}
// Sampled bytes by module, this checkout against the baseline: a change shows in its own
// file's row even when the end-to-end figure moves less than the run-to-run spread.
for (const kind of ['json', 'stream'] as const) {
  const [mine, base] = [builds[0]!.name, builds[1]?.name].map((name) => profiles.find((p) => p.build === name && p.kind === kind));
  if (!mine || !base) continue;
  const of = (p: Profile) => new Map(p.byModule);
  const [a, b] = [of(base), of(mine)];
  const names = [...new Set([...a.keys(), ...b.keys()])]
    .map((name) => ({ name, before: a.get(name) ?? 0, after: b.get(name) ?? 0 }))
    .sort((x, y) => Math.abs(y.after - y.before) - Math.abs(x.after - x.before))
    .slice(0, top);
  say(`\nSampled bytes by module, tenant key, ${kind}: baseline ${thousands(base.sampledPerRequest)} → this ${thousands(mine.sampledPerRequest)} B/req (largest differences first; sampling noise is a few hundred B per module)\n`);
  say(table(['module', 'baseline B/req', 'this B/req', 'difference'], names.map((n) => [n.name, thousands(n.before), thousands(n.after), `${n.after - n.before >= 0 ? '+' : ''}${thousands(n.after - n.before)}`])));
}
if (json) process.stdout.write(`${JSON.stringify({ requests, rate, rows, idle, profiles }, null, 2)}\n`);
