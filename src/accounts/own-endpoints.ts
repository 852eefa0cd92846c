/**
 * A tenant's members manage their own `ep-…` endpoints with a key of theirs
 * (`/v1/endpoints`). An endpoint only narrows what its tenant's keys may already do (its
 * RPM/TPM apply on top of the key's), so its limits are the tenant's to choose; shared
 * presets stay the operator's.
 */
import { SkylarkError } from '../core/errors.js';
import { createEndpointBody } from '../contracts/admin-requests.js';
import type { EndpointObject } from '../contracts/admin-responses.js';
import { parseRequest } from '../contracts/parse.js';
import type { EndpointStatus } from '../store/schema.js';
import type { Principal } from '../tenancy/access.js';
import type { AccountDeps } from './accounts.js';
import { endpointView } from './account-views.js';
import { createEndpoint, setEndpointStatus } from './admin-tenancy.js';

const ownEndpointBody = createEndpointBody.omit({ tenant_id: true });

export async function listOwnEndpoints(deps: AccountDeps, principal: Principal) {
  return { object: 'list' as const, data: (await deps.accounts.endpoints.visibleTo(principal.tenantId)).map(endpointView) };
}

export async function createOwnEndpoint(deps: AccountDeps, principal: Principal, body: unknown): Promise<EndpointObject> {
  if (principal.scopes.length > 0) {
    throw new SkylarkError('permission_denied', 'This API key is limited to some models, so it may not create endpoints; use a key allowed every model.');
  }
  const request = parseRequest(ownEndpointBody, body ?? {});
  return createEndpoint(deps, { ...request, tenant_id: principal.tenantId });
}

export async function setOwnEndpointStatus(deps: AccountDeps, principal: Principal, id: string, status: EndpointStatus): Promise<EndpointObject> {
  const endpoint = await deps.accounts.endpoints.get(id);
  if (endpoint === undefined || (endpoint.tenantId !== null && endpoint.tenantId !== principal.tenantId)) {
    throw new SkylarkError('not_found', `No endpoint with id '${id}'.`, { param: 'id' });
  }
  if (endpoint.tenantId === null) {
    throw new SkylarkError('permission_denied', `Endpoint '${id}' is a shared preset: only the operator starts or stops it.`);
  }
  return setEndpointStatus(deps, id, status);
}
