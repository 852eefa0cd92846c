/**
 * Over-admission: requests a replica was given beyond its slots (they wait inside the
 * engine, or push others out of KV), read from the simulated replicas themselves. The
 * most at any moment of the run, and the share of replica-time spent over (in the
 * measurement window, averaged over the replicas).
 */
import type { SimReplica } from '../../src/engines/sim/index.js';

export class OverAdmission {
  /** Most requests beyond its slots any replica held at once. */
  maxOver = 0;
  private overMs = 0;

  constructor(
    private readonly sims: readonly SimReplica[],
    private readonly fromMs: number,
    private readonly toMs: number,
  ) {}

  /** A replica was just given a request. */
  granted(index: number): void {
    const sim = this.sims[index]!;
    this.maxOver = Math.max(this.maxOver, sim.load().busy - sim.slots);
  }

  /** Virtual time moves from `from` to `to` with the replicas as they are now. */
  advance(from: number, to: number): void {
    const span = Math.min(to, this.toMs) - Math.max(from, this.fromMs);
    if (!(span > 0)) return;
    for (const sim of this.sims) if (sim.load().busy > sim.slots) this.overMs += span;
  }

  /** Fraction of replica-time over its slots in the window. */
  timeShare(): number {
    const window = this.toMs - this.fromMs;
    return window <= 0 ? 0 : this.overMs / (window * this.sims.length);
  }
}
