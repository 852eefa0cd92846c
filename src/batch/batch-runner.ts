/**
 * Runs batches. Each gateway has one runner; a batch is run by the gateway holding its
 * lease (`batches.owner`, renewed by `heartbeat_at`): a runner takes batches nobody holds
 * or whose holder has not renewed within `leaseMs` (it died), so with several gateways on
 * one database each batch runs on one of them and moves on if that one dies.
 *
 * Lines are handed to the gateway's use cases `concurrency` at a time, taken in turn from
 * each tenant's batches so one tenant's backlog cannot crowd out another's; they wait in
 * the scheduler's `batch` tier, which starts them only on capacity interactive traffic
 * leaves idle. A line's result is stored as it finishes, so a restart resumes with the
 * lines still pending.
 */
import type { Kysely } from 'kysely';
import type { Clock } from '../core/clock.js';
import { newId } from '../core/ids.js';
import type { GatewayDeps } from '../gateway/request-context.js';
import { operatorTenantId, type Principal } from '../tenancy/access.js';
import type { Database } from '../store/schema.js';
import { runLine, type LineToRun } from './batch-line.js';
import type { BatchStages } from './batch-stages.js';
import { activeStatuses, type BatchRow } from './batches.js';

export interface BatchRunnerOptions {
  /** Lines in flight on this gateway at once (waiting in the scheduler or running). */
  concurrency: number;
  /** A lease not renewed for this long is taken over. */
  leaseMs: number;
  /** How often leases are renewed and new batches (and cancels) looked for. */
  pollMs: number;
  /** How long a line refused for now (busy, limited, loading) waits before it is tried again. */
  retryMs?: number;
}

interface Log {
  warn(object: object, message: string): void;
}

/** A batch this runner holds. */
interface Held {
  row: BatchRow;
  principal: Principal;
  running: Map<number, AbortController>;
  queue: LineToRun[];
  /** Highest line number read from the database so far. */
  cursor: number;
  exhausted: boolean;
  retryAt: number;
  /** A stage (validate, finish, reading lines) is in progress: nothing else starts meanwhile. */
  busy: boolean;
}

const readAhead = 256;

