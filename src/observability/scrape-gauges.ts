/**
 * State read when Prometheus scrapes, not tracked per request: the scheduler's queue
 * snapshot (the one GET /v1/queue serves), each engine's capacity() and health, and the
 * usage writer's queue. Each gauge is reset before it is refilled, so a tier or replica
 * that went away stops being reported instead of freezing at its last value.
 */
import { Gauge } from 'prom-client';
import type { Engine } from '../engines/engine.js';
import type { QueueSnapshot } from '../scheduler/types.js';
import type { SkylarkMetrics } from './metrics.js';

export interface ScrapeSources {
  queue: () => QueueSnapshot;
  engines: () => Iterable<Pick<Engine, 'id' | 'kind' | 'capacity' | 'health'>>;
  /** Usage rows queued, not yet committed. */
  ledgerQueue: () => number;
}

const breakerStates = ['closed', 'open', 'half-open'] as const;
const healthStates = ['loading', 'ready', 'failed'] as const;

export function registerScrapeGauges(metrics: SkylarkMetrics, sources: ScrapeSources): void {
  const registers = [metrics.registry];
  let snapshot: QueueSnapshot | undefined;
  // Prometheus calls every gauge's collect in turn within one scrape: the first takes the
  // snapshot and the others reuse it, so one scrape reads the scheduler once.
  const queue = (): QueueSnapshot => (snapshot ??= sources.queue());
  const fresh = (): QueueSnapshot => {
    snapshot = sources.queue();
    return snapshot;
  };

  new Gauge({
    name: 'skylark_queue_depth',
    help: 'Requests waiting in the scheduler, by model and tier.',
    labelNames: ['model', 'tier'] as const,
    registers,
    collect() {
      this.reset();
      for (const model of fresh().models) for (const tier of model.tiers) this.set({ model: model.model, tier: tier.tier }, tier.depth);
    },
  });
  new Gauge({
    name: 'skylark_queue_oldest_wait_seconds',
    help: 'How long the oldest waiting request of a model and tier has waited.',
    labelNames: ['model', 'tier'] as const,
    registers,
    collect() {
      this.reset();
      for (const model of queue().models) for (const tier of model.tiers) this.set({ model: model.model, tier: tier.tier }, tier.oldestWaitMs / 1000);
    },
  });
  new Gauge({
    name: 'skylark_queue_eta_seconds',
    help: 'The estimated wait of a request of this model and tier sent now (what admission compares with the deadline).',
    labelNames: ['model', 'tier'] as const,
    registers,
    collect() {
      this.reset();
      for (const model of queue().models) for (const tier of model.tiers) this.set({ model: model.model, tier: tier.tier }, tier.etaMs / 1000);
    },
  });
  new Gauge({
    name: 'skylark_replica_breaker_state',
    help: 'Circuit breaker of each replica for each model it serves: 1 for its current state, 0 for the others.',
    labelNames: ['model', 'replica', 'state'] as const,
    registers,
    collect() {
      this.reset();
      for (const model of queue().models) {
        for (const replica of model.replicas) {
          for (const state of breakerStates) this.set({ model: model.model, replica: replica.id, state }, replica.breaker === state ? 1 : 0);
        }
      }
    },
  });

  new Gauge({
    name: 'skylark_replica_slots',
    help: 'Sequences a replica (engine) can run at once, as its capacity() reports.',
    labelNames: ['replica', 'kind'] as const,
    registers,
    collect() {
      this.reset();
      for (const engine of sources.engines()) this.set({ replica: engine.id, kind: engine.kind }, engine.capacity().slots);
    },
  });
  new Gauge({
    name: 'skylark_replica_busy',
    help: 'Sequences running on a replica now.',
    labelNames: ['replica', 'kind'] as const,
    registers,
    collect() {
      this.reset();
      for (const engine of sources.engines()) this.set({ replica: engine.id, kind: engine.kind }, engine.capacity().busy);
    },
  });
  new Gauge({
    name: 'skylark_replica_utilisation',
    help: 'busy / slots of a replica (0 when it has no slots).',
    labelNames: ['replica', 'kind'] as const,
    registers,
    collect() {
      this.reset();
      for (const engine of sources.engines()) {
        const { slots, busy } = engine.capacity();
        this.set({ replica: engine.id, kind: engine.kind }, slots > 0 ? busy / slots : 0);
      }
    },
  });
  new Gauge({
    name: 'skylark_replica_health',
    help: 'Engine state: 1 for its current state (loading, ready, failed), 0 for the others.',
    labelNames: ['replica', 'state'] as const,
    registers,
    collect() {
      this.reset();
      for (const engine of sources.engines()) {
        const current = engine.health().state;
        for (const state of healthStates) this.set({ replica: engine.id, state }, current === state ? 1 : 0);
      }
    },
  });
  new Gauge({
    name: 'skylark_ledger_write_queue_length',
    help: 'Usage rows queued for the ledger and not yet committed.',
    registers,
    collect() {
      this.set(sources.ledgerQueue());
    },
  });
}
