/**
 * For tests that run `skylark serve` processes themselves on a database they choose: a
 * fresh PostgreSQL database per call (on the run's server, or on one this file starts),
 * the SQLite/PostgreSQL matrix, and cleanups run after the file, last registered first.
 */
import { join } from 'node:path';
import { afterAll, inject } from 'vitest';
import '../store/provided-context.js';
import { createDatabase, postgresUrlKey, startPostgres, type PostgresServer } from './postgres.js';

export interface ProcessDatabases {
  /** Run after the file's tests, in reverse order; failures are ignored. */
  cleanups: Array<() => Promise<unknown>>;
  /** A new, empty PostgreSQL database. */
  postgresUrl(): Promise<string>;
  /** The two stores a gateway process can run on: its DATABASE_URL and the URL tests open. */
  databases: Array<{ name: string; url: (dataDir: string) => Promise<string>; env: (url: string) => { DATABASE_URL: string } }>;
}

export function processDatabases(): ProcessDatabases {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  });
  let ownPostgres: Promise<PostgresServer> | undefined;
  async function postgresUrl(): Promise<string> {
    const provided = inject(postgresUrlKey as 'skylarkPostgresUrl');
    if (typeof provided === 'string' && provided !== '') return createDatabase(provided);
    if (ownPostgres === undefined) {
      ownPostgres = startPostgres();
      cleanups.push(async () => (await ownPostgres!).stop());
    }
    return createDatabase((await ownPostgres).url);
  }
  const databases: ProcessDatabases['databases'] = [
    { name: 'sqlite', url: async (dataDir) => join(dataDir, 'skylark.db'), env: () => ({ DATABASE_URL: '' }) },
    { name: 'postgres', url: async () => postgresUrl(), env: (url) => ({ DATABASE_URL: url }) },
  ];
  return { cleanups, postgresUrl, databases };
}
