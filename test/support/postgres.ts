/**
 * A throwaway PostgreSQL server for tests and benchmarks: initdb into a temp dir, listen on
 * 127.0.0.1 at a free port (plus a unix socket in the same dir), trust auth, locale C.
 * No test framework imports here, so bench/ can use it too.
 *
 * PostgreSQL refuses to run as root: when we are root, the server runs as the `postgres`
 * OS user if there is one (Debian's postgresql package creates it), else as a system user
 * `skylark-pg` created once with useradd.
 *
 * Never skipped silently: a missing PostgreSQL is an error that says what to install.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import pg from 'pg';

export interface PostgresServer {
  /** postgres://postgres@127.0.0.1:PORT/postgres — the maintenance database. */
  readonly url: string;
  readonly port: number;
  /** A new empty database on this server; returns its URL. */
  createDatabase(name?: string): Promise<string>;
  stop(): Promise<void>;
}

export interface StartPostgresOptions {
  /**
   * Durable settings (fsync, synchronous_commit) as in production. Default false: tests
   * don't need crash safety and run much faster without it.
   */
  durable?: boolean;
}

const installHint =
  'PostgreSQL server binaries (initdb, pg_ctl) were not found. Install them with ' +
  '`apt-get install -y postgresql` (Debian/Ubuntu), or set PG_BIN to the folder holding initdb.';

/** The folder with initdb/pg_ctl: $PG_BIN, PATH, or the newest /usr/lib/postgresql/N/bin. */
export function findPostgresBin(): string {
  const candidates: string[] = [];
  if (process.env.PG_BIN) candidates.push(process.env.PG_BIN);
  candidates.push(...(process.env.PATH ?? '').split(delimiter).filter(Boolean));
  const debianRoot = '/usr/lib/postgresql';
  if (existsSync(debianRoot)) {
    const versions = readdirSync(debianRoot).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((v) => join(debianRoot, v, 'bin')));
  }
  const found = candidates.find((dir) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl')));
  if (found === undefined) throw new Error(installHint);
  return found;
}

/** uid/gid to run the server as, or undefined when we are not root. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const lookup = (name: string) => {
    const result = spawnSync('id', ['-u', name], { encoding: 'utf8' });
    if (result.status !== 0) return undefined;
    const gid = spawnSync('id', ['-g', name], { encoding: 'utf8' }).stdout.trim();
    return { uid: Number(result.stdout.trim()), gid: Number(gid) };
  };
  const existing = lookup('postgres') ?? lookup('skylark-pg');
  if (existing !== undefined) return existing;
  execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', 'skylark-pg']);
  return lookup('skylark-pg')!;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export async function startPostgres(options: StartPostgresOptions = {}): Promise<PostgresServer> {
  const bin = findPostgresBin();
  const user = serverUser();
  const dir = mkdtempSync(join(tmpdir(), 'skylark-pg-'));
  const data = join(dir, 'data');
  const log = join(dir, 'server.log');
  if (user !== undefined) chownSync(dir, user.uid, user.gid);
  const run = (tool: string, args: string[]) => {
    const result = spawnSync(join(bin, tool), args, {
      encoding: 'utf8',
      cwd: dir, // the server user must be able to enter the cwd
      env: { ...process.env, LC_ALL: 'C', LANG: 'C' },
      ...(user ?? {}),
    });
    return result;
  };
  try {
    const init = run('initdb', ['-D', data, '--auth=trust', '-U', 'postgres', '--locale=C', '-E', 'UTF8', '--no-sync']);
    if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr || init.error?.message}`);

    const settings = [`-k ${dir}`, "-c listen_addresses=127.0.0.1", '-c max_connections=200'];
    if (options.durable !== true) settings.push('-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off');
    // A port picked free can be taken before the server binds it: try a few.
    let port = 0;
    for (let attempt = 0; ; attempt++) {
      port = await freePort();
      const start = run('pg_ctl', ['-D', data, '-l', log, '-w', '-t', '60', '-o', `-p ${port} ${settings.join(' ')}`, 'start']);
      if (start.status === 0) break;
      if (attempt >= 2) throw new Error(`pg_ctl start failed: ${start.stderr}\n${readLog(log)}`);
    }
    const kill = () => run('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']);
    // If the test process dies without stop(), don't leave a server behind.
    process.once('exit', kill);

    const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    let stopped = false;
    return {
      url,
      port,
      createDatabase: (name) => createDatabase(url, name),
      async stop() {
        if (stopped) return;
        stopped = true;
        process.removeListener('exit', kill);
        run('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

function readLog(path: string): string {
  try {
    return readFileSync(path, 'utf8').slice(-4000);
  } catch {
    return '(no server log)';
  }
}

let counter = 0;

/**
 * CREATE DATABASE on the server behind `serverUrl` (any database URL of it) and return the
 * new database's URL. Used once per test file so files never see each other's rows.
 */
export async function createDatabase(serverUrl: string, name?: string): Promise<string> {
  const dbName = name ?? `t_${process.pid}_${Date.now().toString(36)}_${counter++}`;
  if (!/^[a-z_][a-z0-9_]*$/.test(dbName)) throw new Error(`unsafe database name ${dbName}`);
  const admin = new URL(serverUrl);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${dbName}`);
  } finally {
    await client.end();
  }
  const target = new URL(serverUrl);
  target.pathname = `/${dbName}`;
  return target.toString();
}

/** The key under which the vitest global setup provides the server URL to test files. */
export const postgresUrlKey = 'skylarkPostgresUrl';

/**
 * For test/global-setup.ts: start one server for the whole run and hand its URL to test
 * files (vitest's `project.provide`); returns the teardown. Typed structurally so this
 * file need not import vitest.
 */
export async function providePostgres(project: { provide(key: string, value: unknown): void }): Promise<() => Promise<void>> {
  const server = await startPostgres();
  project.provide(postgresUrlKey, server.url);
  return () => server.stop();
}
