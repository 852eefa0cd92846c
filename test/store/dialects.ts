/**
 * The dialect matrix every store test runs over (Kysely's own habit): the same suite against
 * embedded SQLite (a file in a temp dir, WAL like production) and PostgreSQL.
 *
 * PostgreSQL comes from the run-wide server that test/global-setup.ts provides (see
 * test/support/postgres.ts → providePostgres); without it, this file starts one for the
 * test file itself. Each `open()` is a fresh, migrated database.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, inject } from 'vitest';
import { openDatabase, type DialectName, type Store } from '../../src/store/database.js';
import { migrateToLatest } from '../../src/store/migrations/index.js';
import './provided-context.js';
import { createDatabase, postgresUrlKey, startPostgres, type PostgresServer } from '../support/postgres.js';

export interface DialectCase {
  name: DialectName;
  /** A fresh database with the schema applied. Closed and removed after the file. */
  open(options?: { migrate?: boolean }): Promise<Store>;
}

const opened: Store[] = [];
const tempDirs: string[] = [];
let ownServer: Promise<PostgresServer> | undefined;

async function postgresUrl(): Promise<string> {
  const provided = inject(postgresUrlKey as 'skylarkPostgresUrl');
  if (typeof provided === 'string' && provided !== '') return provided;
  ownServer ??= startPostgres();
  return (await ownServer).url;
}

async function track(store: Store, migrate: boolean): Promise<Store> {
  opened.push(store);
  if (migrate) await migrateToLatest(store.db);
  return store;
}

export const sqlite: DialectCase = {
  name: 'sqlite',
  async open({ migrate = true } = {}) {
    const dir = mkdtempSync(join(tmpdir(), 'skylark-sqlite-'));
    tempDirs.push(dir);
    return track(await openDatabase(`sqlite:${join(dir, 'skylark.db')}`), migrate);
  },
};

export const postgres: DialectCase = {
  name: 'postgres',
  async open({ migrate = true } = {}) {
    const url = await createDatabase(await postgresUrl());
    return track(await openDatabase(url, { poolSize: 10 }), migrate);
  },
};

export const dialects: DialectCase[] = [sqlite, postgres];

/** Inside a describe: one migrated store for the block. */
export function useStore(dialect: DialectCase): () => Store {
  let store: Store | undefined;
  beforeAll(async () => {
    store = await dialect.open();
  });
  return () => {
    if (store === undefined) throw new Error('store not open yet');
    return store;
  };
}

afterAll(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  if (ownServer !== undefined) await (await ownServer).stop();
  ownServer = undefined;
});
