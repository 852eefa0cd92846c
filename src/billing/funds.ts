/**
 * Holds on money without a database write per request.
 *
 * An account is anything with a spending ceiling: a tenant's prepaid balance, or a key's
 * monthly budget. What the database says may be spent (the balance, or budget minus this
 * month's usage) is read at most once a second per account; between reads the account
 * tracks, in memory or in Redis, two counters:
 *   held  — the maximum cost of requests running now (per gateway, so a dead gateway's
 *           holds can be dropped);
 *   spent — the actual cost of requests whose usage row has COMMITTED since the counter
 *           was created; it only grows.
 * available = snapshot − (spent now − spent when the snapshot was taken) − held.
 *
 * Why it never over-admits: `spent` is read before the database, and a request's hold
 * ends (and its cost joins `spent`) only after its usage row commits. A commit that lands
 * between the two reads is counted twice (once in the snapshot, once in `spent`), which
 * only under-states what is available until the next read — the safe side.
 */
import type { Clock } from '../core/clock.js';

export interface FundsBackend {
  /**
   * Atomically: if every account can cover `amount`, hold it on all of them for `owner`.
   * Returns the index of the first account that cannot, or -1 when held.
   */
  hold(owner: string, accounts: readonly SnapshotAccount[], amount: number): Promise<number>;
  /** Ends a hold: held −= heldAmount, spent += spentAmount, on every account. */
  finish(owner: string, accountIds: readonly string[], heldAmount: number, spentAmount: number): Promise<void>;
  /** The `spent` counters, in order. */
  spent(accountIds: readonly string[]): Promise<number[]>;
  /** What every gateway holds on the account now. */
  held(accountId: string): Promise<number>;
}

export interface SnapshotAccount {
  id: string;
  /** What the database said may be spent, when the snapshot was read. */
  base: number;
  /** The account's `spent` counter just before that read. */
  spentAtSnapshot: number;
}

/** An account to hold against, and how to read its ceiling from the database. */
export interface FundsAccount {
  id: string;
  readCeiling(): Promise<number>;
}

export interface FundsHold {
  /** Call once the request's usage row has committed (spent = its cost), or with 0 if none was written. */
  finish(spentMicros: number): Promise<void>;
}

export class Funds {
  private readonly snapshots = new Map<string, { taken: number; expires: number; account: Promise<SnapshotAccount> }>();

  constructor(
    private readonly backend: FundsBackend,
    private readonly owner: string,
    private readonly clock: Clock,
    private readonly snapshotTtlMs = 1000,
  ) {}

  private async tryHold(accounts: readonly FundsAccount[], amount: number): Promise<number> {
    const snapshots = await Promise.all(accounts.map((account) => this.snapshot(account)));
    return this.backend.hold(this.owner, snapshots, amount);
  }

  /** Holds `amount` on every account, or returns the index of the one that cannot cover it. */
  async hold(accounts: readonly FundsAccount[], amount: number): Promise<{ ok: true; hold: FundsHold } | { ok: false; refusedBy: number }> {
    const started = this.clock.now();
    let refusedBy = await this.tryHold(accounts, amount);
    // A refusal may come from a stale snapshot (a top-up just landed): look again. Refusals
    // are the rare path, and RPM limits bound how often a key can take it.
    if (refusedBy >= 0) {
      const refused = this.snapshots.get(accounts[refusedBy]!.id);
      if (refused && refused.taken < started) {
        this.snapshots.delete(accounts[refusedBy]!.id);
        refusedBy = await this.tryHold(accounts, amount);
      }
    }
    if (refusedBy >= 0) return { ok: false, refusedBy };
    const ids = accounts.map((account) => account.id);
    let finished = false;
    return {
      ok: true,
      hold: {
        finish: async (spentMicros) => {
          if (finished) return;
          finished = true;
          await this.backend.finish(this.owner, ids, amount, spentMicros);
        },
      },
    };
  }

  /** What is held on the account now, by every gateway sharing the backend. */
  held(accountId: string): Promise<number> {
    return this.backend.held(accountId);
  }

  /** Forget cached snapshots (after a top-up this process made, say). */
  invalidate(accountId?: string): void {
    if (accountId === undefined) this.snapshots.clear();
    else this.snapshots.delete(accountId);
  }

  private snapshot(account: FundsAccount): Promise<SnapshotAccount> {
    const now = this.clock.now();
    const cached = this.snapshots.get(account.id);
    if (cached && cached.expires > now) return cached.account;
    const read = (async () => {
      const [spentAtSnapshot] = await this.backend.spent([account.id]);
      const base = await account.readCeiling();
      return { id: account.id, base, spentAtSnapshot: spentAtSnapshot ?? 0 };
    })();
    this.snapshots.set(account.id, { taken: now, expires: now + this.snapshotTtlMs, account: read });
    if (this.snapshots.size > 100_000) this.snapshots.clear();
    read.catch(() => this.snapshots.delete(account.id)); // a failed read is not cached
    return read;
  }
}

/** One process: the counters live here. */
export class MemoryFundsBackend implements FundsBackend {
  private readonly accounts = new Map<string, { held: number; spent: number }>();

  async hold(_owner: string, accounts: readonly SnapshotAccount[], amount: number): Promise<number> {
    for (let i = 0; i < accounts.length; i++) {
      const snapshot = accounts[i]!;
      const state = this.state(snapshot.id);
      const available = snapshot.base - (state.spent - snapshot.spentAtSnapshot) - state.held;
      if (available < amount) return i;
    }
    for (const snapshot of accounts) this.state(snapshot.id).held += amount;
    return -1;
  }

  async finish(_owner: string, accountIds: readonly string[], heldAmount: number, spentAmount: number): Promise<void> {
    for (const id of accountIds) {
      const state = this.state(id);
      state.held -= heldAmount;
      state.spent += spentAmount;
    }
  }

  async spent(accountIds: readonly string[]): Promise<number[]> {
    return accountIds.map((id) => this.state(id).spent);
  }

  async held(accountId: string): Promise<number> {
    return this.accounts.get(accountId)?.held ?? 0;
  }

  private state(id: string): { held: number; spent: number } {
    let state = this.accounts.get(id);
    if (!state) this.accounts.set(id, (state = { held: 0, spent: 0 }));
    return state;
  }
}
