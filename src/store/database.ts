/**
 * The one place that decides which SQL engine Skylark talks to. Everything above this
 * file sees a `Kysely<Database>` and, where SQL differs, asks `dialectOf`.
 *
 * - a file path, `sqlite:path`, `sqlite:///abs/path` or `:memory:` → embedded SQLite
 *   (better-sqlite3), the default: zero setup, one process;
 * - `postgres://…` / `postgresql://…` → a `pg` pool, for several gateway replicas.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, PostgresAdapter, PostgresDialect, SqliteAdapter, SqliteDialect } from 'kysely';
import type { Database } from './schema.js';
import { startCheckpointer } from './sqlite-checkpointer.js';

export type DialectName = 'sqlite' | 'postgres';

export interface Store {
  readonly db: Kysely<Database>;
  readonly dialect: DialectName;
  /** Where it points, with any password removed: for logs. */
  readonly description: string;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** PostgreSQL pool size (default 10). SQLite always uses one connection. */
  poolSize?: number;
  /** How long a SQLite writer waits for another process's lock, ms (default 5000). */
  busyTimeoutMs?: number;
  /** Errors of idle pooled PostgreSQL connections; without a listener they would crash the process. */
  onPoolError?: (error: Error) => void;
  /**
   * SQLite file only: checkpoint the WAL from a worker thread instead of inside a commit
   * (see sqlite-checkpointer.ts). For the long-running server; a short CLI command keeps
   * SQLite's automatic checkpoint.
   */
  backgroundCheckpoints?: boolean;
  /** How often the background checkpoint runs, ms (default 1000). */
  checkpointIntervalMs?: number;
  /** A background checkpoint failed (it is retried). */
  onCheckpointError?: (error: Error) => void;
}

/** The better-sqlite3 connection under a Kysely opened here, for the few synchronous hot paths. */
const sqliteConnections = new WeakMap<Kysely<any>, SqliteDatabase.Database>();

export function sqliteConnectionOf(db: Kysely<any>): SqliteDatabase.Database | undefined {
  return sqliteConnections.get(db);
}

export function isPostgresUrl(urlOrPath: string): boolean {
  return /^postgres(ql)?:\/\//i.test(urlOrPath);
}

export async function openDatabase(urlOrPath: string, options: OpenDatabaseOptions = {}): Promise<Store> {
  return isPostgresUrl(urlOrPath) ? openPostgres(urlOrPath, options) : openSqlite(sqlitePath(urlOrPath), options);
}

/** `sqlite:data/x.db` → `data/x.db`, `sqlite:///var/x.db` → `/var/x.db`, plain paths unchanged. */
export function sqlitePath(urlOrPath: string): string {
  if (!urlOrPath.startsWith('sqlite:')) return urlOrPath;
  const rest = urlOrPath.slice('sqlite:'.length);
  return rest.startsWith('//') ? rest.slice(2) : rest;
}

function openSqlite(path: string, options: OpenDatabaseOptions): Store {
  const inMemory = path === ':memory:' || path === '';
  if (!inMemory) mkdirSync(dirname(resolve(path)), { recursive: true });
  const sqlite = new SqliteDatabase(inMemory ? ':memory:' : path);
  // WAL: readers never block the writer. NORMAL: a commit is durable against a process
  // crash, and against power loss up to the last checkpoint — the usual WAL trade.
  if (!inMemory) sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  // A second process on the same file (a CLI while the server runs) waits instead of failing.
  sqlite.pragma(`busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 5000)}`);
  // SQLite ignores REFERENCES unless asked: the ledger relies on them to refuse orphan rows.
  sqlite.pragma('foreign_keys = ON');
  const checkpointer =
    options.backgroundCheckpoints === true && !inMemory
      ? startCheckpointer(path, {
          intervalMs: options.checkpointIntervalMs,
          onError: options.onCheckpointError,
          onDead: () => sqlite.open && sqlite.pragma('wal_autocheckpoint = 1000'),
        })
      : undefined;
  if (checkpointer !== undefined) sqlite.pragma('wal_autocheckpoint = 0');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
  sqliteConnections.set(db, sqlite);
  const close = async () => {
    await checkpointer?.stop();
    await db.destroy();
    // Kysely opens its driver lazily and closes only what it opened.
    if (sqlite.open) sqlite.close();
  };
  return { db, dialect: 'sqlite', description: `sqlite:${inMemory ? ':memory:' : path}`, close };
}

/**
 * Kysely's SQLite driver prepares every query anew; preparing (parsing and planning) was a
 * fifth of the CPU of a settlement. The ledger repeats the same few statements, so keep the
 * prepared ones by SQL text. Safe because the driver runs one statement at a time on its
 * single connection, and it never switches a statement's mode (raw/pluck/safeIntegers).
 */
function withStatementCache(sqlite: SqliteDatabase.Database, capacity = 256): SqliteDatabase.Database {
  const cache = new Map<string, SqliteDatabase.Statement>();
  const prepare = (source: string): SqliteDatabase.Statement => {
    let statement = cache.get(source);
    if (statement !== undefined) {
      cache.delete(source); // re-insert: Map order doubles as LRU order
    } else {
      statement = sqlite.prepare(source);
      if (cache.size >= capacity) cache.delete(cache.keys().next().value!);
    }
    cache.set(source, statement);
    return statement;
  };
  return new Proxy(sqlite, {
    get(target, property) {
      if (property === 'prepare') return prepare;
      const value: unknown = Reflect.get(target, property);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** int8 → number. Every count and amount here is far below 2^53; refuse silently wrong values. */
function parseInt8(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new RangeError(`bigint ${text} does not fit a JS number`);
  return value;
}

const INT8_OID = 20;

async function openPostgres(url: string, options: OpenDatabaseOptions): Promise<Store> {
  // Imported here: a SQLite-backed gateway never needs the driver (memory, start-up time).
  const { default: pg } = await import('pg');
  // A per-pool type parser rather than the global pg.types.setTypeParser, so Skylark
  // never changes how some other pg user in the same process reads bigints.
  const types = {
    getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
      oid === INT8_OID && format !== 'binary' ? parseInt8 : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
  };
  const pool = new pg.Pool({ connectionString: url, max: options.poolSize ?? 10, types });
  pool.on('error', options.onPoolError ?? (() => {}));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { db, dialect: 'postgres', description: redactUrl(url), close: () => db.destroy() };
}

function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'postgres://(unparseable url)';
  }
}

/** Which SQL a `Kysely` instance speaks, for the few statements that differ. */
export function dialectOf(db: Kysely<any>): DialectName {
  const adapter = db.getExecutor().adapter;
  if (adapter instanceof SqliteAdapter) return 'sqlite';
  if (adapter instanceof PostgresAdapter) return 'postgres';
  throw new Error(`unsupported SQL dialect: ${adapter.constructor.name}`);
}

/**
 * Aggregates come back as strings on PostgreSQL (SUM of bigint is numeric) and as numbers
 * on SQLite; this turns either into an exact integer or throws.
 */
export function toSafeInteger(value: unknown): number {
  if (value === null || value === undefined) return 0;
  const n = typeof value === 'number' ? value : Number(value as string | bigint);
  if (!Number.isSafeInteger(n)) throw new RangeError(`${String(value)} is not a safe integer`);
  return n;
}
