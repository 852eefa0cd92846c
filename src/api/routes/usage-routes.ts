import type { FastifyInstance } from 'fastify';
import { balanceQuery, createKeyBody, ledgerQuery, usageQuery } from '../../contracts/admin-requests.js';
import { apiKeyObject, balanceObject, createdApiKeyObject, ledgerPage, lists, usageReport } from '../../contracts/admin-responses.js';
import type { GatewayDeps } from '../../gateway/request-context.js';
import { getBalance, getUsage } from '../../gateway/usage.js';
import { createOwnKey, listOwnKeys, revokeOwnKey } from '../../gateway/own-keys.js';
import { listLedger } from '../../gateway/admin-billing.js';
import { documented } from '../openapi.js';
import { principalOf } from '../principal.js';

/** A tenant's own books and keys; the operator may name any tenant's books. */
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
