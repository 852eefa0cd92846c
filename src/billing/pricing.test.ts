import { describe, expect, it } from 'vitest';
import { doubaoTiers } from './price-catalog.js';
import { costMicros, formatMicros, microsFromDecimal, ratesFor, storageChargeMicros, type PriceRates } from './pricing.js';

const pro: PriceRates = {
  inputPerMMicros: 800_000,
  cachedInputPerMMicros: 160_000,
  outputPerMMicros: 2_000_000,
  batchDiscountPct: 50,
  tiers: [],
};

const flat = (inputPerMMicros: number, batchDiscountPct = 50): PriceRates => ({
  inputPerMMicros,
  cachedInputPerMMicros: 0,
  outputPerMMicros: 0,
  batchDiscountPct,
  tiers: [],
});

describe('costMicros', () => {
  it('charges uncached, cached and completion tokens at their own rates', () => {
    // (800·800000 + 200·160000 + 500·2000000) / 1e6 = 640 + 32 + 1000
    expect(costMicros(pro, { promptTokens: 1000, cachedPromptTokens: 200, completionTokens: 500 })).toBe(1672);
  });

  it('applies the batch discount', () => {
    expect(costMicros(pro, { promptTokens: 1000, cachedPromptTokens: 200, completionTokens: 500 }, { batch: true })).toBe(836);
  });

  it('rounds half-up, once per request', () => {
    expect(costMicros(flat(500_000), { promptTokens: 1, cachedPromptTokens: 0, completionTokens: 0 })).toBe(1);
    expect(costMicros(flat(499_999), { promptTokens: 1, cachedPromptTokens: 0, completionTokens: 0 })).toBe(0);
    // 2.6 micros at 50% is 1.3 → 1. Rounding before the discount would give round(1.5) = 2.
    expect(costMicros(flat(2_600_000), { promptTokens: 1, cachedPromptTokens: 0, completionTokens: 0 }, { batch: true })).toBe(1);
    // Fractions of many tokens add up before rounding: 3 × 0.4 = 1.2 → 1, not 3 × round(0.4) = 0.
    expect(costMicros(flat(400_000), { promptTokens: 3, cachedPromptTokens: 0, completionTokens: 0 })).toBe(1);
  });

  it('stays exact past 2^53 in the intermediate product', () => {
    const usage = { promptTokens: 2 ** 31, cachedPromptTokens: 0, completionTokens: 0 };
    expect(costMicros(flat(10_000_000_000, 0), usage)).toBe(21_474_836_480_000);
  });

  it('picks the prompt-length tier, bounds inclusive', () => {
    const tiered: PriceRates = { ...pro, tiers: doubaoTiers({ input: 800_000, output: 2_000_000 }) };
    expect(ratesFor(tiered, 32_768)).toEqual({ input: 800_000, cachedInput: 160_000, output: 2_000_000 });
    expect(costMicros(tiered, { promptTokens: 32_768, cachedPromptTokens: 0, completionTokens: 0 })).toBe(26_214); // 26214.4
    // 40000 · 1.2 + 100 · 3 = 48000 + 300
    expect(costMicros(tiered, { promptTokens: 40_000, cachedPromptTokens: 0, completionTokens: 100 })).toBe(48_300);
    // Beyond 128K: ×3 → 2.4 / 0.48 / 6 per token-million
    expect(costMicros(tiered, { promptTokens: 200_000, cachedPromptTokens: 100_000, completionTokens: 1000 })).toBe(
      240_000 + 48_000 + 6_000,
    );
  });

  it('charges past the last bounded tier at the last tier', () => {
    const capped: PriceRates = { ...pro, tiers: [{ upToPromptTokens: 10, input: 1_000_000, cachedInput: 0, output: 0 }] };
    expect(costMicros(capped, { promptTokens: 20, cachedPromptTokens: 0, completionTokens: 0 })).toBe(20);
  });

  it('refuses impossible usage', () => {
    expect(() => costMicros(pro, { promptTokens: 1, cachedPromptTokens: 2, completionTokens: 0 })).toThrow(RangeError);
    expect(() => costMicros(pro, { promptTokens: -1, cachedPromptTokens: 0, completionTokens: 0 })).toThrow(RangeError);
    expect(() => costMicros(pro, { promptTokens: 1.5, cachedPromptTokens: 0, completionTokens: 0 })).toThrow(RangeError);
  });

  it('is zero for zero tokens', () => {
    expect(costMicros(pro, { promptTokens: 0, cachedPromptTokens: 0, completionTokens: 0 })).toBe(0);
  });
});

