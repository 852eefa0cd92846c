import { describe, expect, it } from 'vitest';
import type { UsageRowObject } from '../../../../src/contracts/admin-responses.js';
import { daily, lastDays, total, totalsBy } from './usage-series.js';

const row = (fields: Partial<UsageRowObject>): UsageRowObject => ({
  requests: 1,
  prompt_tokens: 10,
  cached_tokens: 0,
  completion_tokens: 5,
  cost_micros: 1_000,
  cost: '0.001',
  currency: 'CNY',
  ...fields,
});

describe('usage as charts and tables', () => {
  it('counts whole UTC days back from today, today included', () => {
    const range = lastDays(3, Date.parse('2026-03-01T23:59:00Z'));
    expect(range).toEqual({ start: '2026-02-27', end: '2026-03-01', days: ['2026-02-27', '2026-02-28', '2026-03-01'] });
  });

  it('lays day rows on every day of the range, one series per model, quiet days as zeros', () => {
    const range = lastDays(3, Date.parse('2026-03-01T12:00:00Z'));
    const rows = [
      row({ day: '2026-02-27', model: 'b', cost_micros: 2_500_000 }),
      row({ day: '2026-03-01', model: 'a', cost_micros: 1_000_000, prompt_tokens: 7 }),
      row({ day: '2026-03-01', model: 'b', cost_micros: 500_000 }),
      row({ day: '2025-01-01', model: 'a' }), // outside the range: ignored
    ];
    const series = daily(rows, range);
    expect(series.models).toEqual(['a', 'b']);
    expect(series.costByModel.get('a')).toEqual([0, 0, 1]);
    expect(series.costByModel.get('b')).toEqual([2.5, 0, 0.5]);
    expect(series.promptTokens).toEqual([10, 0, 17]);
    expect(series.requests).toEqual([1, 0, 2]);
  });

  it('sums money in integer micros, most expensive first; the admin key is a null key', () => {
    const rows = [
      row({ api_key_id: 'key_a', cost_micros: 100_001 }),
      row({ api_key_id: 'key_b', cost_micros: 300_000 }),
      row({ api_key_id: 'key_a', cost_micros: 200_002 }),
      row({ api_key_id: null, cost_micros: 0 }),
    ];
    expect(totalsBy(rows, 'api_key_id').map((k) => [k.id, k.costMicros, k.requests])).toEqual([
      ['key_a', 300_003, 2],
      ['key_b', 300_000, 1],
      [null, 0, 1],
    ]);
    expect(total(rows)).toEqual({ requests: 4, promptTokens: 40, cachedTokens: 0, completionTokens: 20, costMicros: 600_003 });
  });
});
