import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { principalOf } from '../principal.js';
import { chatCompletionOrContext } from '../../gateway/context-cache.js';
import { createCompletion } from '../../gateway/completion.js';
import { createEmbeddings } from '../../gateway/embeddings.js';
import { toWireModel } from '../../gateway/model-catalog.js';
import type { GatewayDeps, RequestContext } from '../../gateway/request-context.js';
import type { InFlightRequests } from '../in-flight.js';
import { openAIFormat, sendEventStream, type EventFormat } from '../sse.js';
import { SkylarkError } from '../../core/errors.js';

type UseCaseResult<Chunk> = { stream: true; chunks: AsyncIterable<Chunk> } | { stream: false; body: unknown };

/** How one API writes what a generation use case returns. */
export interface GenerationRoute<Chunk> {
  /** How streamed events are written (default: OpenAI's `data:` lines and `[DONE]`). */
  format?: (context: RequestContext) => EventFormat;
  /** Headers beside `x-request-id` on every answer, errors included. */
  headers?: (context: RequestContext) => Record<string, string>;
  /** Wraps the event stream before it is written (a heartbeat, say). */
  stream?: (chunks: AsyncIterable<Chunk>) => AsyncIterable<Chunk>;
}

/** Runs one generation use case as a tracked request and sends its JSON or event stream. */
export function generationHandler<Chunk>(
  deps: GatewayDeps,
  inFlight: InFlightRequests,
  useCase: (deps: GatewayDeps, body: unknown, context: RequestContext, request: FastifyRequest) => Promise<UseCaseResult<Chunk>>,
  route: GenerationRoute<Chunk> = {},
) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const context = inFlight.begin(reply, principalOf(request));
    const headers = () => ({ ...context.responseHeaders, 'x-request-id': context.requestId, ...route.headers?.(context) });
    try {
      context.maxWaitMs = maxWaitOf(request);
      const clientRequestId = request.headers['x-client-request-id'];
      if (typeof clientRequestId === 'string' && /^[\w.:-]{1,128}$/.test(clientRequestId)) context.clientRequestId = clientRequestId;
      const result = await useCase(deps, request.body, context, request);
      if (result.stream) {
        const chunks = route.stream ? route.stream(result.chunks) : result.chunks;
        await sendEventStream(reply, chunks, headers(), route.format?.(context) ?? openAIFormat);
        return reply;
      }
      return reply.headers(headers()).send(result.body);
    } catch (error) {
      // Errors (429 above all) carry the rate-limit state too; the error handler sends them.
      reply.headers(headers());
      throw error;
    } finally {
      context.end();
    }
  };
}

export function registerOpenAIRoutes(app: FastifyInstance, deps: GatewayDeps, inFlight: InFlightRequests): void {
  const generation = <Chunk>(useCase: Parameters<typeof generationHandler<Chunk>>[2]) => generationHandler(deps, inFlight, useCase);

  // With `context_id`: on a cached context (gateway/context-cache.ts, routes in context-routes.ts).
  app.post('/v1/chat/completions', generation(chatCompletionOrContext));
  app.post('/v1/completions', generation(createCompletion));
  app.post(
    '/v1/embeddings',
    generation(async (gateway, body, context) => ({ stream: false, body: await createEmbeddings(gateway, body, context) })),
  );

  /** A waiting request's place in line; only its own tenant may ask. */
  app.get('/v1/queue/:requestId', async (request) => {
    const { requestId } = request.params as { requestId: string };
    const principal = principalOf(request);
    const position = await deps.dispatch.positionAnywhere(requestId, principal.tenantId, principal.operator);
    if (!position) throw new SkylarkError('not_found', `No request '${requestId}' of yours is waiting.`, { param: 'request_id' });
    const range = position.etaLowMs === undefined || position.etaHighMs === undefined ? {} : { eta_low_ms: position.etaLowMs, eta_high_ms: position.etaHighMs };
    return { object: 'queue.position', request_id: requestId, status: 'waiting', position: position.position, eta_ms: Math.round(position.etaMs), ...range };
  });

  /** Depth and wait per model and tier: what a client needs to decide whether to send now. */
  app.get('/v1/queue', async () => ({ object: 'queue.snapshot', ...deps.dispatch.snapshot() }));

  app.get('/v1/models', async () => ({ object: 'list', data: deps.catalog.list().map(toWireModel) }));

  app.get('/v1/models/*', async (request) => {
    // Model ids may contain slashes (`org/model`), so the whole rest of the path is the id.
    const id = decodeURIComponent((request.params as Record<string, string>)['*'] ?? '');
    return toWireModel(deps.catalog.get(id));
  });
}

/** `x-skylark-max-wait-ms`: the longest this client will wait for a replica before its first token. */
export function maxWaitOf(request: FastifyRequest): number | undefined {
  const header = request.headers['x-skylark-max-wait-ms'];
  if (header === undefined) return undefined;
  const value = Number(header);
  if (!Number.isInteger(value) || value < 0) {
    throw new SkylarkError('invalid_request', 'x-skylark-max-wait-ms must be a whole number of milliseconds.', {
      param: 'x-skylark-max-wait-ms',
    });
  }
  return value;
}
