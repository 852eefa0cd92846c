/**
 * Telling waiting requests where they stand (onProgress; SSE comments and GET /v1/queue
 * upstream). Every grant moves the rest of the line up by one, so each watcher hears of
 * every grant, unless it heard less than `progressMinIntervalMs` ago: with many watchers
 * and frequent grants the callbacks are the cost, since each place is an O(1) estimate
 * from its last exact computation (tiers.ts). The ETA told is the paced estimate (eta.ts)
 * blended with the model's delay history, as a range where it has proved uncertain
 * (delay-history.ts); what a request was told on arrival is checked against its wait.
 * With config.forwardEta the forward simulation of grants (forward-eta.ts) is computed
 * too: kept with what was told ('measure') or a third voice of the blend ('blend').
 */
import type { SchedulerConfig } from './config.js';
import { DelayHistory, type Told } from './delay-history.js';
import type { Capacity, WaitEstimator } from './eta.js';
import type { Ahead, ModelQueue } from './tiers.js';
import type { QueuePosition } from './types.js';
import type { Waiting } from './waiting.js';

export class ProgressReporter {
  private readonly histories = new Map<string, DelayHistory>();

  constructor(
    private readonly eta: WaitEstimator,
    private readonly config: SchedulerConfig,
    /** Still waiting: a callback may have cancelled it, or granted it through a re-entrant call. */
    private readonly stillWaiting: (w: Waiting) => boolean,
    /** The forward simulation's ETA for `w` with `ahead` grants before it (forward-eta.ts); undefined when it has none. */
    private readonly forward: (w: Waiting, ahead: number, pacedMs: number, now: number) => number | undefined = () => undefined,
  ) {}

  /** Someone in `queue` was just granted. */
  granted(queue: ModelQueue, capacity: () => Capacity, now: number): void {
    if (queue.watchers.size === 0) return;
    const interval = this.config.progressMinIntervalMs;
    let due: Iterable<Waiting> = queue.watchers;
    if (interval > 0) {
      const some: Waiting[] = [];
      for (const w of queue.watchers) {
        if (now - w.reportedAt < interval) break;
        some.push(w);
      }
      due = some;
    }
    const model = capacity();
    for (const w of due) {
      if (!this.stillWaiting(w)) continue;
      w.callbacks.onProgress?.(this.report(w, queue, queue.estimate(w, this.config.progressExactEvery), model, now));
    }
  }

  /** The place and ETA to tell `w` now, noting that it was told. */
  report(w: Waiting, queue: ModelQueue, position: Ahead, capacity: Capacity, now: number): QueuePosition {
    w.reportedAt = now;
    // Least recently told first, so the scan above stops at the first one not yet due.
    if (this.config.progressMinIntervalMs > 0 && queue.watchers.delete(w)) queue.watchers.add(w);
    const paced = this.eta.forPosition(queue, w.item.tier, position, capacity, now);
    const forwardMs = this.forward(w, position.ahead, paced, now);
    const told = this.history(w.model).tell(w.item.tier, position.ahead + 1, paced, forwardMs, this.config.forwardEta === 'blend');
    if (w.told === undefined) {
      w.told = told;
      w.toldGrants = queue.grantCount;
    }
    const report: QueuePosition = { position: told.position, etaMs: Math.round(told.etaMs) };
    if (told.lowMs !== undefined && told.highMs !== undefined) {
      report.etaLowMs = told.lowMs;
      report.etaHighMs = told.highMs;
    }
    return report;
  }

  /** `w` was granted: what it was told on arrival meets its actual wait. */
  started(w: Waiting, now: number): void {
    if (w.told !== undefined) this.history(w.model).learn(w.item.tier, w.told, now - w.enqueuedAt);
  }

  /** What `w` was told on arrival (the bench compares its parts with the wait). */
  toldOnArrival(w: Waiting): Told | undefined {
    return w.told;
  }

  private history(model: string): DelayHistory {
    let history = this.histories.get(model);
    if (history === undefined) {
      history = new DelayHistory();
      this.histories.set(model, history);
    }
    return history;
  }
}
