/**
 * Per-key request and token rate limits as token buckets (OpenAI's RPM/TPM): a bucket
 * holds up to a minute's allowance and refills continuously. Tokens are charged at
 * admission with an estimate (prompt + max_tokens) and corrected once usage is known.
 * A request may be limited by several buckets at once (its key and its endpoint).
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

/** One limited thing: a key, or an endpoint. Its id names its buckets. */
export interface LimitBucket {
  id: string;
  rpm: number;
  tpm: number;
}

/** In process or shared through Redis; both admit all buckets or none. */
export interface RateLimits {
  admit(buckets: readonly LimitBucket[], estimatedTokens: number): Admission | Promise<Admission>;
}

/** One process's limits. With several replicas, use RedisRateLimits instead. */
export class RateLimiter implements RateLimits {
  private readonly buckets = new Map<string, { requests: Bucket; tokens: Bucket }>();

  constructor(private readonly clock: Clock) {}

  /**
   * Admits the request on every bucket, or on none. The state reported (and sent as
   * x-ratelimit-* headers) is the first bucket's: the key's, as OpenAI reports it.
   */
  admit(limits: readonly LimitBucket[], estimatedTokens: number): Admission {
    const now = this.clock.now();
    const pairs = limits.map((limit) => this.pair(limit, now));
    let refusal: { wait: number; exceeded: 'requests' | 'tokens' } | undefined;
    const charges = pairs.map(({ requests, tokens }) => {
      requests.refill(now);
      tokens.refill(now);
      // A request larger than a whole minute's tokens can never fit: charge what there is.
      const charge = Math.min(estimatedTokens, tokens.capacity);
      const requestWait = requests.waitFor(1);
      const tokenWait = tokens.waitFor(charge);
      const wait = Math.max(requestWait, tokenWait);
      if (wait > 0 && (!refusal || wait > refusal.wait)) {
        refusal = { wait, exceeded: requestWait >= tokenWait ? 'requests' : 'tokens' };
      }
      return charge;
    });
    const first = pairs[0];
    if (!first) return { ok: true, requests: unlimited, tokens: unlimited, settle: () => {} };
    if (refusal) {
      return {
        ok: false,
        retryAfterMs: refusal.wait,
        exceeded: refusal.exceeded,
        requests: first.requests.state(),
        tokens: first.tokens.state(),
      };
    }
    pairs.forEach(({ requests, tokens }, i) => {
      requests.take(1);
      tokens.take(charges[i]!);
    });
    let settled = false;
    return {
      ok: true,
      requests: first.requests.state(),
      tokens: first.tokens.state(),
      settle: (actualTokens) => {
        if (settled) return;
        settled = true;
        const at = this.clock.now();
        pairs.forEach(({ tokens }, i) => {
          tokens.refill(at);
          // Give back what the estimate over-charged (or charge what it missed).
          const difference = charges[i]! - actualTokens;
          if (difference >= 0) tokens.give(difference);
          else tokens.take(-difference);
        });
      },
    };
  }

  private pair(limit: LimitBucket, now: number): { requests: Bucket; tokens: Bucket } {
    let pair = this.buckets.get(limit.id);
    if (!pair || pair.requests.capacity !== limit.rpm || pair.tokens.capacity !== limit.tpm) {
      pair = { requests: new Bucket(limit.rpm, now), tokens: new Bucket(limit.tpm, now) };
      this.buckets.set(limit.id, pair);
    }
    return pair;
  }
}

const unlimited: LimitState = { limit: 0, remaining: 0, resetMs: 0 };

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
