import { describe, expect, it } from 'vitest';
import { etaRangeOf, QueueNotice, queueComment } from './queue-notice.js';

describe('queue notices', () => {
  it('writes the point alone, or the point and the range where the scheduler gave one', () => {
    expect(new QueueNotice(3, 4200.4).toComment()).toBe(': queue position=3 eta_ms=4200\n\n');
    expect(new QueueNotice(3, 4200, { lowMs: 2500, highMs: 9000 }).toComment()).toBe(': queue position=3 eta_ms=4200 eta_range_ms=2500-9000\n\n');
    expect(queueComment(1, 0)).toBe(': queue position=1 eta_ms=0\n\n');
  });

  it('takes the range from a scheduler report only when both ends are there', () => {
    expect(etaRangeOf({ etaLowMs: 10, etaHighMs: 900 })).toEqual({ lowMs: 10, highMs: 900 });
    expect(etaRangeOf({})).toBeUndefined();
    expect(etaRangeOf({ etaLowMs: 10 })).toBeUndefined();
  });
});
