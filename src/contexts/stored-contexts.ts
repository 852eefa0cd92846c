/**
 * Ark-style cached contexts (issue 11 item 4): a tenant's prefix of chat messages kept for
 * `ttl` seconds after its last use, and the storage charge for holding it. Every read names
 * the tenant, so another tenant's id is indistinguishable from a missing one.
 *
 * Storage is charged per span held, as usage rows `ctxstore_{id}_{seq}` (no tokens, the
 * cost only) through the same settlement path as requests, so `skylark ledger verify` covers
 * them. A span is charged when the context is used (before its tokens change or its TTL
 * resets), when it expires (up to `expires_at`, not to when the expiry was noticed) and
 * when it is deleted. Rounding is down with the fraction carried (pricing.storageChargeMicros).
 * Each span is claimed first by a compare-and-set on `storage_seq`, then settled under that
 * number: two gateways accruing at once never charge one span twice; a crash between the
 * claim and the settlement loses that span's charge (in the tenant's favour), never doubles it.
 */
import type { Kysely, Selectable, Updateable } from 'kysely';
import { randomString } from '../core/ids.js';
import { zeroUsage } from '../core/usage.js';
import type { PriceCatalog } from '../billing/price-catalog.js';
import { storageChargeMicros } from '../billing/pricing.js';
import type { Settlement } from '../billing/settlement.js';
import type { ContextMode, ContextsTable, ContextStatus, Database } from '../store/schema.js';
import type { ContextTurn, TruncationStrategy } from './truncation.js';

export type JsonObject = Record<string, unknown>;

export interface StoredContext {
  id: string;
  tenantId: string;
  apiKeyId: string | null;
  model: string;
  modelId: string;
  endpointId: string | null;
  mode: ContextMode;
  status: ContextStatus;
  /** OpenAI-shaped chat messages, oldest first. */
  messages: JsonObject[];
  tokens: number;
  /** Session mode: how the history is kept short (null: it grows). */
  truncation: TruncationStrategy | null;
  /** The turns after the creation's messages, oldest first (the last `Σ messages` messages). */
  turns: ContextTurn[];
  ttlSeconds: number;
  /** Epoch ms. */
  createdAt: number;
  lastUsedAt: number;
  expiresAt: number;
  freedAt: number | null;
  accruedAt: number;
  storageRemainder: number;
  storageChargedMicros: number;
  storageSeq: number;
}

/** What a creation supplies; the rest (id, status, times, storage accounting) the store sets. */
export type NewContext = Pick<
  StoredContext,
  'tenantId' | 'apiKeyId' | 'model' | 'modelId' | 'endpointId' | 'mode' | 'messages' | 'tokens' | 'ttlSeconds' | 'truncation'
>;

/** Where storage charges go: the UsageWriter's enqueue (resolves once committed). */
export type SettleStorage = (settlement: Settlement) => Promise<unknown>;

/** Ark's `ctx-…` form: a UTC timestamp and random base36, like ep-… endpoints. */
export function contextId(at: Date): string {
  const stamp = at.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return `ctx-${stamp}-${randomString(10, '0123456789abcdefghijklmnopqrstuvwxyz')}`;
}

