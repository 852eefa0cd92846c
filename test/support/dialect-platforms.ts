/**
 * The platform over real HTTP on each store dialect: SQLite in its temp data dir, and a
 * fresh database on the run's PostgreSQL (test/global-setup.ts), or on one this file starts
 * when run without the global setup. Plus a small JSON client for the account APIs.
 */
import { afterAll, inject } from 'vitest';
import '../store/provided-context.js';
import { startTestPlatform, testAdminKey, tinyModelConfig, type TestPlatform } from './platform.js';
import { createDatabase, postgresUrlKey, startPostgres, type PostgresServer } from './postgres.js';

export type DialectName = 'sqlite' | 'postgres';
export const dialectNames: DialectName[] = ['sqlite', 'postgres'];

let ownServer: Promise<PostgresServer> | undefined;

async function postgresDatabase(): Promise<string> {
  const provided = inject(postgresUrlKey as 'skylarkPostgresUrl');
  if (typeof provided === 'string' && provided !== '') return createDatabase(provided);
  ownServer ??= startPostgres();
  return createDatabase((await ownServer).url);
}

afterAll(async () => {
  if (ownServer !== undefined) await (await ownServer).stop();
  ownServer = undefined;
});

/** The tiny model on llama.cpp, its usage billed into the given dialect's store. */
export async function startPlatformOn(dialect: DialectName, config?: Record<string, unknown>): Promise<TestPlatform> {
  // An empty DATABASE_URL counts as unset: SQLite in the platform's data dir.
  const env = { DATABASE_URL: dialect === 'postgres' ? await postgresDatabase() : '' };
  return startTestPlatform(config ?? tinyModelConfig({ parallel: 2, contextSize: 2048 }), { env });
}

export interface JsonReply<T = any> {
  status: number;
  body: T;
}

/** One JSON request with a bearer key (default: the admin key); `key: null` sends none. */
export async function call<T = any>(
  sky: TestPlatform,
  method: string,
  path: string,
  options: { key?: string | null; body?: unknown } = {},
): Promise<JsonReply<T>> {
  const key = options.key === undefined ? testAdminKey : options.key;
  const headers: Record<string, string> = {};
  if (key !== null) headers.authorization = `Bearer ${key}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${sky.url}${path}`, {
    method,
    headers,
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
}
