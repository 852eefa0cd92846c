/**
 * The ledger's self-check. tenant_balances is a cache; the ledger and the usage records are
 * the truth. This recomputes the cache from them, in one consistent snapshot, and lists
 * every tenant where they disagree.
 */
import type { Kysely, Transaction } from 'kysely';
import { dialectOf, toSafeInteger } from '../store/database.js';
import type { Database } from '../store/schema.js';
import { formatMicros } from '../core/money.js';

export interface VerifyProblem {
  tenantId: string;
  /** balance: balance_micros ≠ Σ ledger amounts; usage: Σ usage ledger ≠ −Σ usage_records.cost. */
  check: 'balance' | 'usage';
  /** What the cache (or the usage ledger) says. */
  actual: number;
  /** What the source of truth says. */
  expected: number;
}

const checkNames = {
  balance: 'cached balance ≠ sum of ledger entries',
  usage: 'usage charged in the ledger ≠ sum of usage records',
} as const;

/** One line for an operator: which check failed and by how much, in currency units. */
export function describeProblem(p: VerifyProblem): string {
  return `${checkNames[p.check]}: recorded ${formatMicros(p.actual)}, expected ${formatMicros(p.expected)} (off by ${formatMicros(p.actual - p.expected)})`;
}

type Sums = Map<string, number>;

export async function verifyLedger(db: Kysely<Database>): Promise<VerifyProblem[]> {
  // REPEATABLE READ on PostgreSQL: all four reads see one snapshot even while requests
  // settle. SQLite's read transaction already pins one WAL snapshot.
  const tx = db.transaction();
  const run = dialectOf(db) === 'postgres' ? tx.setIsolationLevel('repeatable read') : tx;
  return run.execute(async (trx) => {
    const balances = await trx.selectFrom('tenant_balances').selectAll().execute();
    const ledger = await sums(trx, 'ledger_entries', 'amount_micros');
    const usageLedger = await sums(trx, 'ledger_entries', 'amount_micros', true);
    const usageCost = await sums(trx, 'usage_records', 'cost_micros');

    const problems: VerifyProblem[] = [];
    const known = new Set<string>();
    for (const b of balances) {
      known.add(b.tenant_id);
      const balance = Number(b.balance_micros);
      const expected = ledger.get(b.tenant_id) ?? 0;
      if (balance !== expected) problems.push({ tenantId: b.tenant_id, check: 'balance', actual: balance, expected });
    }
    // Money in the ledger for a tenant without a balance row is a problem too.
    for (const [tenantId, total] of ledger) {
      if (!known.has(tenantId) && total !== 0) problems.push({ tenantId, check: 'balance', actual: 0, expected: total });
    }
    for (const tenantId of new Set([...usageLedger.keys(), ...usageCost.keys()])) {
      const actual = -(usageLedger.get(tenantId) ?? 0);
      const expected = usageCost.get(tenantId) ?? 0;
      if (actual !== expected) problems.push({ tenantId, check: 'usage', actual, expected });
    }
    return problems.sort((a, b) => a.tenantId.localeCompare(b.tenantId) || a.check.localeCompare(b.check));
  });
}

async function sums(
  trx: Transaction<Database>,
  table: 'ledger_entries' | 'usage_records',
  column: 'amount_micros' | 'cost_micros',
  usageOnly = false,
): Promise<Sums> {
  let query = trx
    .selectFrom(table as 'ledger_entries')
    .select((eb) => ['tenant_id', eb.fn.sum<string | number>(column as 'amount_micros').as('total')])
    .groupBy('tenant_id');
  if (usageOnly) query = query.where('kind', '=', 'usage');
  const rows = await query.execute();
  return new Map(rows.map((r) => [r.tenant_id, toSafeInteger(r.total)]));
}
