/**
 * What one request costs. Integer micros in, integer micros out, BigInt in between:
 * tokens × rate can pass 2^53 for long prompts at high rates, and a float would
 * round differently on different replicas. Rounding happens once, at the end.
 */
import type { MediaUnits, Usage } from '../core/usage.js';
import type { Currency } from '../store/schema.js';

/** One prompt-length tier: applies while promptTokens ≤ upToPromptTokens (null = no upper bound). */
export interface PriceTier {
  upToPromptTokens: number | null;
  /** Micros per 1,000,000 tokens. */
  input: number;
  cachedInput: number;
  output: number;
}

/** The rates of a price row; all `…PerMMicros` are micros per 1,000,000 tokens. */
export interface PriceRates {
  inputPerMMicros: number;
  cachedInputPerMMicros: number;
  outputPerMMicros: number;
  /** Percent taken off batch requests (50 = half price). */
  batchDiscountPct: number;
  /** Ascending by upToPromptTokens; empty = the flat rates above apply to every length. */
  tiers: readonly PriceTier[];
  /** Micros per image unit (one standard-quality image of up to 1024×1024; see images.ts); 0 or absent = free. */
  imageMicros?: number;
  /** Micros per 1,000,000 input characters of speech synthesis. */
  speechPerMCharsMicros?: number;
  /** Micros per minute of transcribed audio (charged by the second). */
  audioPerMinuteMicros?: number;
  /** Context caching: micros per 1,000,000 tokens held for one hour (see storageChargeMicros). */
  contextStoragePerMHourMicros?: number;
}

/** A price version as stored in the catalog. */
export interface Price extends PriceRates {
  id: string;
  modelId: string;
  version: number;
  currency: Currency;
  /** Epoch ms from which this version applies. */
  effectiveFrom: number;
  createdAt: number;
}

export interface CostOptions {
  batch?: boolean;
}

const PER = 1_000_000n;

/** The rates that apply to a prompt of this length. */
export function ratesFor(price: PriceRates, promptTokens: number): { input: number; cachedInput: number; output: number } {
  if (price.tiers.length === 0) {
    return { input: price.inputPerMMicros, cachedInput: price.cachedInputPerMMicros, output: price.outputPerMMicros };
  }
  const tier =
    price.tiers.find((t) => t.upToPromptTokens === null || promptTokens <= t.upToPromptTokens) ??
    // Longer than the last bounded tier: charge the highest tier rather than nothing.
    price.tiers[price.tiers.length - 1]!;
  return { input: tier.input, cachedInput: tier.cachedInput, output: tier.output };
}

/**
 * cost = ((prompt − cached)·input + cached·cachedInput + completion·output) / 1e6,
 * times (100 − batchDiscountPct)/100 for batch requests, rounded half-up once.
 */
export function costMicros(price: PriceRates, usage: Usage, options: CostOptions = {}): number {
  if (usage.media !== undefined) return mediaCostMicros(price, usage.media);
  const prompt = checkCount('promptTokens', usage.promptTokens);
  const cached = checkCount('cachedPromptTokens', usage.cachedPromptTokens);
  const completion = checkCount('completionTokens', usage.completionTokens);
  if (cached > prompt) throw new RangeError(`cachedPromptTokens ${cached} > promptTokens ${prompt}`);
  const rates = ratesFor(price, prompt);
  const raw =
    BigInt(prompt - cached) * BigInt(rates.input) +
    BigInt(cached) * BigInt(rates.cachedInput) +
    BigInt(completion) * BigInt(rates.output);
  const discount = options.batch === true ? BigInt(price.batchDiscountPct) : 0n;
  const numerator = raw * (100n - discount);
  const denominator = PER * 100n;
  // Half-up on a non-negative numerator: floor((n + d/2) / d); d is even, so d/2 is exact.
  const cost = (numerator + denominator / 2n) / denominator;
  if (cost > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`cost ${cost} micros exceeds 2^53`);
  return Number(cost);
}

/**
 * A media request's cost: units × the unit's rate, the rate divided by what it is quoted
 * per (1 image; 1M characters; 60 seconds), rounded half-up once. No batch discount.
 */
export function mediaCostMicros(price: PriceRates, media: MediaUnits): number {
  const units = BigInt(checkCount('media.units', media.units));
  const [rate, per] =
    media.kind === 'image'
      ? [price.imageMicros ?? 0, 1n]
      : media.kind === 'speech_char'
        ? [price.speechPerMCharsMicros ?? 0, PER]
        : [price.audioPerMinuteMicros ?? 0, 60n];
  const cost = per === 1n ? units * BigInt(rate) : (units * BigInt(rate) * 2n + per) / (per * 2n);
  if (cost > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`cost ${cost} micros exceeds 2^53`);
  return Number(cost);
}

/** Tokens × ms of one micro's worth at a rate of 1 micro per 1M tokens per hour. */
const TOKEN_MS_PER_RATE_MICRO = 1_000_000n * 3_600_000n;

/**
 * The storage charge of a context held for a span: tokens × ms × rate / (1e6 tokens × 3.6e6
 * ms), rounded DOWN, with the fraction carried: `remainder` is the numerator left over by
 * the previous span (< 3.6e12), and the one returned goes to the next. Summed over any
 * split of the holding time, the charges equal floor(Σ tokens × ms × rate / 3.6e12): no
 * rounding accumulates, and what is dropped at the end is less than one micro.
 */
export function storageChargeMicros(
  tokens: number,
  heldMs: number,
  ratePerMHourMicros: number,
  remainder = 0,
): { micros: number; remainder: number } {
  checkCount('tokens', tokens);
  checkCount('heldMs', heldMs);
  checkCount('ratePerMHourMicros', ratePerMHourMicros);
  checkCount('remainder', remainder);
  const numerator = BigInt(tokens) * BigInt(heldMs) * BigInt(ratePerMHourMicros) + BigInt(remainder);
  const micros = numerator / TOKEN_MS_PER_RATE_MICRO;
  if (micros > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`storage charge ${micros} micros exceeds 2^53`);
  return { micros: Number(micros), remainder: Number(numerator % TOKEN_MS_PER_RATE_MICRO) };
}

function checkCount(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${name} must be a non-negative integer, got ${value}`);
  return value;
}

/**
 * The cached-input rate when none is given: 20%, like Doubao's cache-hit price; rounded
 * because a fifth of a micro is not money.
 */
export function defaultCachedInputMicros(inputPerMMicros: number): number {
  return Math.round(inputPerMMicros / 5);
}

// Moved to core so contracts (request validation) can use them; re-exported for billing's callers.
export { formatMicros, microsFromDecimal } from '../core/money.js';
