/**
 * How fast a backlogged queue advances, observed at its grants: a tier through its own
 * service (cost granted), or a tier's fair order through its water level (the least
 * backlogged VTC counter). Under VTC and weighted shares what a queue does next depends on
 * who else competes, including requests not yet arrived, lighter tenants lifted ahead and
 * aged requests; a snapshot of the line cannot see them, the observed pace can.
 *
 * Gaps are bursty (several grants at one instant, then a pause; batch gets nothing for a
 * while, then a flood of idle slots), so the pace is a ratio of decayed sums, time over
 * progress, not a mean of per-gap ratios, which skews low. Two horizons are kept: the
 * recent one for targets a few grants away, the long one for targets far off, blended by
 * how far the target is compared with the progress the recent horizon covers.
 */
const horizons = [32, 512] as const;

class DecayedRatio {
  time = 0;
  progress = 0;
  private readonly keep: number;

  constructor(horizon: number) {
    this.keep = 1 - 1 / horizon;
  }

  add(time: number, progress: number): void {
    this.time = this.time * this.keep + time;
    this.progress = this.progress * this.keep + progress;
  }
}

export class Pace {
  private lastAt = 0;
  private last = 0;
  private readonly recent = new DecayedRatio(horizons[0]);
  private readonly long = new DecayedRatio(horizons[1]);
  /** Backlogged since the last grant, so the gap to the next one measures the pace. */
  private backlogged = false;

  /** The queue went from empty to waiting: the gap since its last grant included idle time. */
  resumed(): void {
    this.backlogged = false;
  }

  /** A grant at `position` (the queue's progress measure at that grant). */
  advanced(now: number, position: number, stillBacklogged: boolean): void {
    if (this.backlogged) {
      const progress = Math.max(0, position - this.last);
      this.recent.add(now - this.lastAt, progress);
      this.long.add(now - this.lastAt, progress);
      // A refund can move a counter back; progress already counted is not counted twice.
      this.last = Math.max(this.last, position);
    } else {
      this.last = position;
    }
    this.lastAt = now;
    this.backlogged = stillBacklogged;
  }

  /**
   * How long until the queue, at its observed pace, reaches `target` (0 when it has no pace
   * now). Counted from now, not from the last grant: a share's grants come as a random
   * process, and the time since the last one says little about when the next comes.
   */
  eta(target: number): number {
    if (!this.backlogged || this.recent.progress <= 0) return 0;
    const distance = target - this.last;
    const far = Math.min(1, distance / this.recent.progress);
    const msPerUnit = (1 - far) * (this.recent.time / this.recent.progress) + far * (this.long.time / this.long.progress);
    return Math.max(0, distance * msPerUnit);
  }
}
