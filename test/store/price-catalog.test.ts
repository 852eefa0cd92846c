import { describe, expect, it } from 'vitest';
import { PriceCatalog, seedDoubaoPrices } from '../../src/billing/price-catalog.js';
import { costMicros } from '../../src/billing/pricing.js';
import { dialects, useStore } from './dialects.js';

describe.each(dialects)('price catalog on $name', (dialect) => {
  const store = useStore(dialect);

  it('adds versions without rewriting old rows, and answers the price at a time', async () => {
    const catalog = new PriceCatalog(store().db);
    const v1 = await catalog.setPrice({
      modelId: 'm-versions',
      currency: 'CNY',
      inputPerMMicros: 800_000,
      cachedInputPerMMicros: 160_000,
      outputPerMMicros: 2_000_000,
      batchDiscountPct: 50,
      effectiveFrom: 1_000,
    });
    const v2 = await catalog.setPrice({
      modelId: 'm-versions',
      currency: 'CNY',
      inputPerMMicros: 600_000,
      cachedInputPerMMicros: 120_000,
      outputPerMMicros: 1_500_000,
      effectiveFrom: 5_000,
    });
    expect([v1.version, v2.version]).toEqual([1, 2]);
    expect(await catalog.get(v1.id)).toEqual(v1); // untouched by v2
    expect(await catalog.priceAt('m-versions', 999)).toBeUndefined();
    expect((await catalog.priceAt('m-versions', 1_000))?.id).toBe(v1.id);
    expect((await catalog.priceAt('m-versions', 4_999))?.id).toBe(v1.id);
    expect((await catalog.priceAt('m-versions', 5_000))?.id).toBe(v2.id);
    expect((await catalog.versions('m-versions')).map((p) => p.version)).toEqual([1, 2]);
  });

  it('keeps media rates (default 0) and prices media usage by them', async () => {
    const catalog = new PriceCatalog(store().db);
    const tokensOnly = await catalog.setPrice({ modelId: 'm-media', currency: 'CNY', inputPerMMicros: 1, cachedInputPerMMicros: 0, outputPerMMicros: 1 });
    expect(tokensOnly).toMatchObject({ imageMicros: 0, speechPerMCharsMicros: 0, audioPerMinuteMicros: 0 });
    const media = await catalog.setPrice({
      modelId: 'm-media', currency: 'CNY', inputPerMMicros: 0, cachedInputPerMMicros: 0, outputPerMMicros: 0,
      imageMicros: 140_000, speechPerMCharsMicros: 105_000_000, audioPerMinuteMicros: 42_000,
    });
    const stored = (await catalog.get(media.id))!;
    expect(stored).toEqual(media);
    const zero = { promptTokens: 0, cachedPromptTokens: 0, completionTokens: 0 };
    expect(costMicros(stored, { ...zero, media: { kind: 'image', units: 3 } })).toBe(420_000);
    expect(costMicros(stored, { ...zero, media: { kind: 'speech_char', units: 15 } })).toBe(1_575);
    expect(costMicros(stored, { ...zero, media: { kind: 'audio_second', units: 8 } })).toBe(5_600);
    await expect(catalog.setPrice({ modelId: 'm-media', currency: 'CNY', inputPerMMicros: 0, cachedInputPerMMicros: 0, outputPerMMicros: 0, imageMicros: -1 })).rejects.toThrow(RangeError);
  });

  it('gives concurrent setters distinct versions', async () => {
    const catalog = new PriceCatalog(store().db);
    const set = (input: number) =>
      catalog.setPrice({ modelId: 'm-race', currency: 'USD', inputPerMMicros: input, cachedInputPerMMicros: 0, outputPerMMicros: 0 });
    const prices = await Promise.all([1, 2, 3, 4, 5].map(set));
    expect(prices.map((p) => p.version).sort()).toEqual([1, 2, 3, 4, 5]);
  });

  it('refuses fractional money and disordered tiers', async () => {
    const catalog = new PriceCatalog(store().db);
    const base = { modelId: 'm-bad', currency: 'CNY' as const, cachedInputPerMMicros: 0, outputPerMMicros: 0 };
    await expect(catalog.setPrice({ ...base, inputPerMMicros: 0.5 })).rejects.toThrow(RangeError);
    await expect(
      catalog.setPrice({
        ...base,
        inputPerMMicros: 1,
        tiers: [
          { upToPromptTokens: 100, input: 1, cachedInput: 1, output: 1 },
          { upToPromptTokens: 50, input: 1, cachedInput: 1, output: 1 },
        ],
      }),
    ).rejects.toThrow(RangeError);
  });

  it('seeds Doubao-style prices once, with tiers that round-trip', async () => {
    const catalog = new PriceCatalog(store().db);
    const added = await seedDoubaoPrices(catalog, { pro: ['seed-pro'], lite: ['seed-lite'] });
    expect(added.map((p) => p.modelId)).toEqual(['seed-pro', 'seed-lite']);
    expect(await seedDoubaoPrices(catalog, { pro: ['seed-pro'], lite: ['seed-lite'] })).toEqual([]);

    const pro = (await catalog.priceAt('seed-pro'))!;
    expect(pro).toMatchObject({ inputPerMMicros: 800_000, cachedInputPerMMicros: 160_000, outputPerMMicros: 2_000_000, batchDiscountPct: 50 });
    expect(costMicros(pro, { promptTokens: 1000, cachedPromptTokens: 200, completionTokens: 500 })).toBe(1672);
    expect(costMicros(pro, { promptTokens: 40_000, cachedPromptTokens: 0, completionTokens: 100 })).toBe(48_300);

    const lite = (await catalog.priceAt('seed-lite'))!;
    expect(lite).toMatchObject({ inputPerMMicros: 300_000, cachedInputPerMMicros: 60_000, outputPerMMicros: 600_000 });
    expect(costMicros(lite, { promptTokens: 1000, cachedPromptTokens: 0, completionTokens: 1000 }, { batch: true })).toBe(450);

    const listed = await catalog.list();
    expect(listed.map((p) => p.modelId)).toEqual(expect.arrayContaining(['seed-lite', 'seed-pro']));
  });
});
