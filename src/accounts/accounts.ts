/**
 * The account and admin APIs' room: tenants, keys, endpoints, prices, top-ups, the ledger,
 * usage reports and economics, for API customers (`/v1/usage`, `/v1/balance`, `/v1/keys`,
 * `/v1/endpoints`, `/v1/ledger`) and operators (`/admin/…`). Its use cases sit on billing
 * and tenancy and never on the request path: they know the model catalog only as a list of
 * ids. This file holds what they share: their dependencies and the look-ups every one needs.
 */
import type { Kysely } from 'kysely';
import type { Clock } from '../core/clock.js';
import { SkylarkError } from '../core/errors.js';
import { microsFromDecimal } from '../core/money.js';
import { Ledger } from '../billing/ledger.js';
import { PriceCatalog } from '../billing/price-catalog.js';
import { UsageReports } from '../billing/usage-report.js';
import type { ReplicaCosts } from './economics.js';
import type { Database } from '../store/schema.js';
import { ApiKeys } from '../tenancy/api-keys.js';
import { Endpoints } from '../tenancy/endpoints.js';
import { Tenants, type Tenant } from '../tenancy/tenants.js';

/** The models an endpoint may point at; the gateway's catalog is one. */
export interface ModelLookup {
  /** Throws not_found for an unknown id. */
  get(id: string): unknown;
  /** Throws when the model lacks the capability. */
  require(id: string, capability: 'chat'): unknown;
}

/** What the account use cases need; the server's dependencies include these. */
export interface AccountDeps {
  accounts: AccountServices;
  clock: Clock;
  catalog: ModelLookup;
  /** Money held right now for a tenant's running requests (shown as `reserved`). */
  billing: { heldFor(tenantId: string): Promise<number> };
  /** What each replica costs per hour (config `costs:`), for GET /admin/economics. */
  replicaCosts: ReplicaCosts;
}

export interface AccountServices {
  tenants: Tenants;
  keys: ApiKeys;
  endpoints: Endpoints;
  prices: PriceCatalog;
  ledger: Ledger;
  usage: UsageReports;
}

/** Pass the ledger and catalog the paid path already uses, so there is one of each. */
export function accountServices(db: Kysely<Database>, shared: { ledger?: Ledger; prices?: PriceCatalog } = {}): AccountServices {
  return {
    tenants: new Tenants(db),
    keys: new ApiKeys(db),
    endpoints: new Endpoints(db),
    prices: shared.prices ?? new PriceCatalog(db),
    ledger: shared.ledger ?? new Ledger(db),
    usage: new UsageReports(db),
  };
}

export async function requireTenant(accounts: AccountServices, id: string, param: string | null = null): Promise<Tenant> {
  const tenant = await accounts.tenants.get(id);
  if (tenant === undefined) throw new SkylarkError('not_found', `No tenant with id '${id}'.`, { param });
  return tenant;
}

/** A decimal amount already shaped by the contract → micros; too large or zero is the client's error. */
export function microsOf(value: string, param: string, { allowZero = false } = {}): number {
  let micros: number;
  try {
    micros = microsFromDecimal(value);
  } catch {
    throw new SkylarkError('invalid_request', `Invalid value for '${param}': ${value} is too large.`, { param });
  }
  if (micros === 0 && !allowZero) throw new SkylarkError('invalid_request', `Invalid value for '${param}': must be more than 0.`, { param });
  return micros;
}

/** `{amount}` or `{amount_micros}` (the contract admits exactly one) → micros. */
export function amountMicros(body: { amount?: string | undefined; amount_micros?: number | undefined }): number {
  // z.int() already bounds amount_micros to safe integers.
  return body.amount_micros ?? microsOf(body.amount!, 'amount');
}

/** A Unix-seconds expiry → epoch ms; one already past is surely a mistake. */
export function futureMs(seconds: number, param: string, nowMs: number): number {
  const ms = seconds * 1000;
  if (!Number.isSafeInteger(ms) || ms <= nowMs) {
    throw new SkylarkError('invalid_request', `Invalid value for '${param}': must be a Unix time in the future.`, { param });
  }
  return ms;
}

/** A query-string page size: 1..1000, default 100. */
export function pageLimit(value: string | undefined, param = 'limit'): number {
  const limit = value === undefined ? 100 : Number(value);
  if (limit < 1 || limit > 1000) throw new SkylarkError('invalid_request', `Invalid value for '${param}': must be 1..1000.`, { param });
  return limit;
}
