import type { FastifyInstance, FastifyRequest } from 'fastify';
import { createEndpointBody, createKeyBody, createTenantBody, listEndpointsQuery, updateTenantBody } from '../../contracts/admin-requests.js';
import { apiKeyObject, createdApiKeyObject, endpointObject, lists, tenantObject } from '../../contracts/admin-responses.js';
import * as admin from '../../accounts/admin-tenancy.js';
import type { ServerDeps } from '../server-deps.js';
import { documented } from '../openapi.js';

const id = (request: FastifyRequest) => (request.params as { id: string }).id;
const tenantParam = { id: 'Tenant id (ten_…)' };
const keyParam = { id: 'API key id (key_…)' };
const endpointParam = { id: 'Endpoint id (ep-…)' };

/** Tenants, keys and endpoints; the operator key only (api/principal.ts). */
export function registerAdminTenancyRoutes(app: FastifyInstance, deps: ServerDeps): void {
  const tags = ['admin: tenants'];
  app.get('/admin/tenants', documented({ summary: 'List tenants', tags, response: lists.tenants, errors: [403] }), () => admin.listTenants(deps));
  app.post(
    '/admin/tenants',
    documented({ summary: 'Create a tenant (with a zero balance)', tags, body: createTenantBody, response: tenantObject, status: 201, errors: [403] }),
    async (request, reply) => reply.code(201).send(await admin.createTenant(deps, request.body)),
  );
  app.get(
    '/admin/tenants/:id',
    documented({ summary: 'Get a tenant', tags, params: tenantParam, response: tenantObject, errors: [403, 404] }),
    (request) => admin.getTenant(deps, id(request)),
  );
  app.patch(
    '/admin/tenants/:id',
    documented({ summary: "Change a tenant's name, tier, status or unlimited flag", tags, params: tenantParam, body: updateTenantBody, response: tenantObject, errors: [403, 404] }),
    (request) => admin.updateTenant(deps, id(request), request.body),
  );

  const keyTags = ['admin: keys'];
  app.get(
    '/admin/tenants/:id/keys',
    documented({ summary: "List a tenant's API keys (never the keys themselves)", tags: keyTags, params: tenantParam, response: lists.apiKeys, errors: [403, 404] }),
    (request) => admin.listKeys(deps, id(request)),
  );
  app.post(
    '/admin/tenants/:id/keys',
    documented({ summary: 'Create an API key; the key is in this answer only', tags: keyTags, params: tenantParam, body: createKeyBody, response: createdApiKeyObject, status: 201, errors: [403, 404] }),
    async (request, reply) => reply.code(201).send(await admin.createKey(deps, id(request), request.body)),
  );
  app.post(
    '/admin/keys/:id/revoke',
    documented({ summary: 'Revoke a key; every gateway refuses it within a second', tags: keyTags, params: keyParam, response: apiKeyObject, errors: [403, 404] }),
    (request) => admin.revokeKey(deps, id(request)),
  );

  const endpointTags = ['admin: endpoints'];
  app.get(
    '/admin/endpoints',
    documented({ summary: 'List endpoints: all, or those a tenant may call', tags: endpointTags, query: listEndpointsQuery, response: lists.endpoints, errors: [403, 404] }),
    (request) => admin.listEndpoints(deps, request.query),
  );
  app.post(
    '/admin/endpoints',
    documented({ summary: 'Create an ep-… endpoint on a model', tags: endpointTags, body: createEndpointBody, response: endpointObject, status: 201, errors: [403, 404] }),
    async (request, reply) => reply.code(201).send(await admin.createEndpoint(deps, request.body)),
  );
  app.get(
    '/admin/endpoints/:id',
    documented({ summary: 'Get an endpoint', tags: endpointTags, params: endpointParam, response: endpointObject, errors: [403, 404] }),
    (request) => admin.getEndpoint(deps, id(request)),
  );
  for (const [verb, status] of [['start', 'started'], ['stop', 'stopped']] as const) {
    app.post(
      `/admin/endpoints/:id/${verb}`,
      documented({ summary: `${verb === 'start' ? 'Serve' : 'Stop serving'} an endpoint`, tags: endpointTags, params: endpointParam, response: endpointObject, errors: [403, 404] }),
      (request) => admin.setEndpointStatus(deps, id(request), status),
    );
  }
}
