/**
 * Debian's haproxy in the foreground, round-robin over some HTTP servers: the load balancer
 * in front of several gateways. Its config is generated into a temp dir. Never skipped
 * silently: a missing binary is an error that says what to install.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './postgres.js';

export interface Haproxy {
  url: string;
  stop(): Promise<void>;
}

export function findHaproxy(): string {
  const found = [process.env.HAPROXY, '/usr/sbin/haproxy', '/usr/bin/haproxy', '/usr/local/sbin/haproxy'].find((path) => path && existsSync(path));
  if (found === undefined) throw new Error('haproxy was not found. Install it with `apt-get install -y haproxy` (Debian/Ubuntu), or set HAPROXY to its path.');
  return found;
}

/** `backends` are base URLs like http://127.0.0.1:1234; haproxy checks each on /healthz. */
export async function startHaproxy(backends: readonly string[]): Promise<Haproxy> {
  const binary = findHaproxy();
  const dir = await mkdtemp(join(tmpdir(), 'skylark-haproxy-'));
  const port = await freePort();
  const servers = backends.map((url, i) => `  server g${i} ${new URL(url).host} check inter 1s fall 3 rise 1`);
  const config = [
    'global',
    '  maxconn 4096',
    'defaults',
    '  mode http',
    '  timeout connect 2s',
    '  timeout client 120s',
    '  timeout server 120s',
    // A gateway busy with a burst answers its health check late, not never.
    '  timeout check 10s',
    // A dead gateway's connections are refused: try the next one.
    '  retries 2',
    '  option redispatch',
    'frontend gateways',
    `  bind 127.0.0.1:${port}`,
    '  default_backend gateways',
    'backend gateways',
    '  balance roundrobin',
    '  option httpchk GET /healthz',
    ...servers,
    '',
  ].join('\n');
  const path = join(dir, 'haproxy.cfg');
  await writeFile(path, config);
  const child = spawn(binary, ['-db', '-f', path], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`haproxy exited:\n${output}`);
    const response = await fetch(`${url}/healthz`).catch(() => undefined);
    if (response?.status === 200) break;
    if (i > 200) {
      kill();
      throw new Error(`haproxy never answered:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    url,
    async stop() {
      process.removeListener('exit', kill);
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        kill();
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
