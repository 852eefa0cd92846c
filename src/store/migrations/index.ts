/**
 * Every schema version, in code: the migrations ship inside the compiled package, so
 * there is no folder to find at run time (Kysely's FileMigrationProvider would need one).
 * Names sort in the order they apply; never edit or rename one that has shipped.
 */
import { Migrator, type Kysely, type Migration, type MigrationProvider, type MigrationResult } from 'kysely';
import * as initial from './001-initial.js';
import * as apps from './002-apps.js';
import * as usageReplica from './003-usage-replica.js';
import * as endpointFallbacks from './004-endpoint-fallbacks.js';
import * as holdsLeaveTheDatabase from './005-holds-leave-the-database.js';
import * as storedResponses from './006-stored-responses.js';
import * as mediaUnits from './007-media-units.js';
import * as filesAndBatches from './008-files-and-batches.js';
import * as storedResponsesExpiry from './009-stored-responses-expiry.js';
import * as contextCache from './010-context-cache.js';
import * as contextTruncation from './011-context-truncation.js';

export const migrations: Readonly<Record<string, Migration>> = {
  '001-initial': initial,
  '002-apps': apps,
  '003-usage-replica': usageReplica,
  '004-endpoint-fallbacks': endpointFallbacks,
  '005-holds-leave-the-database': holdsLeaveTheDatabase,
  '006-stored-responses': storedResponses,
  '007-media-units': mediaUnits,
  '008-files-and-batches': filesAndBatches,
  '009-stored-responses-expiry': storedResponsesExpiry,
  '010-context-cache': contextCache,
  '011-context-truncation': contextTruncation,
};

const provider: MigrationProvider = { getMigrations: async () => ({ ...migrations }) };

export function migrator(db: Kysely<any>): Migrator {
  return new Migrator({ db, provider });
}

/**
 * Brings the schema up to date; safe to call on every start. On PostgreSQL several replicas
 * may start at once: Kysely serialises them with an advisory lock. SQLite is one process's
 * database: Kysely holds its single connection for the whole migration, so calls within a
 * process are serialised too.
 * Returns the names applied now (empty when already current); throws if one failed.
 */
export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  const { error, results } = await migrator(db).migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((r: MigrationResult) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`database migration ${failed} failed: ${describe(error)}`, { cause: error });
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
