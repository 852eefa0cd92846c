import type { FastifyInstance } from 'fastify';
import type { GatewayDeps } from '../../gateway/request-context.js';

export function registerHealthRoutes(app: FastifyInstance, deps: GatewayDeps): void {
  /** Liveness: the process answers. */
  app.get('/healthz', async () => ({ status: 'ok' }));

  /** Readiness: every configured engine has loaded and can serve. */
  app.get('/readyz', async (_request, reply) => {
    const engines = deps.catalog.list().map((entry) => ({ model: entry.id, ...entry.engine.health() }));
    const ready = engines.every((engine) => engine.state === 'ready');
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', engines });
  });
}
