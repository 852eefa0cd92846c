/**
 * The web app's API under /api: cookies, the end user of each request, CSRF checks, and
 * its routes, in a plugin of their own so none of it touches /v1 or /admin.
 */
import cookie from '@fastify/cookie';
import type { FastifyInstance } from 'fastify';
import type { ConsumerDeps } from '../consumer/consumer-deps.js';
import { attachEndUser } from './end-user-session.js';
import { registerAppRoutes } from './routes/app-routes.js';
import { registerAppMediaRoutes } from './routes/app-media-routes.js';
import { registerAuthRoutes } from './routes/auth-routes.js';
import { registerConversationRoutes } from './routes/conversation-routes.js';

export interface ConsumerApiOptions {
  deps: ConsumerDeps;
  /** How long replies being written may finish at shutdown before they are stopped. */
  shutdownGraceMs: number;
}

export function registerConsumerApi(app: FastifyInstance, options: ConsumerApiOptions): void {
  app.register(async (scope) => {
    await scope.register(cookie);
    attachEndUser(scope, options.deps);
    registerAuthRoutes(scope, options.deps);
    registerAppRoutes(scope, options.deps);
    registerConversationRoutes(scope, options.deps);
    registerAppMediaRoutes(scope, options.deps);
  });
  // Replies are not HTTP requests, so the server's in-flight drain does not see them.
  app.addHook('preClose', async () => {
    await options.deps.runs.drain(options.shutdownGraceMs);
    await options.deps.relay.close(); // after the drain: the runs' ends are relayed
  });
}
