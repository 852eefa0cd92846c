/**
 * Where the admin commands find the store: the same database `skylark serve` uses, so an
 * operator can manage tenants and money while the server runs (SQLite is opened in WAL
 * mode with a busy timeout by openDatabase, so the two processes share the file).
 */
import { join, resolve } from 'node:path';
import { sql } from 'kysely';
import { openDatabase, type Store } from '../store/database.js';
import { migrateToLatest } from '../store/migrations/index.js';

export interface StoreLocationOptions {
  /** The data directory (`--data`, default ./data). */
  data: string;
  env?: NodeJS.ProcessEnv;
}

/** DATABASE_URL when set (postgres://… or a SQLite path/URL), else DATA/skylark.db. */
export function storeLocation(options: StoreLocationOptions): string {
  const fromEnv = (options.env ?? process.env).DATABASE_URL?.trim();
  if (fromEnv) return fromEnv;
  return join(resolve(options.data), 'skylark.db');
}

/**
 * Opens the store, brings its schema up to date, runs `fn`, and always closes it (a pg
 * pool left open would keep the process alive). `fn` also learns which migrations this
 * call applied, for `skylark migrate` to report.
 */
export async function withStore<T>(
  options: StoreLocationOptions,
  fn: (store: Store, applied: readonly string[]) => Promise<T>,
): Promise<T> {
  const store = await openDatabase(storeLocation(options));
  try {
    // Probe first: otherwise an unreachable server surfaces as "migration failed", which
    // sends the operator looking at the schema instead of DATABASE_URL.
    await sql`select 1`.execute(store.db).catch((error: unknown) => {
      throw new Error(`cannot open the database at ${store.description}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    });
    const applied = await migrateToLatest(store.db);
    return await fn(store, applied);
  } finally {
    await store.close();
  }
}
