/**
 * Prepaid balances. Every change of money is an append to ledger_entries plus the matching
 * move of tenant_balances in the SAME transaction, so the cached balance can always be
 * re-derived (and is, by verify()).
 *
 * Request flow: reserve (hold an estimate before generating) → settle (charge the real
 * cost, end the hold) or release (end the hold, charge nothing). Holds outlive a crash in
 * the reservations table; recoverReservations() ends those of dead gateway instances.
 *
 * Every writing transaction here starts with a write: SQLite then takes its write lock up
 * front and waits (busy_timeout) instead of failing when another process holds it.
 */
import type { Kysely } from 'kysely';
import type { Database, LedgerKind } from '../store/schema.js';
import { moveBalance, readBalance, type Balance } from './balances.js';
import { createRedeemCode, redeemCode, type NewRedeemCode, type RedeemResult } from './redeem-codes.js';
import { settleBatch, type Settlement, type SettleReport } from './settlement.js';
import { verifyLedger, type VerifyProblem } from './verify.js';

export interface ReserveRequest {
  requestId: string;
  tenantId: string;
  apiKeyId?: string | null;
  amountMicros: number;
  /** The gateway instance id, so recovery knows whose holds these are. */
  owner: string;
}

export type ReserveResult =
  | { ok: true; availableMicros: number }
  | {
      ok: false;
      reason: 'insufficient_balance' | 'unknown_tenant' | 'tenant_suspended' | 'duplicate_request';
      availableMicros: number;
    };

/** Thrown inside a transaction to roll it back, caught outside to return a typed result. */
class Refused extends Error {}

export class Ledger {
  constructor(
    readonly db: Kysely<Database>,
    private readonly now: () => number = Date.now,
  ) {}

  /** Credits money paid in. Returns the new balance. */
  async topUp(tenantId: string, amountMicros: number, ref: string): Promise<Balance> {
    if (!(amountMicros > 0)) throw new RangeError('a top-up must be positive');
    return this.post(tenantId, 'topup', amountMicros, ref);
  }

  /** Gives money back (positive). */
  async refund(tenantId: string, amountMicros: number, ref: string): Promise<Balance> {
    if (!(amountMicros > 0)) throw new RangeError('a refund must be positive');
    return this.post(tenantId, 'refund', amountMicros, ref);
  }

  /** An operator's correction, either sign; ref should say why. */
  adjust(tenantId: string, amountMicros: number, ref: string): Promise<Balance> {
    return this.post(tenantId, 'adjustment', amountMicros, ref);
  }

  private async post(tenantId: string, kind: LedgerKind, amountMicros: number, ref: string): Promise<Balance> {
    checkMicros(amountMicros);
    const now = this.now();
    await this.db.transaction().execute(async (trx) => {
      await trx.insertInto('ledger_entries').values({ tenant_id: tenantId, kind, amount_micros: amountMicros, ref, created_at: now }).execute();
      await moveBalance(trx, tenantId, amountMicros, 0, now);
    });
    return (await this.balance(tenantId))!;
  }

  /** Issues a prepaid code; the plaintext is returned once and only its hash is kept. */
  createRedeemCode(input: NewRedeemCode): Promise<{ id: string; code: string }> {
    return createRedeemCode(this.db, input, this.now());
  }

  /** Redeems a gift/prepaid code for a tenant: single use, atomic. */
  redeem(code: string, tenantId: string): Promise<RedeemResult> {
    return redeemCode(this.db, code, tenantId, this.now());
  }

  balance(tenantId: string): Promise<Balance | undefined> {
    return readBalance(this.db, tenantId);
  }

