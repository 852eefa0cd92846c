/**
 * A forward simulation of KV-gated grants: when will the n-th next grant of a model happen?
 *
 * Fluid estimates (a grant rate, a pace) err even with a perfect order, because grants come
 * in bursts: a replica whose KV is full grants nothing until completions free enough of it,
 * then several requests at once (docs/benchmarks.md, issue 13 item 2). This walks time
 * forward in steps from the present: every running sequence ends in a step with the
 * probability its age leaves it (the learned survival of grant durations, conditional on
 * having run that long), freeing its slot and the KV it holds in expectation; a step that
 * leaves a replica a slot and the mean grant's KV grants there, and what it grants runs
 * and ends the same way. Output lengths are not known to the scheduler, so completions are
 * expected values; the replica's state (how full, how far behind, how old what runs is) is not.
 *
 * Cost: O(cohorts × steps walked), a cohort being the running sequences of one step of
 * age; walked lazily up to the grant asked for, at most `maxSteps` and `maxWork`
 * cohort-steps; a timeline is computed once per scheduler state and shared by every
 * estimate made in it.
 */

/** Durations of completed grants (ms), the last `size` of them, as a survival function on a grid. */
export class DurationSample {
  private readonly ring: number[] = [];
  private next = 0;
  private fresh = 0;
  private grid: Float64Array | undefined;

  constructor(
    readonly stepMs: number,
    private readonly size = 512,
  ) {}

  get count(): number {
    return this.ring.length;
  }

  add(ms: number): void {
    if (!(ms >= 0)) return;
    if (this.ring.length < this.size) this.ring.push(ms);
    else this.ring[this.next] = ms;
    this.next = (this.next + 1) % this.size;
    this.fresh++;
  }

  /**
   * S[k] = share of durations longer than k steps; the last entry is 0. Rebuilt when a
   * sixteenth of the sample is new, so a steady stream of completions costs O(1) each, amortized.
   */
  survival(): Float64Array {
    if (this.grid === undefined || this.fresh * 16 >= this.ring.length) {
      const sorted = [...this.ring].sort((a, b) => a - b);
      const n = sorted.length;
      const cells = n === 0 ? 1 : Math.floor(sorted[n - 1]! / this.stepMs) + 2;
      const grid = new Float64Array(cells);
      let below = 0;
      for (let k = 0; k < cells; k++) {
        while (below < n && sorted[below]! <= k * this.stepMs) below++;
        grid[k] = n === 0 ? 0 : (n - below) / n;
      }
      this.grid = grid;
      this.fresh = 0;
    }
    return this.grid;
  }
}

export interface SimRunning {
  /** ms since it was granted. */
  readonly ageMs: number;
  /** KV it frees when it ends (tokens). */
  readonly kv: number;
  /** Survival grid of its kind of grant (DurationSample.survival), step `stepMs`. */
  readonly survival: Float64Array;
}

export interface SimReplica {
  /** Slots free now (may be negative when the engine holds more than its slots). */
  readonly slotsFree: number;
  /** KV the scheduler may still grant on it now (tokens; may be negative; Infinity when unreported). */
  readonly kvRoom: number;
  readonly running: readonly SimRunning[];
}

export interface GrantSimInput {
  readonly stepMs: number;
  readonly maxSteps: number;
  /** Cohort-steps walked at most (each is O(1)): the horizon in work, whatever the running set's size. */
  readonly maxWork: number;
  readonly replicas: readonly SimReplica[];
  /** KV one grant takes (the mean of recent grants). */
  readonly need: number;
  /** Survival of what is granted in the simulation. */
  readonly survival: Float64Array;
}

/** Sequences granted at the same moment with the same survival: they end together in expectation. */
interface Cohort {
  /** Step index of the grid cell it is in at step 0 (negative: granted −start steps from now). */
  readonly start: number;
  readonly count: number;
  readonly kv: number;
  readonly survival: Float64Array;
  /** Its survival at the step it was known to be running. */
  readonly alive: number;
}

