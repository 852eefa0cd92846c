/**
 * What every admin command (tenant, key, endpoint, price, topup, …) shares: the
 * `--data`/`--json` options, input parsing, and how failures end the process.
 *
 * Exit codes: 0 done; 2 the input was wrong (unknown tenant, bad amount, bad flag — also
 * commander's own usage errors); 1 anything else (a database that cannot be reached, a
 * ledger that does not verify). Failures are one line on stderr, never a stack trace: the
 * audience is an operator at a shell or a script checking `$?`.
 */
import type { Command } from 'commander';
import type { Kysely } from 'kysely';
import { microsFromDecimal } from '../billing/pricing.js';
import type { Currency, Database, TenantTier } from '../store/schema.js';
import { Tenants, type Tenant } from '../tenancy/tenants.js';

/** Input the user can correct: exits 2. */
export class CliError extends Error {}

export interface CommonOptions {
  data: string;
  json?: boolean;
}

/**
 * A top-level admin command whose usage errors (missing argument, unknown option) exit 2
 * like our own input errors. Set before subcommands are added: commander copies the exit
 * override into each of them.
 */
export function adminCommand(program: Command, name: string, description: string): Command {
  return program
    .command(name)
    .description(description)
    .exitOverride((error) => process.exit(error.exitCode === 1 ? 2 : error.exitCode));
}

/** `--data DIR` and `--json`, as `skylark serve` takes `--data`. */
export function storeOptions(command: Command): Command {
  return command
    .option('--data <dir>', 'data directory holding skylark.db (ignored when DATABASE_URL is set)', './data')
    .option('--json', 'print JSON instead of a table');
}

/** Wraps an action so every failure becomes one stderr line and an exit code (see top). */
export function handled<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      process.stderr.write(`error: ${message.split('\n')[0]}\n`);
      process.exitCode = error instanceof CliError ? 2 : 1;
    }
  };
}

/** A decimal amount of currency units ("100", "0.8") → integer micros. */
export function parseAmount(what: string, value: string, { allowZero = false } = {}): number {
  let micros: number;
  try {
    micros = microsFromDecimal(value);
  } catch {
    throw new CliError(`${what} must be a decimal amount with at most 6 decimals (like 100 or 0.8), got '${value}'`);
  }
  if (micros === 0 && !allowZero) throw new CliError(`${what} must be more than 0, got '${value}'`);
  return micros;
}

/** A whole number ≥ min (rate limits, percentages). */
export function parseInteger(what: string, value: string, { min = 1, max = Number.MAX_SAFE_INTEGER } = {}): number {
  const n = /^\d+$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `a whole number ≥ ${min}` : `a whole number ${min}..${max}`;
    throw new CliError(`${what} must be ${range}, got '${value}'`);
  }
  return n;
}

export function parseChoice<T extends string>(what: string, value: string, choices: readonly T[]): T {
  const found = choices.find((choice) => choice === value);
  if (found === undefined) throw new CliError(`${what} must be one of ${choices.join(', ')}, got '${value}'`);
  return found;
}

export const tiers: readonly TenantTier[] = ['priority', 'standard', 'free'];
export const currencies: readonly Currency[] = ['CNY', 'USD'];

export function parseCurrency(value: string): Currency {
  return parseChoice('--currency', value.toUpperCase(), currencies);
}

/**
 * An ISO 8601 date or date-time → epoch ms. Date.parse alone accepts free-form text
 * ("March 7") that means different things to different readers, so require the ISO shape.
 */
export function parseTime(what: string, value: string): number {
  const ms = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(ms)) throw new CliError(`${what} must be an ISO 8601 time like 2026-01-31 or 2026-01-31T12:00:00Z, got '${value}'`);
  return ms;
}

/** Like parseTime, for expiry times: one already past is surely a typo. */
export function parseFutureTime(what: string, value: string): number {
  const ms = parseTime(what, value);
  if (ms <= Date.now()) throw new CliError(`${what} must be in the future, got '${value}'`);
  return ms;
}

/** "a, b,,c" → ["a", "b", "c"]. */
export function parseList(value: string): string[] {
  return value.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

/** The tenant, or the error an operator expects for a mistyped id (not a foreign-key violation). */
export async function requireTenant(db: Kysely<Database>, id: string): Promise<Tenant> {
  const tenant = await new Tenants(db).get(id);
  if (tenant === undefined) throw new CliError(`unknown tenant '${id}' (see skylark tenant list)`);
  return tenant;
}