  /**
   * Holds `amountMicros` for a request. Refused (not thrown) when the tenant's available
   * balance is short, unless the tenant is unlimited. A request id can hold only once.
   */
  async reserve(request: ReserveRequest): Promise<ReserveResult> {
    checkMicros(request.amountMicros);
    if (request.amountMicros < 0) throw new RangeError('a reservation cannot be negative');
    // Status and the unlimited flag change rarely and by hand: read outside the transaction.
    const tenant = await this.db.selectFrom('tenants').select(['status', 'unlimited']).where('id', '=', request.tenantId).executeTakeFirst();
    if (tenant === undefined) return { ok: false, reason: 'unknown_tenant', availableMicros: 0 };
    if (tenant.status !== 'active') return { ok: false, reason: 'tenant_suspended', availableMicros: await this.available(request.tenantId) };
    const unlimited = Number(tenant.unlimited) === 1;
    const now = this.now();
    try {
      await this.db.transaction().execute(async (trx) => {
        const held = await trx
          .insertInto('reservations')
          .values({
            id: request.requestId,
            tenant_id: request.tenantId,
            api_key_id: request.apiKeyId ?? null,
            amount_micros: request.amountMicros,
            owner: request.owner,
            created_at: now,
          })
          .onConflict((oc) => oc.column('id').doNothing())
          .executeTakeFirst();
        if (Number(held.numInsertedOrUpdatedRows ?? 0n) !== 1) throw new Refused('duplicate_request');
        // A request already settled must not hold again: settle would skip it as a duplicate
        // and the hold would linger until recovery.
        const settled = await trx.selectFrom('usage_records').select('request_id').where('request_id', '=', request.requestId).executeTakeFirst();
        if (settled !== undefined) throw new Refused('duplicate_request');
        // The check and the increment are one statement: two concurrent reserves cannot
        // both see the same free balance (PG re-checks the WHERE after the row lock).
        let update = trx
          .updateTable('tenant_balances')
          .set((eb) => ({ reserved_micros: eb('reserved_micros', '+', request.amountMicros), updated_at: now }))
          .where('tenant_id', '=', request.tenantId);
        if (!unlimited) {
          update = update.where((eb) => eb(eb('balance_micros', '-', eb.ref('reserved_micros')), '>=', request.amountMicros));
        }
        const result = await update.executeTakeFirst();
        if (Number(result.numUpdatedRows) !== 1) throw new Refused('insufficient_balance');
      });
    } catch (error) {
      if (!(error instanceof Refused)) throw error;
      const reason = error.message as 'duplicate_request' | 'insufficient_balance';
      return { ok: false, reason, availableMicros: await this.available(request.tenantId) };
    }
    return { ok: true, availableMicros: await this.available(request.tenantId) };
  }

  private async available(tenantId: string): Promise<number> {
    return (await this.balance(tenantId))?.availableMicros ?? 0;
  }

  /** Charges one finished request and ends its hold; idempotent by request id. */
  async settle(settlement: Settlement): Promise<{ settled: boolean }> {
    const report = await this.settleMany([settlement]);
    return { settled: report.settled.length === 1 };
  }

  /** Charges many requests in one transaction (what UsageWriter calls). */
  settleMany(settlements: readonly Settlement[]): Promise<SettleReport> {
    if (settlements.length === 0) return Promise.resolve({ settled: [], duplicates: [] });
    const now = this.now();
    return this.db.transaction().execute((trx) => settleBatch(trx, settlements, now));
  }

  /** Ends a hold without charging (request refused or failed before usage). False if none. */
  async release(requestId: string): Promise<boolean> {
    const now = this.now();
    return this.db.transaction().execute(async (trx) => {
      const held = await trx.deleteFrom('reservations').where('id', '=', requestId).returning(['tenant_id', 'amount_micros']).executeTakeFirst();
      if (held === undefined) return false;
      await moveBalance(trx, held.tenant_id, 0, -Number(held.amount_micros), now);
      return true;
    });
  }

  /**
   * Ends the holds left by gateway instances that are gone: every reservation whose owner
   * is not in `liveOwners` (with one replica, pass its own id; with several, all live ids),
   * optionally only those created before `createdBefore`.
   */
  async recoverReservations(
    liveOwners: string | readonly string[] = [],
    options: { createdBefore?: number } = {},
  ): Promise<{ released: number; amountMicros: number }> {
    const keep = typeof liveOwners === 'string' ? [liveOwners] : [...liveOwners];
    const now = this.now();
    return this.db.transaction().execute(async (trx) => {
      let query = trx.deleteFrom('reservations');
      if (keep.length > 0) query = query.where('owner', 'not in', keep);
      if (options.createdBefore !== undefined) query = query.where('created_at', '<', options.createdBefore);
      const released = await query.returning(['tenant_id', 'amount_micros']).execute();
      const perTenant = new Map<string, number>();
      for (const r of released) perTenant.set(r.tenant_id, (perTenant.get(r.tenant_id) ?? 0) + Number(r.amount_micros));
      for (const tenantId of [...perTenant.keys()].sort()) await moveBalance(trx, tenantId, 0, -perTenant.get(tenantId)!, now);
      return { released: released.length, amountMicros: [...perTenant.values()].reduce((a, b) => a + b, 0) };
    });
  }

  /** Tenants whose cached numbers disagree with the ledger; empty = all consistent. */
  verify(): Promise<VerifyProblem[]> {
    return verifyLedger(this.db);
  }
}

function checkMicros(amount: number): void {
  if (!Number.isSafeInteger(amount)) throw new RangeError(`money must be integer micros, got ${amount}`);
}

export type { Balance } from './balances.js';
export type { RedeemResult } from './redeem-codes.js';
export type { Settlement, SettleReport } from './settlement.js';
export type { VerifyProblem } from './verify.js';