describe('micros conversions', () => {
  it('parses decimal currency without floats', () => {
    expect(microsFromDecimal('0.8')).toBe(800_000);
    expect(microsFromDecimal('12.000001')).toBe(12_000_001);
    expect(microsFromDecimal('100')).toBe(100_000_000);
    expect(() => microsFromDecimal('0.0000001')).toThrow(RangeError);
    expect(() => microsFromDecimal('-1')).toThrow(RangeError);
  });

  it('formats micros exactly', () => {
    expect(formatMicros(1672)).toBe('0.001672');
    expect(formatMicros(-12_500_000)).toBe('-12.500000');
    expect(formatMicros(300_000)).toBe('0.300000');
  });
});

describe('media costs', () => {
  const rates: PriceRates = { ...pro, imageMicros: 140_000, speechPerMCharsMicros: 15_000_000, audioPerMinuteMicros: 6_000 };
  const zero = { promptTokens: 0, cachedPromptTokens: 0, completionTokens: 0 };

  it('charges media by their units, never by tokens, and without batch discount', () => {
    expect(costMicros(rates, { ...zero, promptTokens: 1000, media: { kind: 'image', units: 2 } }, { batch: true })).toBe(280_000);
    // 3 chars × 15 per 1M = 45 micros; 1 char = 15.
    expect(costMicros(rates, { ...zero, media: { kind: 'speech_char', units: 3 } })).toBe(45);
    // 1 s of 6000 per minute = 100 micros.
    expect(costMicros(rates, { ...zero, media: { kind: 'audio_second', units: 1 } })).toBe(100);
  });

  it('rounds half-up once, and a model without media rates charges nothing for them', () => {
    const odd: PriceRates = { ...pro, speechPerMCharsMicros: 1_500_000, audioPerMinuteMicros: 90 };
    expect(costMicros(odd, { ...zero, media: { kind: 'speech_char', units: 1 } })).toBe(2); // 1.5 → 2
    expect(costMicros(odd, { ...zero, media: { kind: 'speech_char', units: 333 } })).toBe(500); // 499.5 → 500
    expect(costMicros(odd, { ...zero, media: { kind: 'audio_second', units: 1 } })).toBe(2); // 1.5 → 2
    expect(costMicros(odd, { ...zero, media: { kind: 'audio_second', units: 10 } })).toBe(15);
    expect(costMicros(pro, { ...zero, media: { kind: 'image', units: 5 } })).toBe(0);
    expect(() => costMicros(rates, { ...zero, media: { kind: 'image', units: -1 } })).toThrow(RangeError);
  });
});

describe('storageChargeMicros', () => {
  it('charges tokens × ms × rate / (1M tokens × 1 h), rounded down, with the fraction carried', () => {
    // 2000 tokens for one hour at 17,000 micros per 1M tokens per hour: 34 micros exactly.
    expect(storageChargeMicros(2000, 3_600_000, 17_000)).toEqual({ micros: 34, remainder: 0 });
    // One second of it: 0.00944… micros, all carried.
    const second = storageChargeMicros(2000, 1000, 17_000);
    expect(second).toEqual({ micros: 0, remainder: 2000 * 1000 * 17_000 });
  });

  it('sums over any split of the time held to the floor of the whole, never more', () => {
    let remainder = 0;
    let charged = 0;
    const spans = [1, 999, 12_345, 3_600_000, 7, 86_400_000];
    for (const ms of spans) {
      const step = storageChargeMicros(2048, ms, 17_000, remainder);
      charged += step.micros;
      remainder = step.remainder;
    }
    const total = spans.reduce((sum, ms) => sum + ms, 0);
    expect(charged).toBe(Number((2048n * BigInt(total) * 17_000n) / 3_600_000_000_000n));
  });

  it('stays exact past 2^53 in between and refuses what is not a count', () => {
    // 10M tokens held for the longest TTL at a high rate: the product passes 2^53 on the way.
    expect(storageChargeMicros(10_000_000, 604_800_000, 1_000_000_000).micros).toBe(1_680_000_000_000);
    expect(() => storageChargeMicros(1.5, 1, 1)).toThrow(RangeError);
    expect(() => storageChargeMicros(1, -1, 1)).toThrow(RangeError);
  });
});
