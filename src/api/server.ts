import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { FastifyBaseLogger } from 'fastify';
import { SkylarkError } from '../core/errors.js';
import type { GatewayDeps } from '../gateway/request-context.js';
import { attachPrincipal } from './principal.js';
import { logIfInternal, sendError, toApiError } from './error-reply.js';
import { InFlightRequests } from './in-flight.js';
import { registerHealthRoutes } from './routes/health-routes.js';
import { registerOpenAIRoutes } from './routes/openai-routes.js';
import { registerAdminRoutes } from './routes/admin-routes.js';

export interface ServerOptions {
  deps: GatewayDeps;
  bodyLimitBytes: number;
  logger: FastifyBaseLogger;
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
  });
  // The API takes JSON only; a text/plain body is a client mistake worth a 415, not a 400.
  app.removeContentTypeParser('text/plain');
  const inFlight = new InFlightRequests();
  attachPrincipal(app, options.deps);

  app.setErrorHandler((error, request, reply) => {
    const apiError = toApiError(error);
    logIfInternal(request, apiError, error);
    return sendError(reply, apiError);
  });

  app.setNotFoundHandler((request, reply) =>
    sendError(
      reply,
      new SkylarkError('not_found', `Unknown request URL: ${request.method} ${request.url.split('?')[0]}.`),
    ),
  );

  registerHealthRoutes(app, options.deps);
  registerOpenAIRoutes(app, options.deps, inFlight);
  registerAdminRoutes(app, options.deps, inFlight);
  return { app, inFlight };
}
