/**
 * What interactive work has held on a replica lately, so that batch work leaves it room
 * to come back: batch is granted only while the slots and KV interactive work held at its
 * recent peak stay free. Interactive demand follows the day slowly but arrives in bursts;
 * batch grants that filled the room of one burst would be preempted (preemption.ts) by the
 * next — their work thrown away — or, without preemption, would make it wait. The peak
 * decays exponentially (time constant `batchReserveDecayMs`), so as interactive traffic
 * falls off towards night the room goes to batch within a few time constants.
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

  /** Room batch work must leave free: the recent peak less what interactive work holds now. */
  reserve(now: number): { slots: number; kv: number } {
    if (this.decayMs <= 0) return { slots: 0, kv: 0 };
    this.decay(now);
    return { slots: Math.max(0, Math.round(this.peakSlots - this.slots)), kv: Math.max(0, this.peakKv - this.kv) };
  }

  private decay(now: number): void {
    if (now <= this.at) return;
    const keep = this.decayMs > 0 ? Math.exp(-(now - this.at) / this.decayMs) : 0;
    this.peakSlots = Math.max(this.slots, this.peakSlots * keep);
    this.peakKv = Math.max(this.kv, this.peakKv * keep);
    this.at = now;
  }
}
