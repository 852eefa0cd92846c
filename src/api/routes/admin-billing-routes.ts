import type { FastifyInstance, FastifyRequest } from 'fastify';
import { createRedeemCodesBody, ledgerQuery, listPricesQuery, listRedeemCodesQuery, setPriceBody, topUpBody } from '../../contracts/admin-requests.js';
import { ledgerPage, lists, priceObject, topUpObject, verificationObject } from '../../contracts/admin-responses.js';
import * as admin from '../../accounts/admin-billing.js';
import type { ServerDeps } from '../server-deps.js';
import { documented } from '../openapi.js';

const id = (request: FastifyRequest) => (request.params as { id: string }).id;
const tenantParam = { id: 'Tenant id (ten_…)' };

/** Prices, money in, the ledger and its check; the operator key only (api/principal.ts). */
export function registerAdminBillingRoutes(app: FastifyInstance, deps: ServerDeps): void {
  const priceTags = ['admin: prices'];
  app.get(
    '/admin/prices',
    documented({ summary: 'Prices in effect now, or every version of one model', tags: priceTags, query: listPricesQuery, response: lists.prices, errors: [403] }),
    (request) => admin.listPrices(deps, request.query),
  );
  app.post(
    '/admin/prices',
    documented({ summary: "Add a new version of a model's price (per 1M tokens)", tags: priceTags, body: setPriceBody, response: priceObject, status: 201, errors: [403] }),
    async (request, reply) => reply.code(201).send(await admin.setPrice(deps, request.body)),
  );

  const moneyTags = ['admin: money'];
  app.post(
    '/admin/tenants/:id/topups',
    documented({ summary: "Credit a tenant's balance", tags: moneyTags, params: tenantParam, body: topUpBody, response: topUpObject, status: 201, errors: [403, 404] }),
    async (request, reply) => reply.code(201).send(await admin.topUp(deps, id(request), request.body)),
  );
  app.get(
    '/admin/tenants/:id/ledger',
    documented({ summary: "A tenant's ledger entries, newest first", tags: moneyTags, params: tenantParam, query: ledgerQuery, response: ledgerPage, errors: [403, 404] }),
    (request) => admin.listLedger(deps, id(request), request.query),
  );
  app.post(
    '/admin/redeem-codes',
    documented({ summary: 'Create prepaid codes; the codes are in this answer only', tags: moneyTags, body: createRedeemCodesBody, response: lists.createdRedeemCodes, status: 201, errors: [403] }),
    async (request, reply) => reply.code(201).send(await admin.createRedeemCodes(deps, request.body)),
  );
  app.get(
    '/admin/redeem-codes',
    documented({ summary: 'Issued prepaid codes, newest first', tags: moneyTags, query: listRedeemCodesQuery, response: lists.redeemCodes, errors: [403] }),
    (request) => admin.listRedeemCodes(deps, request.query),
  );
  app.get(
    '/admin/ledger/verify',
    documented({
      summary: 'Recompute every balance from the ledger',
      description: 'Answers 200 either way; `ok` is false and `problems` names each balance that does not add up.',
      tags: moneyTags,
      response: verificationObject,
      errors: [403],
    }),
    () => admin.verifyLedger(deps),
  );
}
