/**
 * `skylark serve` as a benchmark target: a config whose only engine is an openai-compatible
 * one pointing at the fake upstream, model `bench-model` → upstream model `fake-ok`.
 */
import { closeSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnNode, waitForLine, waitForOk, type Spawned } from './processes.js';

export interface SkylarkGatewayOptions {
  /** The `bin/skylark.js` to run (another checkout's for an A/B row). */
  bin: string;
  /** The upstream's base URL, with /v1. */
  upstreamUrl: string;
  /** A folder of its own: config, log and data directory go in it. */
  dir: string;
  adminKey: string;
  core: number;
  logLevel?: string;
  /** `server.metrics` (default true): off for the metrics A/B row. */
  metrics?: boolean;
  /** Added to the environment (REDIS_URL for the shared-state row). */
  env?: NodeJS.ProcessEnv;
  /** Node's own flags, before the script (`--import` of bench:memory's probe). */
  nodeArgs?: string[];
}

export interface SkylarkGateway {
  proc: Spawned;
  origin: string;
  dataDir: string;
}

export async function startSkylark(options: SkylarkGatewayOptions): Promise<SkylarkGateway> {
  const level = options.logLevel ?? 'info';
  mkdirSync(options.dir, { recursive: true });
  const config = join(options.dir, 'skylark.yaml');
  writeFileSync(config, [
    `server: { host: 127.0.0.1, port: 0, metrics: ${options.metrics ?? true} }`,
    'engines:',
    `  remote: { kind: openai-compatible, baseUrl: ${options.upstreamUrl} }`,
    'models:',
    '  - { id: bench-model, engine: remote, upstreamModel: fake-ok, tier: lite, capabilities: [chat, completions] }',
    '',
  ].join('\n'));
  const dataDir = join(options.dir, 'data');
  // The log goes to a file, as under a process manager; a pipe would charge its reading to the load core.
  const log = openSync(join(options.dir, `gateway-${level}.log`), 'w');
  const proc = spawnNode([...(options.nodeArgs ?? []), options.bin, 'serve', '--config', config, '--port', '0', '--data', dataDir], {
    core: options.core,
    env: { ...process.env, SKYLARK_ADMIN_KEY: options.adminKey, SKYLARK_LOG_LEVEL: level, ...options.env },
    stdout: log,
  });
  closeSync(log);
  const origin = await waitForLine(proc, /listening on (http:\/\/[^\s)]+)/);
  await waitForOk(`${origin}/readyz`);
  return { proc, origin, dataDir };
}
