/**
 * Prepaid codes ("充值码"): printed or mailed once, stored only as a sha256 hash, good for
 * exactly one redemption. The single use is a conditional UPDATE — only the transaction
 * that flips redeemed_by from NULL credits the tenant — so two racing redeems cannot both win.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Currency, Database } from '../store/schema.js';
import { billingId } from '../core/row-ids.js';
import { moveBalance, readBalance } from './balances.js';

export type RedeemResult =
  | { ok: true; codeId: string; amountMicros: number; balanceMicros: number }
  | { ok: false; reason: 'not_found' | 'already_redeemed' | 'expired' | 'currency_mismatch' | 'unknown_tenant' };

export interface NewRedeemCode {
  amountMicros: number;
  currency: Currency;
  expiresAt?: number | null;
}

/** Crockford base32: no I, L, O, U, so a code read aloud or retyped survives. */
const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** `SKY-XXXXX-XXXXX-XXXXX-XXXXX`: 100 random bits. */
function newCode(): string {
  const bytes = randomBytes(20);
  const chars = [...bytes].map((b) => alphabet[b & 31]);
  const groups = [0, 5, 10, 15].map((i) => chars.slice(i, i + 5).join(''));
  return `SKY-${groups.join('-')}`;
}

/** Case, spaces and dashes don't matter to the person typing the code. */
export function hashRedeemCode(code: string): string {
  const normalized = code.toUpperCase().replace(/[\s-]/g, '');
  return createHash('sha256').update(normalized).digest('hex');
}

/** Creates a code; the plaintext is returned once and never stored. */
export async function createRedeemCode(
  db: Kysely<Database>,
  input: NewRedeemCode,
  now: number = Date.now(),
): Promise<{ id: string; code: string }> {
  if (!Number.isSafeInteger(input.amountMicros) || input.amountMicros <= 0) {
    throw new RangeError('a redeem code must be worth a positive integer of micros');
  }
  const id = billingId('rc', 16);
  const code = newCode();
  await db
    .insertInto('redeem_codes')
    .values({
      id,
      code_hash: hashRedeemCode(code),
      amount_micros: input.amountMicros,
      currency: input.currency,
      expires_at: input.expiresAt ?? null,
      redeemed_by: null,
      redeemed_at: null,
      created_at: now,
    })
    .execute();
  return { id, code };
}

/** Several codes of one value in one transaction: a batch is printed whole or not at all. */
export async function createRedeemCodes(
  db: Kysely<Database>,
  input: NewRedeemCode,
  count: number,
  now: number = Date.now(),
): Promise<Array<{ id: string; code: string }>> {
  if (!Number.isSafeInteger(count) || count < 1) throw new RangeError('count must be a positive integer');
  return db.transaction().execute(async (trx) => {
    const created: Array<{ id: string; code: string }> = [];
    for (let i = 0; i < count; i++) created.push(await createRedeemCode(trx, input, now));
    return created;
  });
}

export interface RedeemCodeInfo {
  id: string;
  amountMicros: number;
  currency: Currency;
  expiresAt: number | null;
  redeemedBy: string | null;
  redeemedAt: number | null;
  createdAt: number;
}

/** Issued codes, newest first; never the codes themselves, which are not stored. */
export async function listRedeemCodes(db: Kysely<Database>, limit: number): Promise<RedeemCodeInfo[]> {
  const rows = await db.selectFrom('redeem_codes').selectAll().orderBy('created_at', 'desc').orderBy('id').limit(limit).execute();
  const nullable = (v: number | null) => (v === null ? null : Number(v));
  return rows.map((row) => ({
    id: row.id,
    amountMicros: Number(row.amount_micros),
    currency: row.currency,
    expiresAt: nullable(row.expires_at),
    redeemedBy: row.redeemed_by,
    redeemedAt: nullable(row.redeemed_at),
    createdAt: Number(row.created_at),
  }));
}

class NotRedeemed extends Error {}

export async function redeemCode(db: Kysely<Database>, code: string, tenantId: string, now: number): Promise<RedeemResult> {
  const hash = hashRedeemCode(code);
  let credited: { id: string; amount: number } | undefined;
  try {
    await db.transaction().execute(async (trx) => {
      const won = await trx
        .updateTable('redeem_codes')
        .set({ redeemed_by: tenantId, redeemed_at: now })
        .where('code_hash', '=', hash)
        .where('redeemed_by', 'is', null)
        .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
        .where('currency', '=', (eb) => eb.selectFrom('tenants').select('currency').where('id', '=', tenantId))
        .returning(['id', 'amount_micros'])
        .executeTakeFirst();
      if (won === undefined) throw new NotRedeemed();
      credited = { id: won.id, amount: Number(won.amount_micros) };
      await trx
        .insertInto('ledger_entries')
        .values({ tenant_id: tenantId, kind: 'redeem', amount_micros: credited.amount, ref: won.id, created_at: now })
        .execute();
      await moveBalance(trx, tenantId, credited.amount, now);
    });
  } catch (error) {
    if (!(error instanceof NotRedeemed)) throw error;
    return { ok: false, reason: await whyNot(db, hash, tenantId, now) };
  }
  const balance = await readBalance(db, tenantId);
  return { ok: true, codeId: credited!.id, amountMicros: credited!.amount, balanceMicros: balance?.balanceMicros ?? 0 };
}

/** After a refused redeem: which condition failed, for the error message. */
async function whyNot(db: Kysely<Database>, hash: string, tenantId: string, now: number): Promise<Exclude<RedeemResult, { ok: true }>['reason']> {
  const row = await db.selectFrom('redeem_codes').selectAll().where('code_hash', '=', hash).executeTakeFirst();
  if (row === undefined) return 'not_found';
  if (row.redeemed_by !== null) return 'already_redeemed';
  if (row.expires_at !== null && Number(row.expires_at) <= now) return 'expired';
  const tenant = await db.selectFrom('tenants').select('currency').where('id', '=', tenantId).executeTakeFirst();
  return tenant === undefined ? 'unknown_tenant' : 'currency_mismatch';
}
