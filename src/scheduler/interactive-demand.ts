/**
 * How much of a replica interactive work has used at its recent peak, which is as loaded
 * as batch work may make the replica. A step of a batched engine takes longer the more
 * sequences (and KV) it carries, so a replica that batch fills to the brim serves
 * interactive requests slower than they were ever served alone: interactive latency is
 * set by the busiest hours, and batch that never loads a replica beyond what interactive
 * traffic itself reached then leaves that latency as it was, while it fills the quiet hours
 * (bench:sched --batch). The peak decays exponentially (time constant
 * `batchPeakDecayMs`), so it follows a day without remembering an exceptional one for
 * ever; until there is one, batch may fill `batchLoadFloor` of the replica.
 */
export class InteractiveDemand {
  /** Interactive grants outstanding now, and the KV the scheduler counted for them. */
  slots = 0;
  kv = 0;
  private peakSlots = 0;
  private peakKv = 0;
  private at = 0;

  constructor(private readonly decayMs: number) {}

  add(kv: number, now: number): void {
    this.decay(now);
    this.slots++;
    this.kv += kv;
    this.peakSlots = Math.max(this.peakSlots, this.slots);
    this.peakKv = Math.max(this.peakKv, this.kv);
  }

  remove(kv: number, now: number): void {
    this.decay(now);
    this.slots--;
    this.kv -= kv;
  }

  /** The recent peak: slots and KV tokens. */
  peak(now: number): { slots: number; kv: number } {
    this.decay(now);
    return { slots: this.peakSlots, kv: this.peakKv };
  }

  private decay(now: number): void {
    if (now <= this.at) return;
    const keep = this.decayMs > 0 ? Math.exp(-(now - this.at) / this.decayMs) : 0;
    this.peakSlots = Math.max(this.slots, this.peakSlots * keep);
    this.peakKv = Math.max(this.kv, this.peakKv * keep);
    this.at = now;
  }
}
