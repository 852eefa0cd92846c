/**
 * Per-key request and token rate limits as token buckets (OpenAI's RPM/TPM): a bucket
 * holds up to a minute's allowance and refills continuously. Tokens are charged at
 * admission with an estimate (prompt + max_tokens) and corrected once usage is known.
 * In-process: with several gateway replicas each enforces its own share until the
 * Redis-backed limiter exists.
 */
import type { Clock } from '../core/clock.js';

export interface LimitState {
  limit: number;
  remaining: number;
  /** Until the bucket is full again. */
  resetMs: number;
}

export type Admission =
  | { ok: true; requests: LimitState; tokens: LimitState; settle(actualTokens: number): void }
  | { ok: false; retryAfterMs: number; exceeded: 'requests' | 'tokens'; requests: LimitState; tokens: LimitState };

class Bucket {
  private level: number;
  private updated: number;

  constructor(
    readonly capacity: number,
    now: number,
  ) {
    this.level = capacity;
    this.updated = now;
  }

  refill(now: number): void {
    const perMs = this.capacity / 60_000;
    this.level = Math.min(this.capacity, this.level + (now - this.updated) * perMs);
    this.updated = now;
  }

  /** How long until `amount` is available (0 if it is now). */
  waitFor(amount: number): number {
    if (this.level >= amount) return 0;
    return Math.ceil(((amount - this.level) * 60_000) / this.capacity);
  }

  take(amount: number): void {
    this.level -= amount;
  }

  give(amount: number): void {
    this.level = Math.min(this.capacity, this.level + amount);
  }

  state(): LimitState {
    return {
      limit: this.capacity,
      remaining: Math.max(0, Math.floor(this.level)),
      resetMs: Math.ceil(((this.capacity - this.level) * 60_000) / this.capacity),
    };
  }
}

export class RateLimiter {
  private readonly buckets = new Map<string, { requests: Bucket; tokens: Bucket }>();

  constructor(private readonly clock: Clock) {}

  admit(key: string, limits: { rpm: number; tpm: number }, estimatedTokens: number): Admission {
    const now = this.clock.now();
    let pair = this.buckets.get(key);
    if (!pair || pair.requests.capacity !== limits.rpm || pair.tokens.capacity !== limits.tpm) {
      pair = { requests: new Bucket(limits.rpm, now), tokens: new Bucket(limits.tpm, now) };
      this.buckets.set(key, pair);
    }
    const { requests, tokens } = pair;
    requests.refill(now);
    tokens.refill(now);
    // A request larger than a whole minute's tokens can never fit: charge what there is.
    const charge = Math.min(estimatedTokens, tokens.capacity);
    const requestWait = requests.waitFor(1);
    const tokenWait = tokens.waitFor(charge);
    if (requestWait > 0 || tokenWait > 0) {
      return {
        ok: false,
        retryAfterMs: Math.max(requestWait, tokenWait),
        exceeded: requestWait >= tokenWait ? 'requests' : 'tokens',
        requests: requests.state(),
        tokens: tokens.state(),
      };
    }
    requests.take(1);
    tokens.take(charge);
    let settled = false;
    return {
      ok: true,
      requests: requests.state(),
      tokens: tokens.state(),
      settle: (actualTokens) => {
        if (settled) return;
        settled = true;
        tokens.refill(this.clock.now());
        // Give back what the estimate over-charged (or charge what it missed).
        const difference = charge - actualTokens;
        if (difference >= 0) tokens.give(difference);
        else tokens.take(-difference);
      },
    };
  }
}

/** OpenAI's `x-ratelimit-*` headers for both buckets. */
export function rateLimitHeaders(requests: LimitState, tokens: LimitState): Record<string, string> {
  return {
    'x-ratelimit-limit-requests': String(requests.limit),
    'x-ratelimit-remaining-requests': String(requests.remaining),
    'x-ratelimit-reset-requests': formatDuration(requests.resetMs),
    'x-ratelimit-limit-tokens': String(tokens.limit),
    'x-ratelimit-remaining-tokens': String(tokens.remaining),
    'x-ratelimit-reset-tokens': formatDuration(tokens.resetMs),
  };
}

/** OpenAI writes resets like "1s", "6m0s", "120ms". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  const seconds = Math.ceil(ms / 1000);
  const minutes = Math.floor(seconds / 60);
  return minutes > 0 ? `${minutes}m${seconds % 60}s` : `${seconds}s`;
}
