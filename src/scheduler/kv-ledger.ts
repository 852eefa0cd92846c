/**
 * What a replica's KV cache holds, as well as the scheduler can tell. Two lower bounds,
 * and the larger is used:
 *  - the engine's report plus what was granted in the last `settleMs`, which the engine
 *    has not admitted yet (it sees new requests at its next step). This counts how far
 *    running sequences have really grown, long outputs included.
 *  - a ledger of the outstanding grants: every distinct prompt segment they reference
 *    once (requests sharing a system prompt share its blocks, as the engine's prefix cache
 *    makes them) plus each one's expected output. This counts what waits in the engine's
 *    queue, which no report shows; it undercounts the long generations that dominate
 *    what is running at any moment.
 * Dispatching against the report alone overfills the engine: the overflow waits in its
 * queue, where no tier or fair share applies, or gets preempted.
 */
import type { PrefixSegment } from './types.js';

export class KvLedger {
  /** Segments referenced by outstanding grants: hash → tokens and references. */
  private readonly segments = new Map<string, { tokens: number; refs: number }>();
  committed = 0;
  private readonly recent: Array<{ at: number; tokens: number }> = [];
  private recentTokens = 0;

  constructor(private readonly settleMs: number) {}

  /** KV in use by the lower bounds above, given the engine's report. */
  used(reported: number, now: number): number {
    while (this.recent.length > 0 && this.recent[0]!.at + this.settleMs <= now) this.recentTokens -= this.recent.shift()!.tokens;
    return Math.max(reported + this.recentTokens, this.committed);
  }

  /** When the oldest recent grant stops counting on top of the report. */
  settlesAt(): number | undefined {
    return this.recent.length > 0 ? this.recent[0]!.at + this.settleMs : undefined;
  }

  /** KV a new grant would add: its segments not referenced yet, plus its output. */
  need(prefix: readonly PrefixSegment[], output: number): number {
    let tokens = output;
    for (const segment of prefix) if (!this.segments.has(segment.hash)) tokens += segment.tokens;
    return tokens;
  }

  /** A grant; `reportedAt` when the replica reports KV, so the report will lag it. */
  add(prefix: readonly PrefixSegment[], output: number, reportedAt?: number): void {
    if (reportedAt !== undefined) {
      const tokens = this.need(prefix, output);
      this.recent.push({ at: reportedAt, tokens });
      this.recentTokens += tokens;
    }
    this.committed += output;
    for (const segment of prefix) {
      const held = this.segments.get(segment.hash);
      if (held !== undefined) held.refs++;
      else {
        this.segments.set(segment.hash, { tokens: segment.tokens, refs: 1 });
        this.committed += segment.tokens;
      }
    }
  }

  remove(prefix: readonly PrefixSegment[], output: number): void {
    this.committed -= output;
    for (const segment of prefix) {
      const held = this.segments.get(segment.hash);
      if (held === undefined) continue;
      if (--held.refs === 0) {
        this.segments.delete(segment.hash);
        this.committed -= held.tokens;
      }
    }
  }
}
