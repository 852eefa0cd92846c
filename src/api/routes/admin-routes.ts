import type { FastifyInstance } from 'fastify';
import type { ServerDeps } from '../server-deps.js';
import { getEconomics } from '../../accounts/economics.js';
import type { InFlightRequests } from '../in-flight.js';

export function registerAdminRoutes(app: FastifyInstance, deps: ServerDeps, inFlight: InFlightRequests): void {
  /** GPU cost against token revenue, per day and model (issue 4's economics). */
  app.get('/admin/economics', async (request) => getEconomics(deps.accounts.ledger.db, deps.clock, deps.replicaCosts, request.query));

  /** The scheduler's queues: depth and wait per model and tier, replicas and their breakers. */
  app.get('/admin/queue', async () => ({ object: 'queue.snapshot', ...deps.dispatch.snapshot() }));

  /** Engines behind each model: health and slot use, for operators and the console. */
  app.get('/admin/engines', async () => {
    const seen = new Set<string>();
    const engines = [];
    // Every replica of every model, once (a model served by several lists each).
    for (const engine of deps.catalog.list().flatMap((entry) => entry.replicas)) {
      if (seen.has(engine.id)) continue;
      seen.add(engine.id);
      engines.push({
        id: engine.id,
        kind: engine.kind,
        models: deps.catalog.list().filter((m) => m.replicas.includes(engine)).map((m) => m.id),
        health: engine.health(),
        capacity: engine.capacity(),
      });
    }
    return { object: 'list', data: engines, in_flight_requests: inFlight.count };
  });
}
