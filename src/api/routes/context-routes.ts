/**
 * Ark-style context caching: Ark's `POST /v1/context/create` and
 * `POST /v1/context/chat/completions` (context_id plus the new turn), and Skylark's own
 * `GET /v1/contexts`, `GET /v1/contexts/{id}`, `DELETE /v1/contexts/{id}`.
 */
import type { FastifyInstance } from 'fastify';
import { contextList, contextObject, createContextRequestSchema, deletedContext, listContextsQuery } from '../../contracts/context-request.js';
import { contextChatCompletion, createContext, deleteContext, listContexts, retrieveContext } from '../../gateway/context-cache.js';
import type { GatewayDeps } from '../../gateway/request-context.js';
import type { InFlightRequests } from '../in-flight.js';
import { documented } from '../openapi.js';
import { principalOf } from '../principal.js';
import { generationHandler } from './openai-routes.js';

export function registerContextRoutes(app: FastifyInstance, deps: GatewayDeps, inFlight: InFlightRequests): void {
  const tags = ['Context caching'];
  const id = { id: 'A context id (`ctx-…`) of your tenant' };
  app.post(
    '/v1/context/create',
    documented({
      summary: "Cache a prefix of messages as a context (Volcano Ark's API); its prompt tokens are billed at the input price",
      tags, body: createContextRequestSchema, response: contextObject, errors: [402, 404, 429],
    }),
    generationHandler(deps, inFlight, async (gateway, body, context) => ({ stream: false, body: await createContext(gateway, body, context) })),
  );
  app.post(
    '/v1/context/chat/completions',
    documented({
      summary: 'A chat completion on a cached context: `context_id` and only the new messages; the context\'s tokens are billed as cached input',
      tags, errors: [402, 404, 429],
    }),
    generationHandler(deps, inFlight, contextChatCompletion),
  );
  app.get(
    '/v1/contexts',
    documented({ summary: "Your active contexts, newest first (Skylark's extension)", tags, query: listContextsQuery, response: contextList }),
    async (request) => listContexts(deps, principalOf(request), request.query),
  );
  app.get('/v1/contexts/:id', documented({ summary: "A context (Skylark's extension)", tags, params: id, response: contextObject, errors: [404] }), async (request) =>
    retrieveContext(deps, principalOf(request), idOf(request.params)),
  );
  app.delete(
    '/v1/contexts/:id',
    documented({ summary: "Delete a context: its storage is charged up to now and it is freed (Skylark's extension)", tags, params: id, response: deletedContext, errors: [404] }),
    async (request) => deleteContext(deps, principalOf(request), idOf(request.params)),
  );
}

const idOf = (params: unknown): string => (params as { id: string }).id;
