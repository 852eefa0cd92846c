import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { FastifyBaseLogger } from 'fastify';
import { SkylarkError } from '../core/errors.js';
import type { ServerDeps } from './server-deps.js';
import { attachPrincipal } from './principal.js';
import { logIfInternal, sendError, toApiError } from './error-reply.js';
import { InFlightRequests } from './in-flight.js';
import { registerHealthRoutes } from './routes/health-routes.js';
import { registerOpenAIRoutes } from './routes/openai-routes.js';
import { registerAnthropicRoutes } from './routes/anthropic-routes.js';
import { registerResponsesRoutes } from './routes/responses-routes.js';
import { registerContextRoutes } from './routes/context-routes.js';
import { registerMediaRoutes } from './routes/media-routes.js';
import { registerAdminRoutes } from './routes/admin-routes.js';
import { registerAdminBillingRoutes } from './routes/admin-billing-routes.js';
import { registerAdminTenancyRoutes } from './routes/admin-tenancy-routes.js';
import { registerTenantRoutes } from './routes/tenant-routes.js';
import { registerDocs } from './openapi.js';
import { registerConsumerApi, type ConsumerApiOptions } from './consumer-api.js';
import { registerWebApp } from './routes/web-routes.js';
import { newId } from '../core/ids.js';
import { observeHttp, registerMetricsRoute, type Observability } from './observe-http.js';
import { registerBatchRoutes, type BatchApi } from './routes/batch-routes.js';

export interface ServerOptions {
  deps: ServerDeps;
  bodyLimitBytes: number;
  logger: FastifyBaseLogger;
  /** The web app's /api; absent, only the gateway's routes exist. */
  consumer?: ConsumerApiOptions;
  /** The built web app to serve at `/`. */
  webRoot?: string | undefined;
  /** Prometheus metrics (`GET /metrics`, admin key) and OpenTelemetry spans, each when present. */
  observability?: Observability;
  /** The Files and Batch APIs; absent, those routes do not exist. */
  batch?: BatchApi;
}

export interface SkylarkServer {
  app: FastifyInstance;
  inFlight: InFlightRequests;
}

export function buildServer(options: ServerOptions): SkylarkServer {
  const app = Fastify({
    loggerInstance: options.logger,
    // One access line per generation comes from the usage sink; Fastify's two lines per
    // request would double the logging cost on the hot path.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimitBytes,
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    requestIdHeader: false,
    // The request's id is the one the client sees in x-request-id and the ledger keeps, so
    // every log line of a request (`reqId`) can be matched with both.
    genReqId: () => newId('req').slice(4),
  });
  // The API takes JSON only; a text/plain body is a client mistake worth a 415, not a 400.
  app.removeContentTypeParser('text/plain');
  const inFlight = new InFlightRequests();
  attachPrincipal(app, options.deps);
  const observer = observeHttp(app, options.deps, options.observability ?? {});

  app.setErrorHandler((error, request, reply) => {
    const apiError = toApiError(error);
    logIfInternal(request, apiError, error);
    observer.onError(request, apiError);
    return sendError(reply, apiError);
  });

  app.setNotFoundHandler((request, reply) =>
    sendError(
      reply,
      new SkylarkError('not_found', `Unknown request URL: ${request.method} ${request.url.split('?')[0]}.`),
    ),
  );

  // Before the routes: the docs record every route declared after this (their document and
  // Swagger UI are built on the first /docs request).
  registerDocs(app);
  app.register(async (routes) => {
    registerHealthRoutes(routes, options.deps);
    registerOpenAIRoutes(routes, options.deps, inFlight);
    registerAnthropicRoutes(routes, options.deps, inFlight, observer);
    registerResponsesRoutes(routes, options.deps, inFlight);
    registerContextRoutes(routes, options.deps, inFlight);
    registerMediaRoutes(routes, options.deps, inFlight);
    registerTenantRoutes(routes, options.deps);
    registerAdminRoutes(routes, options.deps, inFlight);
    registerAdminTenancyRoutes(routes, options.deps);
    registerAdminBillingRoutes(routes, options.deps);
    if (options.batch) registerBatchRoutes(routes, options.batch);
    if (options.consumer) registerConsumerApi(routes, options.consumer);
    if (options.observability?.metrics) registerMetricsRoute(routes, options.deps, options.observability.metrics);
    registerWebApp(routes, options.webRoot);
  });
  return { app, inFlight };
}