export class StoredContexts {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly prices: PriceCatalog,
    private readonly settle: SettleStorage,
    /** Wall-clock epoch ms (injectable for tests). */
    readonly now: () => number = Date.now,
  ) {}

  async create(input: NewContext): Promise<StoredContext> {
    const now = this.now();
    const row: Selectable<ContextsTable> = {
      id: contextId(new Date(now)),
      tenant_id: input.tenantId,
      api_key_id: input.apiKeyId,
      model: input.model,
      model_id: input.modelId,
      endpoint_id: input.endpointId,
      mode: input.mode,
      status: 'active',
      messages: JSON.stringify(input.messages),
      tokens: input.tokens,
      ttl_s: input.ttlSeconds,
      created_at: now,
      last_used_at: now,
      expires_at: now + input.ttlSeconds * 1000,
      freed_at: null,
      accrued_at: now,
      storage_remainder: 0,
      storage_charged_micros: 0,
      storage_seq: 0,
      truncation: input.truncation === null ? null : JSON.stringify(input.truncation),
      turns: '[]',
    };
    await this.db.insertInto('contexts').values(row).execute();
    return fromRow(row);
  }

  /**
   * The tenant's context in whatever state, an active one past its TTL expired (and charged)
   * first. Undefined when there is none of this tenant's (`null`: any tenant's, for the operator's CLI).
   */
  async get(tenantId: string | null, id: string): Promise<StoredContext | undefined> {
    let query = this.db.selectFrom('contexts').selectAll().where('id', '=', id);
    if (tenantId !== null) query = query.where('tenant_id', '=', tenantId);
    const row = await query.executeTakeFirst();
    if (row === undefined) return undefined;
    const context = fromRow(row);
    if (context.status === 'active' && context.expiresAt <= this.now()) return this.free(context, 'expired');
    return context;
  }

  /** Active contexts, newest first; `after` is the last id of the previous page. */
  async list(tenantId: string, limit: number, after?: string): Promise<{ data: StoredContext[]; hasMore: boolean } | undefined> {
    const now = this.now();
    let query = this.db
      .selectFrom('contexts')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('status', '=', 'active')
      .where('expires_at', '>', now)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit + 1);
    if (after !== undefined) {
      const cursor = await this.db.selectFrom('contexts').select(['created_at', 'id']).where('id', '=', after).where('tenant_id', '=', tenantId).executeTakeFirst();
      if (cursor === undefined) return undefined;
      query = query.where((eb) =>
        eb.or([eb('created_at', '<', cursor.created_at), eb.and([eb('created_at', '=', cursor.created_at), eb('id', '<', cursor.id)])]),
      );
    }
    const rows = await query.execute();
    return { data: rows.slice(0, limit).map(fromRow), hasMore: rows.length > limit };
  }

  /** The operator's view: every tenant's contexts (active by default), newest first. */
  async listAll(filter: { tenantId?: string; status?: ContextStatus; limit: number }): Promise<StoredContext[]> {
    await this.sweep();
    let query = this.db
      .selectFrom('contexts')
      .selectAll()
      .where('status', '=', filter.status ?? 'active')
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(filter.limit);
    if (filter.tenantId !== undefined) query = query.where('tenant_id', '=', filter.tenantId);
    return (await query.execute()).map(fromRow);
  }

  /**
   * A use: charges the span held so far, resets the TTL from now, and (session mode) puts
   * the grown conversation in place. Returns the context as it now is, or undefined when it
   * was freed meanwhile.
   */
  use(context: StoredContext, change: { messages?: JsonObject[]; tokens?: number; turns?: ContextTurn[] } = {}): Promise<StoredContext | undefined> {
    const now = this.now();
    return this.accrue(context, now, (fresh) => fresh.expiresAt <= now ? undefined : ({
      last_used_at: now,
      expires_at: now + fresh.ttlSeconds * 1000,
      ...(change.messages === undefined ? {} : { messages: JSON.stringify(change.messages) }),
      ...(change.tokens === undefined ? {} : { tokens: change.tokens }),
      ...(change.turns === undefined ? {} : { turns: JSON.stringify(change.turns) }),
    }));
  }

  /** Frees a context: charges it up to now (or its expiry, if earlier) and empties it. */
  async free(context: StoredContext, status: 'expired' | 'deleted'): Promise<StoredContext> {
    const freed = await this.accrue(context, undefined, (fresh, end) => ({
      // Past its TTL it is expired whatever the caller meant: the delete came too late.
      status: fresh.expiresAt <= end ? 'expired' : status,
      freed_at: end,
      messages: '[]',
      turns: '[]',
    }));
    return freed ?? (await this.reread(context))!;
  }

  /** Expires (and charges) up to `limit` active contexts past their TTL; returns how many. */
  async sweep(limit = 100): Promise<number> {
    const rows = await this.db
      .selectFrom('contexts')
      .selectAll()
      .where('status', '=', 'active')
      .where('expires_at', '<=', this.now())
      .orderBy('expires_at')
      .limit(limit)
      .execute();
    for (const row of rows) await this.free(fromRow(row), 'expired');
    return rows.length;
  }

  /**
   * Charges the span from `accrued_at` to `until` (default: now, but never past the expiry)
   * and applies `next` in the same compare-and-set. Retries on a lost race with the row as
   * the winner left it. Undefined when the context is no longer active.
   */
  private async accrue(
    context: StoredContext,
    until: number | undefined,
    /** The row's other changes; undefined stops (the use came after the expiry). */
    next: (fresh: StoredContext, end: number) => Updateable<ContextsTable> | undefined,
  ): Promise<StoredContext | undefined> {
    let fresh: StoredContext | undefined = context;
    for (let attempt = 0; attempt < 20 && fresh !== undefined && fresh.status === 'active'; attempt++) {
      const end = Math.max(fresh.accruedAt, Math.min(until ?? this.now(), fresh.expiresAt));
      const price = await this.prices.priceAt(fresh.modelId, end);
      const rate = price?.contextStoragePerMHourMicros ?? 0;
      const charge = storageChargeMicros(fresh.tokens, end - fresh.accruedAt, rate, fresh.storageRemainder);
      const changes = next(fresh, end);
      if (changes === undefined) return undefined;
      const claimed = await this.db
        .updateTable('contexts')
        .set({
          ...changes,
          accrued_at: end,
          storage_remainder: charge.remainder,
          storage_charged_micros: fresh.storageChargedMicros + charge.micros,
          storage_seq: fresh.storageSeq + 1,
        })
        .where('id', '=', fresh.id)
        .where('status', '=', 'active')
        .where('storage_seq', '=', fresh.storageSeq)
        .executeTakeFirst();
      if (Number(claimed.numUpdatedRows) === 1) {
        if (charge.micros > 0) {
          await this.settle({
            requestId: `ctxstore_${fresh.id}_${fresh.storageSeq}`,
            tenantId: fresh.tenantId,
            apiKeyId: fresh.apiKeyId,
            endpointId: fresh.endpointId,
            modelId: fresh.modelId,
            usage: { ...zeroUsage },
            priceId: price?.id ?? null,
            costMicros: charge.micros,
            status: 'ok',
            createdAt: end,
          });
        }
        return this.reread(fresh);
      }
      fresh = await this.reread(fresh);
    }
    return fresh?.status === 'active' ? fresh : undefined;
  }

  private async reread(context: StoredContext): Promise<StoredContext | undefined> {
    const row = await this.db.selectFrom('contexts').selectAll().where('id', '=', context.id).executeTakeFirst();
    return row === undefined ? undefined : fromRow(row);
  }
}

function fromRow(row: Selectable<ContextsTable>): StoredContext {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    apiKeyId: row.api_key_id,
    model: row.model,
    modelId: row.model_id,
    endpointId: row.endpoint_id,
    mode: row.mode,
    status: row.status,
    messages: JSON.parse(row.messages) as JsonObject[],
    tokens: Number(row.tokens),
    truncation: row.truncation === null ? null : (JSON.parse(row.truncation) as TruncationStrategy),
    turns: JSON.parse(row.turns) as ContextTurn[],
    ttlSeconds: Number(row.ttl_s),
    createdAt: Number(row.created_at),
    lastUsedAt: Number(row.last_used_at),
    expiresAt: Number(row.expires_at),
    freedAt: row.freed_at === null ? null : Number(row.freed_at),
    accruedAt: Number(row.accrued_at),
    storageRemainder: Number(row.storage_remainder),
    storageChargedMicros: Number(row.storage_charged_micros),
    storageSeq: Number(row.storage_seq),
  };
}
