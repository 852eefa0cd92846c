/**
 * Group commit for settlements. The response path only queues (no I/O, no await); a
 * background flush writes up to `maxBatchRows` settlements in ONE transaction every
 * `flushIntervalMs`, so a commit (an fsync on PostgreSQL, a WAL append on SQLite) is paid
 * per batch instead of per request.
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
  /** Longest a queued settlement waits for its batch, ms (default 20). */
  flushIntervalMs?: number;
  /** A batch this large is flushed at once (default 500). */
  maxBatchRows?: number;
  /** Flushes a row may fail before it is given up on (default 3). */
  maxAttempts?: number;
  /** Pause after a flush that had to put rows back, ms (default 100): lets a busy or restarting database recover. */
  retryDelayMs?: number;
  /** Called with each row given up on, and the last error. */
  onFailure?: (settlement: Settlement, error: unknown) => void;
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

interface Queued {
  settlement: Settlement;
  attempts: number;
}

export class UsageWriter {
  private readonly intervalMs: number;
  private readonly maxRows: number;
  private readonly maxAttempts: number;
  private readonly retryDelayMs: number;
  private readonly onFailure: (settlement: Settlement, error: unknown) => void;
  private queue: Queued[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private closed = false;
  private readonly counters: UsageWriterStats = { queued: 0, settled: 0, duplicates: 0, failed: 0, batches: 0, batchRetries: 0 };

  constructor(
    private readonly sink: SettlementSink,
    options: UsageWriterOptions = {},
  ) {
    this.intervalMs = options.flushIntervalMs ?? 20;
    this.maxRows = Math.max(1, options.maxBatchRows ?? 500);
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 3);
    this.retryDelayMs = Math.max(0, options.retryDelayMs ?? 100);
    this.onFailure = options.onFailure ?? (() => {});
  }

  /** Queues one settlement; returns at once. Throws only for a malformed settlement or after close(). */
  enqueue(settlement: Settlement): void {
    if (this.closed) throw new Error('UsageWriter is closed');
    checkSettlement(settlement);
    this.queue.push({ settlement, attempts: 0 });
    this.counters.queued++;
    this.schedule();
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
      this.timer = setTimeout(() => {
        this.timer = undefined;
        if (this.flushing === undefined) this.startFlush();
      }, this.intervalMs);
    }
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
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
      this.count(await this.sink.settleMany(batch.map((q) => q.settlement)));
      return;
    } catch {
      this.counters.batchRetries++;
    }
    const retry: Queued[] = [];
    for (const item of batch) {
      try {
        this.count(await this.sink.settleMany([item.settlement]));
      } catch (error) {
        item.attempts++;
        if (item.attempts >= this.maxAttempts) {
          this.counters.failed++;
          this.report(item.settlement, error);
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

  private count(report: SettleReport): void {
    this.counters.settled += report.settled.length;
    this.counters.duplicates += report.duplicates.length;
  }

  private report(settlement: Settlement, error: unknown): void {
    try {
      this.onFailure(settlement, error);
    } catch {
      // A throwing callback must not stop the writer; the failure is still counted.
    }
  }
}