interface State {
  slotsFree: number;
  kvRoom: number;
  readonly cohorts: Cohort[];
}

function cohort(start: number, count: number, kv: number, survival: Float64Array): Cohort {
  const base = Math.max(0, start);
  return { start, count, kv, survival, alive: base < survival.length ? survival[base]! : 0 };
}

/**
 * The running sequences as cohorts: those in the same step of age with the same survival
 * end alike in expectation, and grants come in bursts, so this cuts the work of each step.
 */
function cohorts(running: readonly SimRunning[], stepMs: number): Cohort[] {
  const groups = new Map<Float64Array, Map<number, { count: number; kv: number }>>();
  for (const r of running) {
    let cells = groups.get(r.survival);
    if (cells === undefined) groups.set(r.survival, (cells = new Map()));
    const start = Math.floor(r.ageMs / stepMs);
    const cell = cells.get(start);
    if (cell === undefined) cells.set(start, { count: 1, kv: r.kv });
    else {
      cell.count++;
      cell.kv += r.kv;
    }
  }
  const out: Cohort[] = [];
  for (const [survival, cells] of groups) for (const [start, { count, kv }] of cells) out.push(cohort(start, count, kv, survival));
  return out;
}

/** Share of `c` expected to end during step `j` (from j·step to (j+1)·step after now). */
function endingIn(c: Cohort, j: number): number {
  const index = c.start + j;
  const base = Math.max(0, c.start);
  if (index < base) return 0;
  // Older than every duration measured: it ends now, as far as anything known says.
  if (c.alive <= 0) return index === base ? 1 : 0;
  const s = c.survival;
  const now = index < s.length ? s[index]! : 0;
  const after = index + 1 < s.length ? s[index + 1]! : 0;
  return (now - after) / c.alive;
}

export class GrantTimeline {
  /** ms from now of each simulated grant, ascending. */
  private readonly grants: number[] = [];
  private readonly states: State[];
  private step = 0;
  private work = 0;

  constructor(private readonly input: GrantSimInput) {
    const { stepMs } = input;
    this.states = input.replicas.map((replica) => ({ slotsFree: replica.slotsFree, kvRoom: replica.kvRoom, cohorts: cohorts(replica.running, stepMs) }));
    // Nothing is granted at once: the scheduler has just granted all that fits, so room
    // left now is too small for the request at the head of the line, whatever the mean says.
  }

  /** ms from now until the n-th next grant (1-based); undefined when it is beyond the horizon. */
  grantAt(n: number): number | undefined {
    while (this.grants.length < n && this.advance());
    return this.grants[n - 1];
  }

  /** KV of one simulated grant. */
  get need(): number {
    return this.input.need;
  }

  /** Walks one more step; false at the horizon. */
  private advance(): boolean {
    if (this.step >= this.input.maxSteps || this.work >= this.input.maxWork) return false;
    const j = this.step++;
    for (const state of this.states) {
      this.work += state.cohorts.length;
      for (const c of state.cohorts) {
        const p = endingIn(c, j);
        if (p <= 0) continue;
        state.slotsFree += c.count * p;
        state.kvRoom += c.kv * p;
      }
    }
    this.grantWhatFits(j + 1);
    return true;
  }

  /** Grants at the end of step `j − 1` (time j·step) while a replica has a slot and the KV. */
  private grantWhatFits(j: number): void {
    const { need, survival, stepMs } = this.input;
    for (const state of this.states) {
      let count = 0;
      while (state.slotsFree >= 1 && state.kvRoom >= need) {
        state.slotsFree -= 1;
        state.kvRoom -= need;
        count++;
      }
      if (count === 0) continue;
      for (let i = 0; i < count; i++) this.grants.push(j * stepMs);
      state.cohorts.push(cohort(-j, count, count * need, survival));
    }
    // Replicas are walked one after another: keep the grants in time order (they share j).
  }
}
