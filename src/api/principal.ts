import type { FastifyInstance, FastifyRequest } from 'fastify';
import { SkylarkError } from '../core/errors.js';
import type { Principal } from '../tenancy/access.js';
import type { GatewayDeps } from '../gateway/request-context.js';

const principals = new WeakMap<FastifyRequest, Principal>();

/**
 * Every /v1 and /admin request is authenticated before its body is read; /admin is for
 * the operator's key only. Everything else (/healthz, /readyz, the API docs at /docs) is open.
 */
export function attachPrincipal(app: FastifyInstance, deps: GatewayDeps): void {
  app.addHook('onRequest', async (request) => {
    // The matched route, not the raw URL: the router decodes the path, so `/%61dmin/…`
    // reaches an /admin route while its raw URL does not start with /admin/.
    const path = request.routeOptions.url ?? request.url;
    const admin = path.startsWith('/admin/');
    if (!admin && !path.startsWith('/v1/')) return;
    // Anthropic's clients send the key as x-api-key; Authorization wins when both are present.
    const apiKey = request.headers['x-api-key'];
    const authorization = request.headers.authorization ?? (typeof apiKey === 'string' && apiKey !== '' ? `Bearer ${apiKey}` : undefined);
    const principal = await deps.access.authenticate(authorization);
    if (admin && !principal.operator) {
      throw new SkylarkError('permission_denied', 'The admin API needs the operator key.');
    }
    principals.set(request, principal);
  });
}

export function principalOf(request: FastifyRequest): Principal {
  const principal = principals.get(request);
  if (!principal) throw new SkylarkError('invalid_api_key', 'The request was not authenticated.');
  return principal;
}
