/**
 * A per-replica circuit breaker: open after `failures` consecutive failed grants, then,
 * once `cooldownMs` has passed on the injected clock, half-open: exactly one probe goes
 * through; its success closes the breaker, its failure opens it for another cool-down.
 * State changes are read from the clock when asked, so no timer is needed.
 */
export type BreakerState = 'closed' | 'open' | 'half-open';

export class Breaker {
  private consecutiveFailures = 0;
  private openedAt: number | undefined;
  private probing = false;

  constructor(
    private readonly failures: number,
    private readonly cooldownMs: number,
  ) {}

  state(now: number): BreakerState {
    if (this.openedAt === undefined) return 'closed';
    return now >= this.openedAt + this.cooldownMs ? 'half-open' : 'open';
  }

  allows(now: number): boolean {
    const state = this.state(now);
    return state === 'closed' || (state === 'half-open' && !this.probing);
  }

  /** A grant went to this replica; true when it is the half-open probe. */
  granted(now: number): boolean {
    if (this.state(now) !== 'half-open') return false;
    this.probing = true;
    return true;
  }

  succeeded(): void {
    this.consecutiveFailures = 0;
    this.openedAt = undefined;
    this.probing = false;
  }

  failed(now: number): void {
    this.probing = false;
    this.consecutiveFailures++;
    if (this.openedAt !== undefined || this.consecutiveFailures >= this.failures) this.openedAt = now;
  }

  /** The probe went away without an answer (cancelled): another may be sent. */
  probeAbandoned(): void {
    this.probing = false;
  }

  /** When an open breaker lets a probe through; undefined when it is not open. */
  reopensAt(now: number): number | undefined {
    return this.state(now) === 'open' ? this.openedAt! + this.cooldownMs : undefined;
  }
}
