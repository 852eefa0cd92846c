/** Reading a tenant's ledger back: every credit and charge, newest first, a page at a time. */
import type { Kysely } from 'kysely';
import type { Database, LedgerKind } from '../store/schema.js';

export interface LedgerEntry {
  id: number;
  tenantId: string;
  kind: LedgerKind;
  /** Signed: credits positive, usage negative. */
  amountMicros: number;
  ref: string;
  createdAt: number;
}

export interface LedgerPage {
  /** At most this many (1..1000). */
  limit: number;
  /** Only entries older than this id: the last id of the previous page. */
  before?: number;
}

/** Ids grow with every append, so the id alone is a stable cursor even while usage settles. */
export async function listLedgerEntries(db: Kysely<Database>, tenantId: string, page: LedgerPage): Promise<{ entries: LedgerEntry[]; hasMore: boolean }> {
  let query = db.selectFrom('ledger_entries').selectAll().where('tenant_id', '=', tenantId);
  if (page.before !== undefined) query = query.where('id', '<', page.before);
  const rows = await query.orderBy('id', 'desc').limit(page.limit + 1).execute();
  const entries = rows.slice(0, page.limit).map((row) => ({
    id: Number(row.id),
    tenantId: row.tenant_id,
    kind: row.kind,
    amountMicros: Number(row.amount_micros),
    ref: row.ref,
    createdAt: Number(row.created_at),
  }));
  return { entries, hasMore: rows.length > page.limit };
}
