/**
 * Group commit for settlements. The response path queues a settlement and waits for its
 * commit — so a response is never finished before its usage row is durable, and a crash
 * cannot lose a finished request — but the commit is shared: a flush starts on the next
 * turn of the event loop (or after `flushIntervalMs`) and takes everything queued by then,
 * up to `maxBatchRows`, in ONE transaction; what arrives while it runs forms the next
 * batch. A commit (an fsync on PostgreSQL, a WAL append on SQLite) is paid per batch, and
 * the wait adds one commit time to a response at low load.
 *
 * Failure handling: if a batch transaction fails, nothing of it was applied (or, if the
 * commit's fate is unknown, settlement is idempotent by request id), so each row is
 * retried alone; one bad row cannot lose the others. A row that keeps failing after
 * `maxAttempts` flushes is handed to `onFailure` — the caller must keep it (log/dead-letter).
 */
import { checkSettlement, type Settlement, type SettleReport } from './settlement.js';

export interface SettlementSink {
  settleMany(settlements: readonly Settlement[]): Promise<SettleReport>;
}

export interface UsageWriterOptions {
  /** Longest a queued settlement waits for its batch to start, ms (default 0: the next turn of the event loop). */
  flushIntervalMs?: number;
  /** A batch this large is flushed at once (default 500). */
  maxBatchRows?: number;
  /** Flushes a row may fail before it is given up on (default 3). */
  maxAttempts?: number;
  /** Pause after a flush that had to put rows back, ms (default 100): lets a busy or restarting database recover. */
  retryDelayMs?: number;
  /** Called with each row given up on, and the last error. */
  onFailure?: (settlement: Settlement, error: unknown) => void;
  /** Called once per committed row with the ms from its enqueue to its commit (the ledger's write lag). */
  onCommitted?: (lagMs: number) => void;
  /**
   * Longest a batch waits for settlements already announced (`announce()`: requests running
   * now) before it commits without them, ms (default 0: never wait). A batch starts at once
   * when nothing announced is still outstanding, so a lone request never waits.
   */
  gatherMs?: number;
}

/** A settlement to come: the writer may hold a batch briefly for it. Settle or withdraw it once. */
export interface Announced {
  settle(settlement: Settlement): Promise<SettleOutcome>;
  withdraw(): void;
}

export interface UsageWriterStats {
  queued: number;
  settled: number;
  duplicates: number;
  failed: number;
  batches: number;
  /** Batches whose transaction failed and were retried row by row. */
  batchRetries: number;
}

export type SettleOutcome = 'settled' | 'duplicate' | 'failed';

interface Queued {
  settlement: Settlement;
  attempts: number;
  /** performance.now() at enqueue, only when onCommitted listens. */
  at: number;
  done(outcome: SettleOutcome): void;
}

export class UsageWriter {
  private readonly intervalMs: number;
  private readonly maxRows: number;
  private readonly maxAttempts: number;
  private readonly retryDelayMs: number;
  private readonly onFailure: (settlement: Settlement, error: unknown) => void;
  private readonly onCommitted: ((lagMs: number) => void) | undefined;
  private readonly gatherMs: number;
  /** Announced settlements not yet enqueued or withdrawn. */
  private announced = 0;
  private queue: Queued[] = [];
  private timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  /** The pending timer waits for announced settlements (and may be cut short when none are left). */
  private gathering = false;
  private flushing: Promise<void> | undefined;
  private closed = false;
  private readonly counters: UsageWriterStats = { queued: 0, settled: 0, duplicates: 0, failed: 0, batches: 0, batchRetries: 0 };

