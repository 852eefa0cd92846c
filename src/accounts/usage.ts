/**
 * `GET /v1/usage` and `GET /v1/balance`: a tenant reads its own books. A tenant's key only
 * ever sees its own tenant; the operator's key sees its own (the operator tenant) or, with
 * `tenant_id`, anyone's.
 */
import { SkylarkError } from '../core/errors.js';
import { balanceQuery, usageQuery } from '../contracts/admin-requests.js';
import type { BalanceObject, UsageReport } from '../contracts/admin-responses.js';
import { parseRequest } from '../contracts/parse.js';
import type { Balance } from '../billing/balances.js';
import { usageGroups, type UsageGroup } from '../billing/usage-report.js';
import type { Tenant } from '../tenancy/tenants.js';
import type { Principal } from '../tenancy/access.js';
import { requireTenant, type AccountDeps } from './accounts.js';
import { balanceView, usageRowView } from './account-views.js';

const dayMs = 86_400_000;
/** A year and a day: enough for any report, and a bound on what one request can scan. */
const maxDays = 366;
const defaultDays = 30;

export async function getUsage(deps: AccountDeps, principal: Principal, query: unknown): Promise<UsageReport> {
  const request = parseRequest(usageQuery, query ?? {});
  const tenant = await tenantInScope(deps, principal, request.tenant_id);
  const range = dateRange(request.start_date, request.end_date, deps.clock.wallNow().getTime());
  const groupBy = parseGroups(request.group_by);
  const rows = await deps.accounts.usage.summarize({
    tenantId: tenant.id,
    from: range.from,
    to: range.to,
    groupBy,
    ...(request.model !== undefined ? { modelId: request.model } : {}),
    ...(request.api_key_id !== undefined ? { apiKeyId: request.api_key_id } : {}),
    ...(request.endpoint_id !== undefined ? { endpointId: request.endpoint_id } : {}),
  });
  return {
    object: 'list',
    tenant_id: tenant.id,
    start_date: range.startDate,
    end_date: range.endDate,
    group_by: groupBy,
    data: rows.map((row) => usageRowView(row, tenant.currency)),
  };
}

export async function getBalance(deps: AccountDeps, principal: Principal, query: unknown): Promise<BalanceObject> {
  const request = parseRequest(balanceQuery, query ?? {});
  const tenant = await tenantInScope(deps, principal, request.tenant_id);
  const balance = await deps.accounts.ledger.balance(tenant.id);
  // Tenants.create writes the balance row in the same transaction: a missing one is a bug.
  if (balance === undefined) throw new Error(`tenant ${tenant.id} has no balance row`);
  return liveBalanceView(deps, balance, tenant);
}

/** A balance with what running requests hold: that lives with the gateways (memory or Redis), not in the row. */
export async function liveBalanceView(deps: AccountDeps, balance: Balance, tenant: Tenant): Promise<BalanceObject> {
  const reservedMicros = balance.reservedMicros + (await deps.billing.heldFor(tenant.id));
  return balanceView({ ...balance, reservedMicros, availableMicros: balance.balanceMicros - reservedMicros }, tenant);
}

/** The tenant a request may read: its own, or — for the operator only — the one it names. */
async function tenantInScope(deps: AccountDeps, principal: Principal, requested: string | undefined): Promise<Tenant> {
  if (requested !== undefined && requested !== principal.tenantId && !principal.operator) {
    throw new SkylarkError('permission_denied', "Only the operator key may read another tenant's account.", { param: 'tenant_id' });
  }
  return requireTenant(deps.accounts, requested ?? principal.tenantId, 'tenant_id');
}

/** Whole UTC days, both ends inclusive → [from, to) in epoch ms. */
export function dateRange(start: string | undefined, end: string | undefined, nowMs: number) {
  const endDay = end === undefined ? Math.floor(nowMs / dayMs) : Date.parse(`${end}T00:00:00Z`) / dayMs;
  const startDay = start === undefined ? endDay - (defaultDays - 1) : Date.parse(`${start}T00:00:00Z`) / dayMs;
  if (startDay > endDay) {
    throw new SkylarkError('invalid_request', "Invalid value for 'start_date': it is after end_date.", { param: 'start_date' });
  }
  if (endDay - startDay + 1 > maxDays) {
    throw new SkylarkError('invalid_request', `Invalid value for 'start_date': a report spans at most ${maxDays} days.`, { param: 'start_date' });
  }
  const date = (day: number) => new Date(day * dayMs).toISOString().slice(0, 10);
  return { from: startDay * dayMs, to: (endDay + 1) * dayMs, startDate: date(startDay), endDate: date(endDay) };
}

/** "day, model" → ['day', 'model']; the contract has checked each name. */
function parseGroups(value: string | undefined): UsageGroup[] {
  if (value === undefined) return [];
  const named = value.split(',').map((group) => group.trim());
  return usageGroups.filter((group) => named.includes(group)).sort((a, b) => named.indexOf(a) - named.indexOf(b));
}
