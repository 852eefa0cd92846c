/**
 * The memory of a Skylark that does run a model in process (the built-in tiny llama model,
 * `skylark serve` with no config), reported apart from the remote-only figures: llama.cpp's
 * weights, context and KV cache are memory a remote-only gateway never needs.
 */
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { jsonLoad } from '../lib/json-load.js';
import { rssMb, spawnNode, waitForLine, waitForOk } from '../lib/processes.js';

export interface TinyModelMemory {
  idleRssMb: number;
  peakRssMb: number;
  requests: number;
  requestsPerSecond: number;
}

export async function measureTinyModel(bin: string, dir: string, adminKey: string, core: number, seconds: number): Promise<TinyModelMemory> {
  mkdirSync(dir, { recursive: true });
  const log = openSync(join(dir, 'gateway.log'), 'w');
  const proc = spawnNode([bin, 'serve', '--port', '0', '--data', join(dir, 'data')], {
    core,
    env: { ...process.env, SKYLARK_ADMIN_KEY: adminKey, SKYLARK_LOG_LEVEL: 'warn' },
    stdout: log,
  });
  closeSync(log);
  try {
    const origin = await waitForLine(proc, /listening on (http:\/\/[^\s)]+)/);
    await waitForOk(`${origin}/readyz`, 120_000);
    const idle = rssMb(proc.pid).now;
    const body = JSON.stringify({ model: 'skylark-tiny', messages: [{ role: 'user', content: 'Say hello in five words.' }], max_tokens: 16 });
    const result = await jsonLoad({ origin, path: '/v1/chat/completions', headers: { 'content-type': 'application/json', authorization: `Bearer ${adminKey}` }, body }, 50, seconds);
    process.stderr.write(`  skylark (tiny model in process)  json   50 conn: ${Math.round(result.ok / result.seconds)} req/s, ${result.failed} errors\n`);
    return { idleRssMb: idle, peakRssMb: rssMb(proc.pid).peak, requests: result.ok, requestsPerSecond: result.ok / result.seconds };
  } finally {
    await proc.stop();
  }
}
