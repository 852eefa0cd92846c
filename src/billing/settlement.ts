/**
 * Settling requests: the one code path that turns usage into money, for one request or a
 * group-committed batch. Inside ONE transaction it
 *   1. inserts the usage rows, ON CONFLICT(request_id) DO NOTHING — a request already
 *      settled is skipped entirely, so retries never double-count;
 *   2. appends one `usage` ledger entry per charged request;
 *   3. moves each tenant's cached balance once per batch.
 * Each step is one statement per chunk of rows, so a 500-row batch costs a handful of
 * round trips to PostgreSQL, not 1,500. (Holds on a request's money live with the gateways,
 * in funds.ts, not in the database.) Embedded SQLite runs the same steps synchronously:
 * sqlite-settlement.ts.
 */
import type { Kysely, Transaction } from 'kysely';
import type { Usage } from '../core/usage.js';
import type { Database, UsageStatus } from '../store/schema.js';

export interface Settlement {
  requestId: string;
  tenantId: string;
  apiKeyId?: string | null;
  endpointId?: string | null;
  modelId: string;
  /** The engine replica that served it. */
  replicaId?: string | null;
  usage: Usage;
  /** The price version it was charged at (null when unpriced, e.g. cost 0). */
  priceId: string | null;
  /** What the request costs, from pricing.costMicros; ≥ 0. */
  costMicros: number;
  queueMs?: number;
  generationMs?: number;
  status: UsageStatus;
  batch?: boolean;
  /** Epoch ms; default: when it is written. */
  createdAt?: number;
}

export interface SettleReport {
  /** Request ids charged by this call. */
  settled: string[];
  /** Request ids that had already been settled (or repeated within the batch): nothing changed. */
  duplicates: string[];
}

/** Rows per statement: 18 parameters a row stays well under SQLite's 32,766 and PG's 65,535. */
const CHUNK = 500;

/** Throws on a settlement that no database could accept; call before queueing one. */
export function checkSettlement(s: Settlement): void {
  const counts = [s.usage.promptTokens, s.usage.cachedPromptTokens, s.usage.completionTokens, s.costMicros, s.usage.media?.units ?? 0];
  if (!counts.every((n) => Number.isSafeInteger(n) && n >= 0)) {
    throw new RangeError(`settlement ${s.requestId}: tokens and costMicros must be non-negative integers`);
  }
  if (s.requestId === '' || s.tenantId === '') throw new RangeError('settlement needs a requestId and a tenantId');
}

export async function settleBatch(
  trx: Transaction<Database> | Kysely<Database>,
  settlements: readonly Settlement[],
  now: number,
): Promise<SettleReport> {
  const unique = new Map<string, Settlement>();
  const duplicates: string[] = [];
  for (const s of settlements) {
    checkSettlement(s);
    if (unique.has(s.requestId)) duplicates.push(s.requestId);
    else unique.set(s.requestId, s);
  }
  // Sorted, so concurrent batches on PostgreSQL take row locks in one order (no deadlocks).
  const all = [...unique.values()].sort((a, b) => (a.requestId < b.requestId ? -1 : a.requestId > b.requestId ? 1 : 0));

  // 1. Usage rows first: also the first statement of the transaction is a write, which
  //    makes SQLite take its write lock at once (a read first would risk SQLITE_BUSY on upgrade).
  const inserted = new Set<string>();
  for (const part of chunks(all, CHUNK)) {
    const rows = await trx
      .insertInto('usage_records')
      .values(
        part.map((s) => ({
          request_id: s.requestId,
          tenant_id: s.tenantId,
          api_key_id: s.apiKeyId ?? null,
          endpoint_id: s.endpointId ?? null,
          model_id: s.modelId,
          replica_id: s.replicaId ?? null,
          prompt_tokens: s.usage.promptTokens,
          cached_tokens: s.usage.cachedPromptTokens,
          completion_tokens: s.usage.completionTokens,
          price_id: s.priceId,
          cost_micros: s.costMicros,
          queue_ms: Math.round(s.queueMs ?? 0),
          generation_ms: Math.round(s.generationMs ?? 0),
          status: s.status,
          batch: s.batch === true ? 1 : 0,
          created_at: s.createdAt ?? now,
          units: s.usage.media?.units ?? 0,
          unit_kind: s.usage.media?.kind ?? null,
        })),
      )
      .onConflict((oc) => oc.column('request_id').doNothing())
      .returning('request_id')
      .execute();
    for (const row of rows) inserted.add(row.request_id);
  }
  const fresh = all.filter((s) => inserted.has(s.requestId));
  for (const s of all) if (!inserted.has(s.requestId)) duplicates.push(s.requestId);
  if (fresh.length === 0) return { settled: [], duplicates };

  // 2. The ledger. A zero-cost request (an error before any token) has its usage row only.
  const charged = fresh.filter((s) => s.costMicros > 0);
  for (const part of chunks(charged, CHUNK)) {
    await trx
      .insertInto('ledger_entries')
      .values(
        part.map((s) => ({
          tenant_id: s.tenantId,
          kind: 'usage' as const,
          amount_micros: -s.costMicros,
          ref: s.requestId,
          created_at: s.createdAt ?? now,
        })),
      )
      .execute();
  }
  const charges = new Map<string, number>();
  for (const s of charged) charges.set(s.tenantId, (charges.get(s.tenantId) ?? 0) + s.costMicros);

  // 3. The cached balances, in tenant order so concurrent batches lock rows in one order.
  for (const tenantId of [...charges.keys()].sort()) {
    const result = await trx
      .updateTable('tenant_balances')
      .set((eb) => ({ balance_micros: eb('balance_micros', '-', charges.get(tenantId)!), updated_at: now }))
      .where('tenant_id', '=', tenantId)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) !== 1) throw new Error(`tenant ${tenantId} has no balance row`);
  }
  return { settled: fresh.map((s) => s.requestId), duplicates };
}

function* chunks<T>(items: readonly T[], size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}