export class BatchRunner {
  readonly owner = newId('runner', 12);
  private readonly held = new Map<string, Held>();
  private timer: NodeJS.Timeout | undefined;
  private maintaining: Promise<void> | undefined;
  private advancing = false;
  private advanceAgain = false;
  private closed = false;
  private lastHeartbeat = 0;
  private turn = 0;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly gateway: GatewayDeps,
    private readonly stages: BatchStages,
    private readonly clock: Clock,
    private readonly options: BatchRunnerOptions,
    private readonly log: Log,
  ) {}

  start(): void {
    if (this.closed) return;
    const loop = () => {
      if (this.closed) return;
      this.maintaining = this.maintain()
        .catch((error: unknown) => this.log.warn({ err: error }, 'batch runner'))
        .finally(() => {
          if (!this.closed) this.timer = setTimeout(loop, this.options.pollMs);
        });
    };
    loop();
  }

  /** Stops taking lines, lets running ones finish for up to graceMs, then stops them and gives the leases back. */
  async close(graceMs: number): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.maintaining;
    while (this.advancing) await sleep(20); // a stage (validating, writing files) finishes first
    const deadline = this.clock.now() + graceMs;
    while (this.runningCount() > 0 && this.clock.now() < deadline) await sleep(50);
    for (const held of this.held.values()) for (const controller of held.running.values()) controller.abort(new Error('gateway shutting down'));
    while (this.runningCount() > 0) await sleep(20);
    await this.db.updateTable('batches').set({ owner: null, heartbeat_at: null }).where('owner', '=', this.owner).execute();
  }

  /** Takes batches free to take, renews the leases held, and notices cancels. */
  private async maintain(): Promise<void> {
    const now = this.clock.wallNow().getTime();
    const stale = now - this.options.leaseMs;
    const rows = await this.db
      .selectFrom('batches')
      .selectAll()
      .where('status', 'in', activeStatuses)
      .where((eb) => eb.or([eb('owner', '=', this.owner), eb('owner', 'is', null), eb('heartbeat_at', '<', stale)]))
      .orderBy('created_at')
      .limit(1000)
      .execute();
    const seen = new Set<string>();
    for (const row of rows) {
      if (row.owner !== this.owner) {
        const taken = await this.db
          .updateTable('batches')
          .set({ owner: this.owner, heartbeat_at: now })
          .where('id', '=', row.id)
          .where((eb) => eb.or([eb('owner', 'is', null), eb('heartbeat_at', '<', stale)]))
          .executeTakeFirst();
        if (Number(taken.numUpdatedRows) === 0) continue;
        row.owner = this.owner;
      }
      seen.add(row.id);
      const held = this.held.get(row.id);
      if (held) held.row = row;
      else this.held.set(row.id, await this.hold(row));
    }
    for (const [id, held] of this.held) {
      if (seen.has(id) || held.busy) continue;
      // Taken over (we were too slow to renew) or ended: stop its lines here.
      for (const controller of held.running.values()) controller.abort(new Error('lease lost'));
      if (held.running.size === 0) this.held.delete(id);
    }
    if (now - this.lastHeartbeat >= this.options.leaseMs / 4) {
      this.lastHeartbeat = now;
      await this.db.updateTable('batches').set({ heartbeat_at: now }).where('owner', '=', this.owner).where('status', 'in', activeStatuses).execute();
    }
    // Not awaited: a long stage (validating a big file) must not hold up the heartbeat.
    void this.advance();
  }

  /** Moves each held batch along its statuses and keeps `concurrency` lines in flight. */
  private async advance(): Promise<void> {
    if (this.advancing) {
      this.advanceAgain = true;
      return;
    }
    this.advancing = true;
    try {
      do {
        this.advanceAgain = false;
        for (const held of this.held.values()) await this.step(held);
        await this.fill();
      } while (this.advanceAgain && !this.closed);
    } catch (error) {
      this.log.warn({ err: error }, 'batch runner');
    } finally {
      this.advancing = false;
    }
  }

  private async step(held: Held): Promise<void> {
    if (held.busy) return;
    const { row } = held;
    const stopping = this.stopReason(held);
    if (stopping !== undefined) {
      for (const controller of held.running.values()) controller.abort(new Error(stopping));
      if (held.running.size > 0) return;
    }
    await this.stage(held, async () => {
      if (row.status === 'validating') {
        await this.stages.validate(row);
        this.forget(held); // read back as in_progress (or failed) on the next pass
      } else if (stopping !== undefined) {
        if (await this.stages.finish(row, stopping)) this.held.delete(row.id);
        else this.forget(held);
      } else if (row.status === 'finalizing' || (held.exhausted && held.queue.length === 0 && held.running.size === 0)) {
        if ((await this.stages.pendingCount(row.id)) > 0) {
          // A line whose result could not be stored is still pending: read the lines again.
          held.cursor = 0;
          held.exhausted = false;
        } else if (await this.stages.finish(row, 'completed')) {
          this.held.delete(row.id);
        } else {
          this.forget(held);
        }
      }
    });
  }

  /** Why the batch must stop running lines, if it must. */
  private stopReason(held: Held): 'cancelled' | 'expired' | undefined {
    if (held.row.status === 'cancelling') return 'cancelled';
    if (held.row.status === 'in_progress' && this.clock.wallNow().getTime() >= Number(held.row.expires_at)) return 'expired';
    return undefined;
  }

  /** Starts lines up to the concurrency, one per tenant in turn, then per batch within the tenant. */
  private async fill(): Promise<void> {
    while (!this.closed && this.runningCount() < this.options.concurrency) {
      const now = this.clock.now();
      const ready = [...this.held.values()].filter(
        (held) => held.row.status === 'in_progress' && !held.busy && held.retryAt <= now && this.stopReason(held) === undefined && (held.queue.length > 0 || !held.exhausted),
      );
      if (ready.length === 0) return;
      const tenants = [...new Set(ready.map((held) => held.row.tenant_id))].sort();
      const tenant = tenants[this.turn++ % tenants.length]!;
      const held = ready.filter((h) => h.row.tenant_id === tenant).sort((a, b) => a.running.size - b.running.size)[0]!;
      if (held.queue.length === 0) {
        await this.stage(held, () => this.readLines(held));
        continue;
      }
      this.startLine(held, held.queue.shift()!);
    }
  }

  private async readLines(held: Held): Promise<void> {
    const rows = await this.db
      .selectFrom('batch_lines')
      .select(['line_no', 'custom_id', 'body'])
      .where('batch_id', '=', held.row.id)
      .where('status', '=', 'pending')
      .where('line_no', '>', held.cursor)
      .orderBy('line_no')
      .limit(readAhead)
      .execute();
    for (const row of rows) {
      if (held.running.has(Number(row.line_no))) continue;
      held.queue.push({ lineNo: Number(row.line_no), customId: row.custom_id, body: row.body });
    }
    if (rows.length > 0) held.cursor = Number(rows.at(-1)!.line_no);
    else held.exhausted = true;
  }

  private startLine(held: Held, line: LineToRun): void {
    const controller = new AbortController();
    held.running.set(line.lineNo, controller);
    void runLine(this.gateway, held.row, held.principal, line, controller.signal)
      .then(async (outcome) => {
        if (outcome.kind === 'done') {
          await this.db
            .updateTable('batch_lines')
            .set({ status: outcome.status, result: outcome.result, finished_at: this.clock.wallNow().getTime() })
            .where('batch_id', '=', held.row.id)
            .where('line_no', '=', line.lineNo)
            .where('status', '=', 'pending')
            .execute();
        } else if (outcome.kind === 'preempted') {
          // Unbilled and not refused: it waits in the batch tier again at once, first of its batch.
          if (!controller.signal.aborted) held.queue.unshift(line);
        } else if (!controller.signal.aborted) {
          held.queue.unshift(line);
          held.retryAt = this.clock.now() + (this.options.retryMs ?? 1000);
        }
      })
      .catch((error: unknown) => this.log.warn({ err: error, batch: held.row.id, line: line.lineNo }, 'a batch line result was not stored'))
      .finally(() => {
        held.running.delete(line.lineNo);
        if (!this.closed) void this.advance();
      });
  }

  private async stage(held: Held, work: () => Promise<void>): Promise<void> {
    held.busy = true;
    try {
      await work();
    } catch (error) {
      this.log.warn({ err: error, batch: held.row.id }, 'batch stage failed; it is tried again');
    } finally {
      held.busy = false;
    }
  }

  /** Drops what this runner knows of a batch (not its lease): the next pass reads it afresh. */
  private forget(held: Held): void {
    if (held.running.size === 0) this.held.delete(held.row.id);
  }

  private async hold(row: BatchRow): Promise<Held> {
    return { row, principal: await this.principalOf(row), running: new Map(), queue: [], cursor: 0, exhausted: false, retryAt: 0, busy: false };
  }

  /**
   * Who pays for the batch's lines: its tenant, through the key that created it (its model
   * scopes and monthly budget). Not its per-minute limits: a batch has its own pace.
   */
  private async principalOf(row: BatchRow): Promise<Principal> {
    if (row.tenant_id === operatorTenantId) {
      return { tenantId: operatorTenantId, keyId: null, operator: true, scopes: [], limits: null, monthlyBudgetMicros: null, tier: 'standard' };
    }
    const key = row.api_key_id === null ? undefined : await this.db.selectFrom('api_keys').selectAll().where('id', '=', row.api_key_id).executeTakeFirst();
    return {
      tenantId: row.tenant_id,
      keyId: key?.id ?? null,
      operator: false,
      scopes: key ? (JSON.parse(key.scopes) as string[]) : [],
      limits: null,
      monthlyBudgetMicros: key?.monthly_budget_micros === null || key === undefined ? null : Number(key.monthly_budget_micros),
      tier: 'standard',
    };
  }

  private runningCount(): number {
    let count = 0;
    for (const held of this.held.values()) count += held.running.size;
    return count;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
