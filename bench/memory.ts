/**
 * Where a remote-only gateway's memory goes: `node dist/bench/memory.js [--bin PATH]…
 * [--seconds N] [--snapshot] [--env K=V]`. For each `--bin` (default this checkout's), a
 * fresh `skylark serve` with one openai-compatible engine (bench/lib/skylark-gateway.ts) is
 * probed (bench/memory/probe.ts) idle, after JSON and after streaming at 50 connections;
 * each line is process.memoryUsage() in MB, V8's new/old/code space sizes and VmRSS/VmHWM.
 * --snapshot writes a heap snapshot at each point (open them in Chrome's DevTools).
 * --tenant sends the load with a funded tenant's key (the paid path: holds, settlement rows)
 * instead of the admin key.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jsonLoad, type LoadTarget } from './lib/json-load.js';
import { streamLoad } from './lib/stream-load.js';
import { cpuTimeMs, pinnableCores, pinSelf, sleep, spawnNode, waitForLine } from './lib/processes.js';
import { startSkylark } from './lib/skylark-gateway.js';
import { benchTenantKey } from './gateway-billing.js';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const values = (name: string) => args.flatMap((arg, i) => (arg === name && args[i + 1] ? [args[i + 1]!] : []));
const bins = values('--bin').map((bin) => resolve(bin));
if (bins.length === 0) bins.push(resolve(here, '../../bin/skylark.js'));
const seconds = Number(values('--seconds')[0] ?? 5);
const rounds = Number(values('--rounds')[0] ?? 1);
// `--variant 'NAME;NODE FLAGS;K=V K=V'`: every bin is run once per variant (default: as is).
const variants = values('--variant').map((spec) => {
  const [name = spec, flags = '', env = ''] = spec.split(';');
  return { name, nodeArgs: flags.split(' ').filter(Boolean), env: Object.fromEntries(env.split(' ').filter(Boolean).map((pair) => pair.split(/=(.*)/s).slice(0, 2))) };
});
if (variants.length === 0) variants.push({ name: 'default', nodeArgs: [], env: {} });
const snapshot = args.includes('--snapshot');
const asTenant = args.includes('--tenant');

// The gateway alone on core 0; the upstream and the load generator share the rest.
if (pinnableCores > 1) pinSelf(1);
const upstream = spawnNode([join(here, 'upstream-server.js')], { core: pinnableCores > 2 ? 2 : 1 });
const upstreamUrl = await waitForLine(upstream, /upstream listening on (\S+)/);
const adminKey = 'sk-admin-memory-bench-0123456789abcdef';

try {
  for (let round = 0; round < rounds; round++) for (const bin of bins) for (const variant of variants) {
    const dir = mkdtempSync(join(tmpdir(), 'skylark-memory-'));
    const out = join(dir, 'probe.jsonl');
    const gateway = await startSkylark({
      bin,
      nodeArgs: [...variant.nodeArgs, '--import', join(here, 'memory/probe.js')],
      upstreamUrl,
      dir,
      adminKey,
      core: 0,
      env: { SKYLARK_PROBE_OUT: out, ...(snapshot ? { SKYLARK_PROBE_SNAPSHOT: '1' } : {}), ...variant.env },
    });
    const key = asTenant ? await benchTenantKey(gateway.dataDir) : adminKey;
    const probe = async (label: string) => {
      const before = readLines(out).length;
      process.kill(gateway.proc.pid, 'SIGUSR2');
      // Writing a snapshot takes memory of its own: the probe reads the figures first.
      for (let i = 0; i < 1200 && readLines(out).length === before; i++) await sleep(50);
      const line = JSON.parse(readLines(out).at(-1)!) as Record<string, unknown> & { spaces: Record<string, { size: number }> };
      const { spaces, snapshot: file, ...usage } = line;
      const space = (name: string) => spaces[name]?.size;
      console.log(JSON.stringify({ bin: bins.length > 1 ? bin : undefined, variant: variant.name, label, ...usage, new: space('new_space'), old: space('old_space'), code: space('code_space'), ...(file ? { file } : {}) }));
    };
    const target = (stream: boolean): LoadTarget => ({
      origin: gateway.origin,
      path: '/v1/chat/completions',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'bench-model', stream, messages: [{ role: 'user', content: 'Say hello.' }], max_tokens: 16 }),
    });
    await sleep(1000);
    await probe('idle');
    if (args.includes('--long-idle')) {
      await sleep(20_000);
      await probe('idle 20 s');
    }
    let cpu = cpuTimeMs(gateway.proc.pid);
    const json = await jsonLoad(target(false), 50, seconds);
    const jsonCpu = (cpuTimeMs(gateway.proc.pid) - cpu) / json.ok;
    await probe(`json 50 conns (${Math.round(json.ok / json.seconds)} req/s, ${jsonCpu.toFixed(3)} CPU ms/req)`);
    cpu = cpuTimeMs(gateway.proc.pid);
    const stream = await streamLoad(target(true), 50, seconds);
    const streamCpu = (cpuTimeMs(gateway.proc.pid) - cpu) / stream.ok;
    await probe(`stream 50 conns (${Math.round(stream.ok / stream.seconds)} req/s, ${streamCpu.toFixed(3)} CPU ms/req)`);
    await gateway.proc.stop();
  }
} finally {
  await upstream.stop();
}

function readLines(path: string): string[] {
  try {
    return readFileSync(path, 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
}
