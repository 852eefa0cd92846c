/**
 * OpenAI's Responses API: create (JSON or a stream of named events, no `[DONE]`, as
 * OpenAI sends it), retrieve, delete and list input items of a tenant's stored responses.
 */
import type { FastifyInstance } from 'fastify';
import { parseRequest } from '../../contracts/parse.js';
import { createResponseRequestSchema, inputItemsQuerySchema } from '../../contracts/response-request.js';
import { createResponse } from '../../gateway/responses.js';
import { deleteResponse, listInputItems, retrieveResponse } from '../../gateway/response-store.js';
import type { GatewayDeps } from '../../gateway/request-context.js';
import { SkylarkError } from '../../core/errors.js';
import type { InFlightRequests } from '../in-flight.js';
import { documented } from '../openapi.js';
import { principalOf } from '../principal.js';
import { responsesFormat } from '../sse.js';
import { generationHandler } from './openai-routes.js';

export function registerResponsesRoutes(app: FastifyInstance, deps: GatewayDeps, inFlight: InFlightRequests): void {
  const tags = ['Responses'];
  const id = { id: 'A response id (`resp_…`) of your tenant' };
  app.post(
    '/v1/responses',
    documented({
      summary: "Create a model response (OpenAI's Responses API); `stream: true` answers with named server-sent events",
      tags, body: createResponseRequestSchema, errors: [402, 404, 429],
    }),
    generationHandler(deps, inFlight, createResponse, { format: () => responsesFormat }),
  );

  app.get('/v1/responses/:id', documented({ summary: 'A stored response', tags, params: id, errors: [404] }), async (request) => {
    const query = request.query as Record<string, string | undefined>;
    if (query.stream === 'true') {
      throw new SkylarkError('unsupported_parameter', 'Replaying a stored response as a stream is not supported.', { param: 'stream' });
    }
    return retrieveResponse(deps, principalOf(request), idOf(request.params));
  });

  app.delete('/v1/responses/:id', documented({ summary: 'Delete a stored response', tags, params: id, errors: [404] }), async (request) => deleteResponse(deps, principalOf(request), idOf(request.params)));

  app.get(
    '/v1/responses/:id/input_items',
    documented({ summary: 'The input items a stored response saw, earlier turns included', tags, params: id, query: inputItemsQuerySchema, errors: [404] }),
    async (request) =>
      listInputItems(deps, principalOf(request), idOf(request.params), parseRequest(inputItemsQuerySchema, { ...(request.query as object) })),
  );
}

const idOf = (params: unknown): string => (params as { id: string }).id;
