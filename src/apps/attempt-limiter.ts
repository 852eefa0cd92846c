/**
 * Counts failures per key (IP + username for sign-in, IP for sign-up) in a sliding window.
 * At the limit the key is refused until its oldest failure leaves the window, even with
 * the right password, so guessing costs the attacker real time. In memory: each gateway
 * replica limits on its own, which bounds guesses at limit × replicas per window.
 */
export type AttemptVerdict = { ok: true } | { ok: false; retryAfterMs: number };

export interface AttemptPolicy {
  limit: number;
  windowMs: number;
}

export class AttemptLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly policy: AttemptPolicy,
    private readonly now: () => number = Date.now,
  ) {}

  check(key: string): AttemptVerdict {
    const recent = this.recent(key);
    if (recent.length < this.policy.limit) return { ok: true };
    return { ok: false, retryAfterMs: Math.max(1, recent[0]! + this.policy.windowMs - this.now()) };
  }

  fail(key: string): void {
    const recent = this.recent(key);
    recent.push(this.now());
    this.failures.set(key, recent);
    if (this.failures.size > 50_000) this.prune();
  }

  reset(key: string): void {
    this.failures.delete(key);
  }

  private recent(key: string): number[] {
    const since = this.now() - this.policy.windowMs;
    const times = (this.failures.get(key) ?? []).filter((at) => at > since);
    if (times.length === 0) this.failures.delete(key);
    return times;
  }

  private prune(): void {
    for (const key of [...this.failures.keys()]) this.recent(key);
  }
}
