/**
 * The peers bench:peers compares Skylark with: nginx (Debian's, `proxy_pass`) as the floor
 * of any proxy, and the Portkey AI gateway from npm, each pinned to the gateway core and run
 * in the foreground with every file it writes in a temp folder (never the system nginx).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { spawnNode, spawnPinned, waitForOk, type Spawned } from '../lib/processes.js';

/** A port free on 127.0.0.1 now (for servers that cannot be told to pick one themselves). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export const nginxMissing = 'nginx is not installed: bench:peers uses it as the floor of any proxy. Install it with `sudo apt-get install nginx` (Debian/Ubuntu; only the binary is used, the system service is never touched).';

/** The nginx binary (Debian puts it in /usr/sbin, often not on a user's PATH), or undefined. */
export function findNginx(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(':').filter(Boolean), '/usr/sbin', '/usr/local/sbin', '/usr/local/nginx/sbin'];
  return dirs.map((dir) => join(dir, 'nginx')).find((path) => existsSync(path));
}

function nginxConfig(dir: string, port: number, upstream: URL): string {
  const temp = (name: string) => join(dir, name);
  return `# Written by bench:peers; one process, no master, so its CPU and RSS are one pid's.
master_process off;
worker_processes 1;
pid ${temp('nginx.pid')};
error_log ${temp('error.log')} warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${temp('client_body')};
  proxy_temp_path ${temp('proxy')};
  fastcgi_temp_path ${temp('fastcgi')};
  uwsgi_temp_path ${temp('uwsgi')};
  scgi_temp_path ${temp('scgi')};
  upstream bench_upstream {
    server ${upstream.host};
    keepalive 64;
  }
  server {
    listen 127.0.0.1:${port};
    location = /bench-ready { return 200 "ok"; }
    location / {
      proxy_pass http://bench_upstream;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      # Server-sent events pass through as they come, as a gateway must forward them.
      proxy_buffering off;
    }
  }
}
`;
}

export async function startNginx(upstreamUrl: string, dir: string, core: number): Promise<{ proc: Spawned; origin: string }> {
  const nginx = findNginx();
  if (!nginx) throw new Error(nginxMissing);
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const config = join(dir, 'nginx.conf');
  writeFileSync(config, nginxConfig(dir, port, new URL(upstreamUrl)));
  // -e: the error log before the config is read (else /var/log/nginx, not ours to write).
  const proc = spawnPinned(nginx, ['-p', dir, '-e', join(dir, 'error.log'), '-c', config, '-g', 'daemon off;'], { core });
  const origin = `http://127.0.0.1:${port}`;
  await waitUnlessExited(proc, `${origin}/bench-ready`, 'nginx');
  return { proc, origin };
}

/** Portkey's own Node.js entry point (`npm run start:node` in its repository). */
function portkeyServer(): string {
  const require = createRequire(import.meta.url);
  let manifest: string;
  try {
    manifest = require.resolve('@portkey-ai/gateway/package.json');
  } catch {
    throw new Error('@portkey-ai/gateway is not installed: it is a devDependency, run `npm ci` (not `npm ci --omit=dev`).');
  }
  return join(dirname(manifest), 'build/start-server.js');
}

/** Portkey on `core`; requests name the upstream with x-portkey-provider/x-portkey-custom-host. */
export async function startPortkey(core: number): Promise<{ proc: Spawned; origin: string }> {
  const port = await freePort();
  // --headless: no log console UI (and no log streaming to it); its stdout (a spinner) is discarded.
  const proc = spawnNode([portkeyServer(), `--port=${port}`, '--headless'], { core });
  const origin = `http://127.0.0.1:${port}`;
  await waitUnlessExited(proc, `${origin}/`, 'Portkey');
  return { proc, origin };
}

async function waitUnlessExited(proc: Spawned, url: string, name: string): Promise<void> {
  const exited = new Promise<never>((_, reject) =>
    proc.child.once('exit', (code) => reject(new Error(`${name} exited (${code}) before it answered:\n${proc.stderr()}`))),
  );
  exited.catch(() => undefined);
  await Promise.race([waitForOk(url), exited]);
}
