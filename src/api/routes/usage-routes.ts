import type { FastifyInstance } from 'fastify';
import { balanceQuery, usageQuery } from '../../contracts/admin-requests.js';
import { balanceObject, usageReport } from '../../contracts/admin-responses.js';
import type { GatewayDeps } from '../../gateway/request-context.js';
import { getBalance, getUsage } from '../../gateway/usage.js';
import { documented } from '../openapi.js';
import { principalOf } from '../principal.js';

/** A tenant's own books; the operator may name any tenant. */
export function registerUsageRoutes(app: FastifyInstance, deps: GatewayDeps): void {
  app.get(
    '/v1/usage',
    documented({
      summary: 'Usage: requests, tokens and cost, summed per group',
      description:
        'Whole UTC days from start_date to end_date, both inclusive (default: the last 30 days). ' +
        'Grouped by any of day, model, key, endpoint (comma-separated); without group_by, one row of totals.',
      tags: ['usage'],
      query: usageQuery,
      response: usageReport,
      errors: [403, 404],
    }),
    (request) => getUsage(deps, principalOf(request), request.query),
  );

  app.get(
    '/v1/balance',
    documented({ summary: "The tenant's prepaid balance", tags: ['usage'], query: balanceQuery, response: balanceObject, errors: [403, 404] }),
    (request) => getBalance(deps, principalOf(request), request.query),
  );
}
