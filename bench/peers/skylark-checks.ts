/**
 * After the paid-path rows: the books must still balance (`skylark ledger verify`) and every
 * request the load generator sent must have left one usage row, no more.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3';

export interface UsageCheck {
  /** Requests answered 2xx, and requests written (answered or cut off at the end of a row). */
  answered: number;
  sent: number;
  rows: number;
  byStatus: Record<string, number>;
  /** answered ≤ rows ≤ sent: a request cut off when a row's time ran out may or may not have reached the gateway. */
  ok: boolean;
}

export interface LedgerCheck {
  ok: boolean;
  tenants: number;
  problems: unknown[];
}

/** Usage rows in the gateway's SQLite store (read after the gateway stopped and flushed). */
export function checkUsageRows(dataDir: string, answered: number, sent: number): UsageCheck {
  const db = new Database(join(dataDir, 'skylark.db'), { readonly: true, fileMustExist: true });
  try {
    const counted = db.prepare('select status, count(*) as n from usage_records group by status').all() as { status: string; n: number }[];
    const byStatus = Object.fromEntries(counted.map(({ status, n }) => [status, n]));
    const rows = counted.reduce((sum, { n }) => sum + n, 0);
    return { answered, sent, rows, byStatus, ok: rows >= answered && rows <= sent };
  } finally {
    db.close();
  }
}

/** `skylark ledger verify --json` on the gateway's data directory, as an operator would run it. */
export function verifyLedger(bin: string, dataDir: string): LedgerCheck {
  let out: string;
  try {
    out = execFileSync(process.execPath, [bin, 'ledger', 'verify', '--data', dataDir, '--json'], { encoding: 'utf8' });
  } catch (error) {
    // Exit 1 with the JSON report on stdout: balances differ.
    out = String((error as { stdout?: string }).stdout ?? '');
    if (!out.trim()) throw error;
  }
  const report = JSON.parse(out) as LedgerCheck;
  return { ok: report.ok, tenants: report.tenants, problems: report.problems };
}
