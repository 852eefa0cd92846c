/**
 * The HTTP side of observability: one counter and one histogram observation per response
 * (in onResponse, which fires for streams too once their last byte is written), early
 * rejections counted where errors become responses, a span per generation when tracing is
 * on, and `GET /metrics`.
 */
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { SkylarkError, type ErrorCode } from '../core/errors.js';
import type { GatewayDeps } from '../gateway/request-context.js';
import type { RejectionReason, SkylarkMetrics } from '../observability/metrics.js';
import type { FinishedRequest, RequestTracer } from '../observability/tracing.js';
import { principalOf } from './principal.js';

export interface Observability {
  metrics?: SkylarkMetrics | undefined;
  tracer?: RequestTracer | undefined;
}

const operations: Record<string, FinishedRequest['operation']> = {
  '/v1/chat/completions': 'chat',
  '/v1/completions': 'text_completion',
  '/v1/embeddings': 'embeddings',
  '/v1/messages': 'chat',
  '/v1/responses': 'chat',
};

const rejections: Partial<Record<ErrorCode, (error: SkylarkError) => RejectionReason>> = {
  // The scheduler says which refusal it is only in words; the two messages are its own (admission.ts).
  server_overloaded: (error) => (error.message.startsWith('Tenant has') ? 'tenant_queue_full' : 'queue_wait'),
  engine_unavailable: (error) => (error.message.startsWith('No replica') ? 'no_replica' : 'engine_unavailable'),
  rate_limit_exceeded: () => 'rate_limited',
  insufficient_quota: () => 'insufficient_quota',
};

export interface HttpObserver {
  /** Called by the error handler with the error a request is answered with. */
  onError(request: FastifyRequest, error: SkylarkError): void;
}

export function observeHttp(app: FastifyInstance, deps: GatewayDeps, observability: Observability): HttpObserver {
  const { metrics, tracer } = observability;
  const known = new Set(deps.catalog.list().map((entry) => entry.id));
  // Model ids from the request body become label values only when they are ours: a client
  // must not be able to mint series. Endpoints and app models are counted as their kind.
  const modelLabel = (request: FastifyRequest): string => {
    const model = (request.body as { model?: unknown } | undefined)?.model;
    if (typeof model !== 'string') return '';
    if (known.has(model)) return model;
    if (model.startsWith('ep-')) return 'ep-*';
    if (model.startsWith('app:')) return 'app:*';
    return '';
  };
  const errorCodes = new WeakMap<FastifyRequest, string>();

  if (metrics) {
    app.addHook('onResponse', (request, reply, done) => {
      metrics.httpResponse(request.routeOptions.url ?? 'unmatched', modelLabel(request), reply.statusCode, reply.elapsedTime / 1000);
      done();
    });
  }
  if (tracer) {
    app.addHook('onRequest', (request, reply, done) => {
      const operation = request.routeOptions.url === undefined ? undefined : operations[request.routeOptions.url];
      if (operation === undefined || request.method !== 'POST') return done();
      const startedAt = Date.now();
      tracer.begin(request.id);
      // 'close' fires for every response, finished or cut off, streams included.
      reply.raw.once('close', () =>
        tracer.finish({
          requestId: request.id,
          operation,
          body: request.body,
          startedAt,
          status: reply.raw.statusCode,
          errorCode: errorCodes.get(request),
          headers: request.headers,
          serverAddress: request.hostname,
          serverPort: request.port ?? undefined,
        }),
      );
      done();
    });
  }

  return {
    onError(request, error) {
      if (tracer) errorCodes.set(request, error.code);
      const reason = rejections[error.code]?.(error);
      if (!metrics || reason === undefined || operations[request.routeOptions.url ?? ''] === undefined) return;
      let tier = '';
      try {
        tier = principalOf(request).tier;
      } catch {
        // unauthenticated: no tier
      }
      metrics.rejections.inc({ model: modelLabel(request), tier, reason });
    },
  };
}

/** `GET /metrics` for the operator's key, on the API's own port. */
export function registerMetricsRoute(app: FastifyInstance, deps: GatewayDeps, metrics: SkylarkMetrics): void {
  const schema = {
    summary: 'Prometheus metrics (text format 0.0.4)',
    description: 'The operator key only. `server.metricsPort` / `--metrics-port` serves the same without a key on a port of its own. Names and labels: docs/deploy.md.',
    tags: ['admin'],
  };
  app.get('/metrics', { schema }, async (request, reply) => {
    const principal = await deps.access.authenticate(request.headers.authorization);
    if (!principal.operator) throw new SkylarkError('permission_denied', 'Metrics need the operator key.');
    const { contentType, body } = await metrics.render();
    return reply.type(contentType).send(body);
  });
}

/** A listener of its own for Prometheus (server.metricsPort): /metrics with no key, nothing else. */
export function buildMetricsServer(metrics: SkylarkMetrics): FastifyInstance {
  const app = Fastify({ logger: false, forceCloseConnections: true });
  app.get('/metrics', async (_request, reply) => {
    const { contentType, body } = await metrics.render();
    return reply.type(contentType).send(body);
  });
  return app;
}
