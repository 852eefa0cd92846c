import type { FastifyInstance, FastifyReply } from 'fastify';
import { createChatCompletion } from '../../gateway/chat-completion.js';
import { createCompletion } from '../../gateway/completion.js';
import { createEmbeddings } from '../../gateway/embeddings.js';
import { toWireModel } from '../../gateway/model-catalog.js';
import type { GatewayDeps } from '../../gateway/request-context.js';
import type { InFlightRequests } from '../in-flight.js';
import { sendEventStream } from '../sse.js';

export function registerOpenAIRoutes(app: FastifyInstance, deps: GatewayDeps, inFlight: InFlightRequests): void {
  app.post('/v1/chat/completions', async (request, reply) => {
    const context = inFlight.begin(reply);
    try {
      const result = await createChatCompletion(deps, request.body, context);
      return await respond(reply, context.requestId, result.stream ? result.chunks : result.body, result.stream);
    } finally {
      context.end();
    }
  });

  app.post('/v1/completions', async (request, reply) => {
    const context = inFlight.begin(reply);
    try {
      const result = await createCompletion(deps, request.body, context);
      return await respond(reply, context.requestId, result.stream ? result.chunks : result.body, result.stream);
    } finally {
      context.end();
    }
  });

  app.post('/v1/embeddings', async (request, reply) => {
    const context = inFlight.begin(reply);
    try {
      const body = await createEmbeddings(deps, request.body, context);
      return await respond(reply, context.requestId, body, false);
    } finally {
      context.end();
    }
  });

  app.get('/v1/models', async () => ({ object: 'list', data: deps.catalog.list().map(toWireModel) }));

  app.get<{ Params: { id: string } }>('/v1/models/*', async (request) => {
    // Model ids may contain slashes (`org/model`), so the whole rest of the path is the id.
    const id = decodeURIComponent((request.params as Record<string, string>)['*'] ?? '');
    return toWireModel(deps.catalog.get(id));
  });
}

async function respond(reply: FastifyReply, requestId: string, payload: unknown, stream: boolean): Promise<unknown> {
  if (stream) {
    await sendEventStream(reply, payload as AsyncIterable<unknown>, { 'x-request-id': requestId });
    return reply;
  }
  return reply.header('x-request-id', requestId).send(payload);
}
