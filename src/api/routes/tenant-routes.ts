import type { FastifyInstance } from 'fastify';
import { balanceQuery, createEndpointBody, createKeyBody, ledgerQuery, usageQuery } from '../../contracts/admin-requests.js';
import { apiKeyObject, balanceObject, createdApiKeyObject, endpointObject, ledgerPage, lists, usageReport } from '../../contracts/admin-responses.js';
import type { ServerDeps } from '../server-deps.js';
import { getBalance, getUsage } from '../../accounts/usage.js';
import { createOwnKey, listOwnKeys, revokeOwnKey } from '../../accounts/own-keys.js';
import { listLedger } from '../../accounts/admin-billing.js';
import { createOwnEndpoint, listOwnEndpoints, setOwnEndpointStatus } from '../../accounts/own-endpoints.js';
import { documented } from '../openapi.js';
import { principalOf } from '../principal.js';

/** What a tenant's own key may read and manage: usage, balance, ledger, keys, endpoints (the operator may name any tenant's books). */
export function registerTenantRoutes(app: FastifyInstance, deps: ServerDeps): void {
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

  const keyTags = ['keys'];
  app.get(
    '/v1/keys',
    documented({ summary: "The caller's tenant's API keys (never the keys themselves)", tags: keyTags, response: lists.apiKeys, errors: [401] }),
    (request) => listOwnKeys(deps, principalOf(request)),
  );
  app.post(
    '/v1/keys',
    documented({
      summary: 'Create an API key for the caller\'s tenant; the sk-… key is in this answer only',
      description: "Limits may not exceed the calling key's own; a key limited to some models may not create keys.",
      tags: keyTags,
      body: createKeyBody,
      response: createdApiKeyObject,
      status: 201,
      errors: [400, 403],
    }),
    async (request, reply) => reply.code(201).send(await createOwnKey(deps, principalOf(request), request.body)),
  );
  app.post(
    '/v1/keys/:id/revoke',
    documented({ summary: "Revoke one of the tenant's keys (idempotent)", tags: keyTags, params: { id: 'API key id (key_…)' }, response: apiKeyObject, errors: [404] }),
    (request) => revokeOwnKey(deps, principalOf(request), (request.params as { id: string }).id),
  );

  const endpointTags = ['endpoints'];
  app.get(
    '/v1/endpoints',
    documented({ summary: "Endpoints the caller's tenant may call: its own and the shared presets", tags: endpointTags, response: lists.endpoints, errors: [401] }),
    (request) => listOwnEndpoints(deps, principalOf(request)),
  );
  app.post(
    '/v1/endpoints',
    documented({
      summary: "Create an endpoint (ep-…) for the caller's tenant",
      tags: endpointTags,
      body: createEndpointBody.omit({ tenant_id: true }),
      response: endpointObject,
      status: 201,
      errors: [400, 403, 404],
    }),
    async (request, reply) => reply.code(201).send(await createOwnEndpoint(deps, principalOf(request), request.body)),
  );
  for (const verb of ['start', 'stop'] as const) {
    app.post(
      `/v1/endpoints/:id/${verb}`,
      documented({ summary: `${verb === 'start' ? 'Start' : 'Stop'} one of the tenant's endpoints`, tags: endpointTags, params: { id: 'Endpoint id (ep-…)' }, response: endpointObject, errors: [403, 404] }),
      (request) => setOwnEndpointStatus(deps, principalOf(request), (request.params as { id: string }).id, verb === 'start' ? 'started' : 'stopped'),
    );
  }

  app.get(
    '/v1/ledger',
    documented({ summary: "The caller's tenant's ledger: top-ups, redeemed codes and charges, newest first", tags: ['usage'], query: ledgerQuery, response: ledgerPage, errors: [400] }),
    (request) => listLedger(deps, principalOf(request).tenantId, request.query),
  );

  app.get(
    '/v1/balance',
    documented({ summary: "The tenant's prepaid balance", tags: ['usage'], query: balanceQuery, response: balanceObject, errors: [403, 404] }),
    (request) => getBalance(deps, principalOf(request), request.query),
  );
}
