import { describe, expect, it } from 'vitest';
import { allocate } from './economics.js';

const day = 20_000; // a UTC day number
const range = { from: day * 86_400_000, to: (day + 1) * 86_400_000 };
const usage = (modelId: string, replicaId: string, promptTokens: number, completionTokens: number, revenueMicros: number) => ({
  day, modelId, replicaId, requests: 1, promptTokens, cachedTokens: 0, completionTokens, revenueMicros,
});

describe('economics allocation', () => {
  it('charges a replica its whole day and shares it between models by work (output weighs 2)', () => {
    const costs = { currency: 'CNY', perHourMicros: { a: 1_000_000, idle: 500_000 } };
    const { data, idle } = allocate(
      [usage('pro', 'a', 1_000_000, 500_000, 30_000_000), usage('lite', 'a', 2_000_000, 0, 1_000_000)],
      costs,
      range,
      range.to + 1,
    );
    // Replica a: ¥24 for the day; work: pro 1M + 2×0.5M = 2M, lite 2M → ¥12 each.
    const pro = data.find((row) => row.model === 'pro')!;
    const lite = data.find((row) => row.model === 'lite')!;
    expect([pro.cost_micros, lite.cost_micros]).toEqual([12_000_000, 12_000_000]);
    expect(pro.margin_micros).toBe(18_000_000);
    expect(pro.margin_bps).toBe(6_000);
    // pro: half its work was input (¥6 over 1M tokens), half output (¥6 over 0.5M tokens).
    expect(pro.cost_per_m_input_micros).toBe(6_000_000);
    expect(pro.cost_per_m_output_micros).toBe(12_000_000);
    expect(lite.cost_per_m_output_micros).toBeNull();
    // The replica that served nothing cost ¥12 for the day, idle.
    expect(idle).toEqual([{ day: new Date(range.from).toISOString().slice(0, 10), cost_micros: 12_000_000 }]);
  });

  it('charges today only the hours gone so far', () => {
    const { idle } = allocate([], { currency: 'CNY', perHourMicros: { a: 1_000_000 } }, range, range.from + 6 * 3_600_000);
    expect(idle[0]!.cost_micros).toBe(6_000_000);
  });
});