  constructor(
    private readonly sink: SettlementSink,
    options: UsageWriterOptions = {},
  ) {
    this.intervalMs = options.flushIntervalMs ?? 0;
    this.maxRows = Math.max(1, options.maxBatchRows ?? 500);
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 3);
    this.retryDelayMs = Math.max(0, options.retryDelayMs ?? 100);
    this.onFailure = options.onFailure ?? (() => {});
    this.onCommitted = options.onCommitted;
    this.gatherMs = Math.max(0, options.gatherMs ?? 0);
  }

  /**
   * Says a settlement will come (a request is running): with `gatherMs`, a batch waits up
   * to that long for it, so requests finishing a moment apart share one commit (a SQLite
   * commit writes ~10 WAL pages whether it carries one row or ten). Each response still
   * waits for its own row's commit.
   */
  announce(): Announced {
    this.announced++;
    let open = true;
    const close = () => {
      if (!open) return false;
      open = false;
      this.announced--;
      return true;
    };
    return {
      settle: (settlement) => {
        close();
        return this.enqueue(settlement);
      },
      withdraw: () => {
        // The last one outstanding gave up: a batch waiting for it need not wait any longer.
        if (close() && this.announced === 0 && this.gathering && this.queue.length > 0) this.startSoon();
      },
    };
  }

  /**
   * Queues one settlement. The promise resolves once its batch has committed (or the row
   * was given up on: 'failed'); it never rejects. Throws at once only for a malformed
   * settlement or after close().
   */
  enqueue(settlement: Settlement): Promise<SettleOutcome> {
    if (this.closed) throw new Error('UsageWriter is closed');
    checkSettlement(settlement);
    const at = this.onCommitted === undefined ? 0 : performance.now();
    const committed = new Promise<SettleOutcome>((done) => this.queue.push({ settlement, attempts: 0, at, done }));
    this.counters.queued++;
    this.schedule();
    return committed;
  }

  /** Settlements waiting to be written. */
  get pending(): number {
    return this.queue.length;
  }

  get stats(): Readonly<UsageWriterStats> {
    return { ...this.counters };
  }

  /** Writes everything queued so far (and anything queued meanwhile) before resolving. */
  async flush(): Promise<void> {
    this.clearTimer();
    while (this.flushing !== undefined || this.queue.length > 0) {
      if (this.flushing === undefined) this.startFlush();
      await this.flushing;
    }
  }

  /** Stops accepting settlements and drains the queue: call on shutdown. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  private schedule(): void {
    if (this.flushing !== undefined) return; // the running flush reschedules when done
    if (this.queue.length >= this.maxRows) {
      this.clearTimer();
      this.startFlush();
    } else if (this.timer === undefined) {
      if (this.gatherMs > 0 && this.announced > 0) {
        this.gathering = true;
        this.timer = setTimeout(this.start, Math.max(this.gatherMs, this.intervalMs));
      } else {
        this.timer = this.intervalMs > 0 ? setTimeout(this.start, this.intervalMs) : setImmediate(this.start);
      }
    } else if (this.gathering && this.announced === 0) {
      // Everything announced has arrived: commit now rather than at the end of the wait.
      this.startSoon();
    }
  }

  private readonly start = (): void => {
    this.timer = undefined;
    this.gathering = false;
    if (this.flushing === undefined) this.startFlush();
  };

  /** Replaces a gathering wait by the next turn of the event loop (or the configured interval). */
  private startSoon(): void {
    if (this.flushing !== undefined) return;
    this.clearTimer();
    this.schedule();
  }

  private clearTimer(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer as NodeJS.Timeout);
      clearImmediate(this.timer as NodeJS.Immediate);
    }
    this.timer = undefined;
    this.gathering = false;
  }

  private startFlush(): void {
    this.flushing = this.drainOnce().finally(() => {
      this.flushing = undefined;
      if (this.queue.length > 0) this.schedule();
    });
  }

  /** Writes one batch. Never rejects: every row ends settled, requeued or reported. */
  private async drainOnce(): Promise<void> {
    const batch = this.queue.splice(0, this.maxRows);
    if (batch.length === 0) return;
    this.counters.batches++;
    try {
      this.count(await this.sink.settleMany(batch.map((q) => q.settlement)), batch);
      return;
    } catch {
      this.counters.batchRetries++;
    }
    const retry: Queued[] = [];
    for (const item of batch) {
      try {
        this.count(await this.sink.settleMany([item.settlement]), [item]);
      } catch (error) {
        item.attempts++;
        if (item.attempts >= this.maxAttempts) {
          this.counters.failed++;
          this.report(item.settlement, error);
          item.done('failed');
        } else {
          retry.push(item);
        }
      }
    }
    // Put transient failures back at the front; the next flush tries them again.
    if (retry.length > 0) {
      this.queue.unshift(...retry);
      await new Promise((resolve) => setTimeout(resolve, this.retryDelayMs));
    }
  }

  private count(report: SettleReport, items: readonly Queued[]): void {
    this.counters.settled += report.settled.length;
    this.counters.duplicates += report.duplicates.length;
    const duplicates = report.duplicates.length === 0 ? undefined : new Set(report.duplicates);
    for (const item of items) item.done(duplicates?.has(item.settlement.requestId) ? 'duplicate' : 'settled');
    if (this.onCommitted !== undefined) {
      const now = performance.now();
      for (const item of items) this.onCommitted(now - item.at);
    }
  }

  private report(settlement: Settlement, error: unknown): void {
    try {
      this.onFailure(settlement, error);
    } catch {
      // A throwing callback must not stop the writer; the failure is still counted.
    }
  }
}
