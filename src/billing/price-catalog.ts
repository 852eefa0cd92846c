/**
 * Versioned prices. A change of price is a new row with the next version and its own
 * effective time; old rows are never rewritten, so every usage record's price_id keeps
 * pointing at the rates it was charged with.
 */
import type { Kysely, Selectable } from 'kysely';
import type { Currency, Database, PricesTable } from '../store/schema.js';
import { billingId } from '../core/row-ids.js';
import type { Price, PriceTier } from './pricing.js';

export interface NewPrice {
  modelId: string;
  currency: Currency;
  inputPerMMicros: number;
  cachedInputPerMMicros: number;
  outputPerMMicros: number;
  batchDiscountPct?: number;
  tiers?: readonly PriceTier[];
  /** Media rates (default 0): per image unit, per 1M speech characters, per audio minute. */
  imageMicros?: number;
  speechPerMCharsMicros?: number;
  audioPerMinuteMicros?: number;
  /** Context caching's storage rate: micros per 1M tokens per hour (default 0). */
  contextStoragePerMHourMicros?: number;
  /** Epoch ms; default now. A future time schedules the change. */
  effectiveFrom?: number;
}

export class PriceCatalog {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => number = Date.now,
  ) {}

  /** Adds the next version for the model. Concurrent setters each get their own version. */
  async setPrice(input: NewPrice): Promise<Price> {
    validate(input);
    for (let attempt = 0; ; attempt++) {
      const latest = await this.db
        .selectFrom('prices')
        .select((eb) => eb.fn.max('version').as('version'))
        .where('model_id', '=', input.modelId)
        .executeTakeFirst();
      const now = this.now();
      const row: Selectable<PricesTable> = {
        id: billingId('price', 16),
        model_id: input.modelId,
        version: Number(latest?.version ?? 0) + 1,
        currency: input.currency,
        input_per_m_micros: input.inputPerMMicros,
        cached_input_per_m_micros: input.cachedInputPerMMicros,
        output_per_m_micros: input.outputPerMMicros,
        batch_discount_pct: input.batchDiscountPct ?? 0,
        tiers: JSON.stringify(input.tiers ?? []),
        effective_from: input.effectiveFrom ?? now,
        created_at: now,
        image_micros: input.imageMicros ?? 0,
        speech_per_m_chars_micros: input.speechPerMCharsMicros ?? 0,
        audio_per_minute_micros: input.audioPerMinuteMicros ?? 0,
        context_storage_per_m_hour_micros: input.contextStoragePerMHourMicros ?? 0,
      };
      // unique(model_id, version) turns a lost race into a conflict; take the next number.
      const inserted = await this.db
        .insertInto('prices')
        .values(row)
        .onConflict((oc) => oc.columns(['model_id', 'version']).doNothing())
        .executeTakeFirst();
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 1) return toPrice(row);
      if (attempt >= 10) throw new Error(`could not allocate a price version for ${input.modelId}`);
    }
  }

  /** The version in effect at `at` (default now): latest effective_from ≤ at, then highest version. */
  async priceAt(modelId: string, at: number = this.now()): Promise<Price | undefined> {
    const row = await this.db
      .selectFrom('prices')
      .selectAll()
      .where('model_id', '=', modelId)
      .where('effective_from', '<=', at)
      .orderBy('effective_from', 'desc')
      .orderBy('version', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row === undefined ? undefined : toPrice(row);
  }

  async get(id: string): Promise<Price | undefined> {
    const row = await this.db.selectFrom('prices').selectAll().where('id', '=', id).executeTakeFirst();
    return row === undefined ? undefined : toPrice(row);
  }

  /** Every version of one model, oldest first. */
  async versions(modelId: string): Promise<Price[]> {
    const rows = await this.db.selectFrom('prices').selectAll().where('model_id', '=', modelId).orderBy('version').execute();
    return rows.map(toPrice);
  }

  /** The price in effect at `at` for every model that has one, by model id. */
  async list(at: number = this.now()): Promise<Price[]> {
    const rows = await this.db
      .selectFrom('prices')
      .selectAll()
      .where('effective_from', '<=', at)
      .orderBy('model_id')
      .orderBy('effective_from', 'desc')
      .orderBy('version', 'desc')
      .execute();
    const current = new Map<string, Price>();
    for (const row of rows) if (!current.has(row.model_id)) current.set(row.model_id, toPrice(row));
    return [...current.values()];
  }
}

