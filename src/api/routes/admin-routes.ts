import type { FastifyInstance } from 'fastify';
import type { GatewayDeps } from '../../gateway/request-context.js';
import type { InFlightRequests } from '../in-flight.js';

export function registerAdminRoutes(app: FastifyInstance, deps: GatewayDeps, inFlight: InFlightRequests): void {
  /** Engines behind each model: health and slot use, for operators and the console. */
  app.get('/admin/engines', async () => {
    const seen = new Set<string>();
    const engines = [];
    for (const entry of deps.catalog.list()) {
      if (seen.has(entry.engine.id)) continue;
      seen.add(entry.engine.id);
      engines.push({
        id: entry.engine.id,
        kind: entry.engine.kind,
        models: deps.catalog.list().filter((m) => m.engine === entry.engine).map((m) => m.id),
        health: entry.engine.health(),
        capacity: entry.engine.capacity(),
      });
    }
    return { object: 'list', data: engines, in_flight_requests: inFlight.count };
  });
}
