/**
 * tenant_balances: the cached sum of a tenant's ledger, moved only inside ledger
 * transactions. `reserved_micros` is what the database itself holds for running requests:
 * always 0 since holds moved to the gateways (funds.ts; migration 005 released the last).
 */
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';

export interface Balance {
  tenantId: string;
  balanceMicros: number;
  reservedMicros: number;
  /** balance − reserved: what a new request may still hold. */
  availableMicros: number;
}

export async function readBalance(db: Kysely<Database>, tenantId: string): Promise<Balance | undefined> {
  const row = await db.selectFrom('tenant_balances').selectAll().where('tenant_id', '=', tenantId).executeTakeFirst();
  if (row === undefined) return undefined;
  const balanceMicros = Number(row.balance_micros);
  const reservedMicros = Number(row.reserved_micros);
  return { tenantId, balanceMicros, reservedMicros, availableMicros: balanceMicros - reservedMicros };
}

/** Adds `delta` to a tenant's cached balance; throws if the tenant has no balance row. */
export async function moveBalance(trx: Kysely<Database>, tenantId: string, delta: number, now: number): Promise<void> {
  const result = await trx
    .updateTable('tenant_balances')
    .set((eb) => ({ balance_micros: eb('balance_micros', '+', delta), updated_at: now }))
    .where('tenant_id', '=', tenantId)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) !== 1) throw new Error(`tenant ${tenantId} has no balance row`);
}
