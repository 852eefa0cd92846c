/**
 * A throwaway redis-server for tests and benchmarks: 127.0.0.1 at a free port, no
 * persistence (--save '' --appendonly no), its working dir in a temp folder.
 * No test framework imports here, so bench/ can use it too.
 *
 * Never skipped silently: a missing redis-server is an error that says what to install.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { freePort } from './postgres.js';

export interface RedisServer {
  /** redis://127.0.0.1:PORT */
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

const installHint =
  'redis-server was not found. Install it with `apt-get install -y redis-server` (Debian/Ubuntu), ' +
  'or set REDIS_SERVER to its path.';

export function findRedisServer(): string {
  if (process.env.REDIS_SERVER && existsSync(process.env.REDIS_SERVER)) return process.env.REDIS_SERVER;
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), '/usr/bin', '/usr/local/bin', '/usr/sbin'];
  const found = dirs.map((d) => join(d, 'redis-server')).find((p) => existsSync(p));
  if (found === undefined) throw new Error(installHint);
  return found;
}

export async function startRedis(): Promise<RedisServer> {
  const binary = findRedisServer();
  const dir = mkdtempSync(join(tmpdir(), 'skylark-redis-'));
  try {
    for (let attempt = 0; ; attempt++) {
      const port = await freePort();
      const child = spawn(
        binary,
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no'],
        { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let output = '';
      child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      if (await ready(child, port)) return server(child, port, dir);
      child.kill('SIGKILL');
      if (attempt >= 2) throw new Error(`redis-server did not start:\n${output.slice(-2000)}`);
    }
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/** Polls with PING until PONG, the process exits, or 10 s pass. */
async function ready(child: ChildProcess, port: number): Promise<boolean> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) return false;
    if (await ping(port)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}

function server(child: ChildProcess, port: number, dir: string): RedisServer {
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  let stopped = false;
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async stop() {
      if (stopped) return;
      stopped = true;
      process.removeListener('exit', kill);
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const timeout = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timeout);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The key under which the vitest global setup provides the Redis URL to test files. */
export const redisUrlKey = 'skylarkRedisUrl';

/** For test/global-setup.ts, like providePostgres. */
export async function provideRedis(project: { provide(key: string, value: unknown): void }): Promise<() => Promise<void>> {
  const server = await startRedis();
  project.provide(redisUrlKey, server.url);
  return () => server.stop();
}

