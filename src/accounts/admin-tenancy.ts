/**
 * The admin API's tenancy side: tenants, their API keys and endpoints. The same
 * repositories the `skylark tenant|key|endpoint` commands use; this file adds only what
 * HTTP clients need: validation into OpenAI-shaped errors and 404s for unknown ids.
 */
import { SkylarkError } from '../core/errors.js';
import { createEndpointBody, createKeyBody, createTenantBody, listEndpointsQuery, updateTenantBody } from '../contracts/admin-requests.js';
import type { ApiKeyObject, EndpointObject, TenantObject } from '../contracts/admin-responses.js';
import { parseRequest } from '../contracts/parse.js';
import type { EndpointStatus } from '../store/schema.js';
import type { Endpoint } from '../tenancy/endpoints.js';
import { futureMs, microsOf, requireTenant, type AccountDeps } from './accounts.js';
import { apiKeyView, endpointView, tenantView } from './account-views.js';

export type List<T> = { object: 'list'; data: T[] };

export async function listTenants(deps: AccountDeps): Promise<List<TenantObject>> {
  return { object: 'list', data: (await deps.accounts.tenants.list()).map(tenantView) };
}

export async function createTenant(deps: AccountDeps, body: unknown): Promise<TenantObject> {
  const request = parseRequest(createTenantBody, body);
  const tenant = await deps.accounts.tenants.create({
    name: request.name,
    ...(request.tier !== undefined ? { tier: request.tier } : {}),
    ...(request.currency !== undefined ? { currency: request.currency } : {}),
    unlimited: request.unlimited === true,
  });
  return tenantView(tenant);
}

export async function getTenant(deps: AccountDeps, id: string): Promise<TenantObject> {
  return tenantView(await requireTenant(deps.accounts, id));
}

export async function updateTenant(deps: AccountDeps, id: string, body: unknown): Promise<TenantObject> {
  const request = parseRequest(updateTenantBody, body);
  const { tenants } = deps.accounts;
  await requireTenant(deps.accounts, id);
  const { status, ...changes } = request;
  await tenants.update(id, changes);
  if (status !== undefined) await tenants.setStatus(id, status);
  return tenantView(await requireTenant(deps.accounts, id));
}

export async function listKeys(deps: AccountDeps, tenantId: string): Promise<List<ApiKeyObject>> {
  await requireTenant(deps.accounts, tenantId);
  return { object: 'list', data: (await deps.accounts.keys.list(tenantId)).map(apiKeyView) };
}

export async function createKey(deps: AccountDeps, tenantId: string, body: unknown): Promise<ApiKeyObject & { key: string }> {
  // Every field is optional, so a bodiless POST is a key with the defaults.
  const request = parseRequest(createKeyBody, body ?? {});
  await requireTenant(deps.accounts, tenantId);
  const created = await deps.accounts.keys.create({
    tenantId,
    name: request.name ?? 'default',
    scopes: request.models ?? [],
    ...(request.rpm !== undefined ? { rpm: request.rpm } : {}),
    ...(request.tpm !== undefined ? { tpm: request.tpm } : {}),
    monthlyBudgetMicros: request.monthly_budget === undefined ? null : microsOf(request.monthly_budget, 'monthly_budget'),
    expiresAt: request.expires_at === undefined ? null : futureMs(request.expires_at, 'expires_at', deps.clock.wallNow().getTime()),
  });
  return { ...apiKeyView(created.apiKey), key: created.key };
}

/** Idempotent: revoking a revoked key answers it as it is, revoked when it first was. */
export async function revokeKey(deps: AccountDeps, keyId: string): Promise<ApiKeyObject> {
  const { keys } = deps.accounts;
  await keys.revoke(keyId);
  const key = await keys.get(keyId);
  if (key === undefined) throw new SkylarkError('not_found', `No API key with id '${keyId}'.`);
  return apiKeyView(key);
}

export async function listEndpoints(deps: AccountDeps, query: unknown): Promise<List<EndpointObject>> {
  const request = parseRequest(listEndpointsQuery, query ?? {});
  const { endpoints } = deps.accounts;
  let found: Endpoint[];
  if (request.tenant_id === undefined) found = await endpoints.list();
  else {
    await requireTenant(deps.accounts, request.tenant_id, 'tenant_id');
    found = await endpoints.visibleTo(request.tenant_id);
  }
  return { object: 'list', data: found.map(endpointView) };
}

export async function createEndpoint(deps: AccountDeps, body: unknown): Promise<EndpointObject> {
  const request = parseRequest(createEndpointBody, body);
  if (request.tenant_id !== null) await requireTenant(deps.accounts, request.tenant_id, 'tenant_id');
  // An endpoint must point at a model this gateway serves: a typo would only surface as
  // a 404 on every call through it.
  deps.catalog.get(request.model);
  for (const fallback of request.fallbacks ?? []) {
    if (fallback === request.model) throw new SkylarkError('invalid_request', 'An endpoint cannot fall back to its own model.', { param: 'fallbacks' });
    deps.catalog.require(fallback, 'chat');
  }
  const endpoint = await deps.accounts.endpoints.create({
    tenantId: request.tenant_id,
    modelId: request.model,
    name: request.name ?? request.model,
    ...(request.rpm !== undefined ? { rpm: request.rpm } : {}),
    ...(request.tpm !== undefined ? { tpm: request.tpm } : {}),
    ...(request.fallbacks !== undefined ? { fallbacks: request.fallbacks } : {}),
  });
  return endpointView(endpoint);
}

export async function getEndpoint(deps: AccountDeps, id: string): Promise<EndpointObject> {
  const endpoint = await deps.accounts.endpoints.get(id);
  if (endpoint === undefined) throw new SkylarkError('not_found', `No endpoint with id '${id}'.`);
  return endpointView(endpoint);
}

export async function setEndpointStatus(deps: AccountDeps, id: string, status: EndpointStatus): Promise<EndpointObject> {
  await deps.accounts.endpoints.setStatus(id, status);
  return getEndpoint(deps, id);
}