export function toPrice(row: Selectable<PricesTable>): Price {
  return {
    id: row.id,
    modelId: row.model_id,
    version: Number(row.version),
    currency: row.currency,
    inputPerMMicros: Number(row.input_per_m_micros),
    cachedInputPerMMicros: Number(row.cached_input_per_m_micros),
    outputPerMMicros: Number(row.output_per_m_micros),
    batchDiscountPct: Number(row.batch_discount_pct),
    tiers: JSON.parse(row.tiers) as PriceTier[],
    effectiveFrom: Number(row.effective_from),
    createdAt: Number(row.created_at),
    imageMicros: Number(row.image_micros ?? 0),
    speechPerMCharsMicros: Number(row.speech_per_m_chars_micros ?? 0),
    audioPerMinuteMicros: Number(row.audio_per_minute_micros ?? 0),
    contextStoragePerMHourMicros: Number(row.context_storage_per_m_hour_micros ?? 0),
  };
}

function validate(input: NewPrice): void {
  const money = [input.inputPerMMicros, input.cachedInputPerMMicros, input.outputPerMMicros];
  money.push(input.imageMicros ?? 0, input.speechPerMCharsMicros ?? 0, input.audioPerMinuteMicros ?? 0, input.contextStoragePerMHourMicros ?? 0);
  for (const tier of input.tiers ?? []) money.push(tier.input, tier.cachedInput, tier.output);
  if (!money.every((m) => Number.isSafeInteger(m) && m >= 0)) {
    throw new RangeError(`prices of ${input.modelId} must be non-negative integer micros`);
  }
  const pct = input.batchDiscountPct ?? 0;
  if (!Number.isInteger(pct) || pct < 0 || pct > 100) throw new RangeError(`batchDiscountPct must be 0..100, got ${pct}`);
  let previous = 0;
  (input.tiers ?? []).forEach((tier, i, all) => {
    const bound = tier.upToPromptTokens;
    if (bound === null ? i !== all.length - 1 : !Number.isSafeInteger(bound) || bound <= previous) {
      throw new RangeError(`tiers of ${input.modelId} must ascend, with only the last unbounded`);
    }
    previous = bound ?? previous;
  });
}

/** Doubao-like list prices, CNY micros per 1M tokens; context storage per 1M tokens per hour. */
const doubao = {
  pro: { input: 800_000, output: 2_000_000, storage: 17_000 },
  lite: { input: 300_000, output: 600_000, storage: 17_000 },
} as const;

/**
 * Doubao's shape of prompt-length tiers: the list price up to 32K prompt tokens, ×1.5 up
 * to 128K, ×3 beyond; cached input at 20% of input; batch at 50% off.
 */
export function doubaoTiers(base: { input: number; output: number }): PriceTier[] {
  const tier = (upTo: number | null, factorTimes2: number): PriceTier => {
    const input = (base.input * factorTimes2) / 2;
    return { upToPromptTokens: upTo, input, cachedInput: input / 5, output: (base.output * factorTimes2) / 2 };
  };
  return [tier(32_768, 2), tier(131_072, 3), tier(null, 6)];
}

/**
 * Gives every listed model a Doubao-style price unless it already has one, so it is safe
 * to run on every start. Returns the prices it added.
 */
export async function seedDoubaoPrices(
  catalog: PriceCatalog,
  models: { pro?: readonly string[]; lite?: readonly string[] },
  options: { effectiveFrom?: number } = {},
): Promise<Price[]> {
  const added: Price[] = [];
  for (const [kind, ids] of [['pro', models.pro ?? []], ['lite', models.lite ?? []]] as const) {
    for (const modelId of ids) {
      if ((await catalog.versions(modelId)).length > 0) continue;
      const base = doubao[kind];
      const tiers = doubaoTiers(base);
      added.push(
        await catalog.setPrice({
          modelId,
          currency: 'CNY',
          inputPerMMicros: base.input,
          cachedInputPerMMicros: base.input / 5,
          outputPerMMicros: base.output,
          batchDiscountPct: 50,
          tiers,
          contextStoragePerMHourMicros: base.storage,
          effectiveFrom: options.effectiveFrom ?? 0,
        }),
      );
    }
  }
  return added;
}
