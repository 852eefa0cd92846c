import type { FastifyInstance, FastifyRequest } from 'fastify';
import { SkylarkError } from '../core/errors.js';
import type { Principal } from '../gateway/access.js';
import type { GatewayDeps } from '../gateway/request-context.js';

const principals = new WeakMap<FastifyRequest, Principal>();

/**
 * Every /v1 and /admin request is authenticated before its body is read; /admin is for
 * the operator's key only.
 */
export function attachPrincipal(app: FastifyInstance, deps: GatewayDeps): void {
  app.addHook('onRequest', async (request) => {
    const admin = request.url.startsWith('/admin/');
    if (!admin && !request.url.startsWith('/v1/')) return;
    const principal = await deps.access.authenticate(request.headers.authorization);
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
