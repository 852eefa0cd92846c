/**
 * Prepaid balances. Every change of money is an append to ledger_entries plus the matching
 * move of tenant_balances in the SAME transaction, so the cached balance can always be
 * re-derived (and is, by verify()).
 *
 * A request's money is held before it runs by the gateways (funds.ts: in memory or Redis,
 * no database write per request) and charged here by settle once its usage is known.
 *
 * Every writing transaction here starts with a write: SQLite then takes its write lock up
 * front and waits (busy_timeout) instead of failing when another process holds it.
 */
import type { Kysely } from 'kysely';
import type { Database, LedgerKind } from '../store/schema.js';
import { moveBalance, readBalance, type Balance } from './balances.js';
import { createRedeemCode, redeemCode, type NewRedeemCode, type RedeemResult } from './redeem-codes.js';
import { sqliteConnectionOf } from '../store/database.js';
import { settleBatch, type Settlement, type SettleReport } from './settlement.js';
import { settleOnSqlite } from './sqlite-settlement.js';
import { verifyLedger, type VerifyProblem } from './verify.js';

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
      await moveBalance(trx, tenantId, amountMicros, now);
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

  /** Charges one finished request; idempotent by request id. */
  async settle(settlement: Settlement): Promise<{ settled: boolean }> {
    const report = await this.settleMany([settlement]);
    return { settled: report.settled.length === 1 };
  }

  /** Charges many requests in one transaction (what UsageWriter calls). */
  settleMany(settlements: readonly Settlement[]): Promise<SettleReport> {
    if (settlements.length === 0) return Promise.resolve({ settled: [], duplicates: [] });
    const now = this.now();
    const sqlite = sqliteConnectionOf(this.db);
    if (sqlite !== undefined) return settleOnSqlite(this.db, sqlite, settlements, now);
    return this.db.transaction().execute((trx) => settleBatch(trx, settlements, now));
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
