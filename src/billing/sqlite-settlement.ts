/**
 * settleBatch for embedded SQLite, run synchronously on the better-sqlite3 connection with
 * statements prepared once. Same steps and the same result as settlement.ts (usage rows
 * ON CONFLICT DO NOTHING, one `usage` ledger entry per charged request, each tenant's
 * balance moved once), one row per statement execution: on an in-process database a
 * statement is a function call, not a round trip, and building and compiling the Kysely
 * queries plus its asynchronous transaction cost twice what SQLite itself did for a
 * one-request batch (bench/ledger.ts, docs/benchmarks.md).
 *
 * Kysely runs its own transactions on this same connection and awaits between their
 * statements; a synchronous transaction started in one of those gaps would nest inside it
 * (and roll back with it). So this runs while holding Kysely's lock on the connection,
 * which its transactions hold from BEGIN to COMMIT.
 */
import type SqliteDatabase from 'better-sqlite3';
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import { checkSettlement, type Settlement, type SettleReport } from './settlement.js';

type Settle = (settlements: readonly Settlement[], now: number) => SettleReport;

const prepared = new WeakMap<SqliteDatabase.Database, Settle>();

/** `sqlite` is the connection under `db` (sqliteConnectionOf). */
export async function settleOnSqlite(
  db: Kysely<Database>,
  sqlite: SqliteDatabase.Database,
  settlements: readonly Settlement[],
  now: number,
): Promise<SettleReport> {
  for (const s of settlements) checkSettlement(s);
  let settle = prepared.get(sqlite);
  if (settle === undefined) prepared.set(sqlite, (settle = prepare(sqlite)));
  const run = settle;
  return db.connection().execute(async () => run(settlements, now));
}

function prepare(sqlite: SqliteDatabase.Database): Settle {
  const insertUsage = sqlite.prepare(
    `insert into usage_records (request_id, tenant_id, api_key_id, endpoint_id, model_id, replica_id, prompt_tokens,
       cached_tokens, completion_tokens, price_id, cost_micros, queue_ms, generation_ms, status, batch, created_at,
       units, unit_kind)
     values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     on conflict (request_id) do nothing returning request_id`,
  );
  const insertLedger = sqlite.prepare(`insert into ledger_entries (tenant_id, kind, amount_micros, ref, created_at) values (?, 'usage', ?, ?, ?)`);
  const charge = sqlite.prepare(`update tenant_balances set balance_micros = balance_micros - ?, updated_at = ? where tenant_id = ?`);

  const transaction = sqlite.transaction((settlements: readonly Settlement[], now: number): SettleReport => {
    const settled: string[] = [];
    const duplicates: string[] = [];
    const charges = new Map<string, number>();
    for (const s of settlements) {
      const createdAt = s.createdAt ?? now;
      const row = insertUsage.get(
        s.requestId, s.tenantId, s.apiKeyId ?? null, s.endpointId ?? null, s.modelId, s.replicaId ?? null,
        s.usage.promptTokens, s.usage.cachedPromptTokens, s.usage.completionTokens, s.priceId, s.costMicros,
        Math.round(s.queueMs ?? 0), Math.round(s.generationMs ?? 0), s.status, s.batch === true ? 1 : 0, createdAt,
        s.usage.media?.units ?? 0, s.usage.media?.kind ?? null,
      );
      // No row back: settled before, or earlier in this very batch.
      if (row === undefined) {
        duplicates.push(s.requestId);
        continue;
      }
      settled.push(s.requestId);
      if (s.costMicros === 0) continue; // an error before any token has its usage row only
      insertLedger.run(s.tenantId, -s.costMicros, s.requestId, createdAt);
      charges.set(s.tenantId, (charges.get(s.tenantId) ?? 0) + s.costMicros);
    }
    for (const [tenantId, amount] of charges) {
      if (charge.run(amount, now, tenantId).changes !== 1) throw new Error(`tenant ${tenantId} has no balance row`);
    }
    return { settled, duplicates };
  });
  // IMMEDIATE: take the write lock up front, so another process's lock is waited for
  // (busy_timeout) instead of failing on a read-to-write upgrade.
  return (settlements, now) => transaction.immediate(settlements, now);
}
