import { describe, expect, it } from 'vitest';
import type { Clock } from '../core/clock.js';
import { formatDuration, RateLimiter, rateLimitHeaders } from './rate-limiter.js';

function fakeClock(): Clock & { advance(ms: number): void } {
  let now = 0;
  return { now: () => now, wallNow: () => new Date(now), advance: (ms) => (now += ms) };
}

describe('RateLimiter', () => {
  it('admits rpm requests in a burst, then refuses with an honest Retry-After, then refills', () => {
    const clock = fakeClock();
    const limiter = new RateLimiter(clock);
    for (let i = 0; i < 3; i++) expect(limiter.admit([{ id: 'k', rpm: 3, tpm: 1000 }], 10).ok).toBe(true);
    const refused = limiter.admit([{ id: 'k', rpm: 3, tpm: 1000 }], 10);
    expect(refused).toMatchObject({ ok: false, exceeded: 'requests', retryAfterMs: 20_000 });
    clock.advance(20_000);
    expect(limiter.admit([{ id: 'k', rpm: 3, tpm: 1000 }], 10).ok).toBe(true);
  });

  it('charges the token estimate, then corrects it with the actual usage', () => {
    const clock = fakeClock();
    const limiter = new RateLimiter(clock);
    const first = limiter.admit([{ id: 'k', rpm: 100, tpm: 1000 }], 800);
    expect(first.ok && first.tokens.remaining).toBe(200);
    const refused = limiter.admit([{ id: 'k', rpm: 100, tpm: 1000 }], 500);
    expect(refused).toMatchObject({ ok: false, exceeded: 'tokens', retryAfterMs: 18_000 });
    if (first.ok) first.settle(100);
    const second = limiter.admit([{ id: 'k', rpm: 100, tpm: 1000 }], 500);
    expect(second.ok && second.tokens.remaining).toBe(400);
  });

  it('keeps keys apart', () => {
    const limiter = new RateLimiter(fakeClock());
    expect(limiter.admit([{ id: 'a', rpm: 1, tpm: 100 }], 1).ok).toBe(true);
    expect(limiter.admit([{ id: 'a', rpm: 1, tpm: 100 }], 1).ok).toBe(false);
    expect(limiter.admit([{ id: 'b', rpm: 1, tpm: 100 }], 1).ok).toBe(true);
  });

  it('admits on every bucket or on none: a key and its endpoint', () => {
    const limiter = new RateLimiter(fakeClock());
    const key = { id: 'key', rpm: 10, tpm: 1000 };
    const endpoint = { id: 'ep', rpm: 1, tpm: 1000 };
    expect(limiter.admit([key, endpoint], 10).ok).toBe(true);
    expect(limiter.admit([key, endpoint], 10)).toMatchObject({ ok: false, exceeded: 'requests' });
    // The refusal took nothing from the key: 9 more requests still fit on it alone.
    for (let i = 0; i < 9; i++) expect(limiter.admit([key], 10).ok).toBe(true);
    expect(limiter.admit([key], 10).ok).toBe(false);
  });

  it('writes OpenAI-style headers', () => {
    expect(formatDuration(120)).toBe('120ms');
    expect(formatDuration(360_000)).toBe('6m0s');
    expect(rateLimitHeaders({ limit: 60, remaining: 59, resetMs: 1000 }, { limit: 1000, remaining: 10, resetMs: 59_400 })).toEqual({
      'x-ratelimit-limit-requests': '60',
      'x-ratelimit-remaining-requests': '59',
      'x-ratelimit-reset-requests': '1s',
      'x-ratelimit-limit-tokens': '1000',
      'x-ratelimit-remaining-tokens': '10',
      'x-ratelimit-reset-tokens': '1m0s',
    });
  });
});
