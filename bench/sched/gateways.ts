/**
 * bench:sched --gateways N: N gateways in front of the same simulated replicas, each
 * arrival sent to one of them as a load balancer would (round robin, or at random).
 *
 * Every gateway sees a replica as it sees a remote (OpenAI-compatible) engine, the only
 * kind shared scheduling shares: the slots it was configured with, and as busy only the
 * requests it sent there itself; no KV report. The variants:
 *  - single: one gateway (then its own count is everyone's);
 *  - independent: N Skylark schedulers, each sure it owns every slot — today's behaviour
 *    without REDIS_URL; together they give a replica up to N times its slots;
 *  - shared: N gateways whose requests run only when the global line grants a slot lease
 *    (shared-gateways.ts, over the in-process model of the Redis scripts in shared-line.ts).
 */
import type { Clock } from '../../src/core/clock.js';
import { createScheduler, resolveConfig, type ManagedScheduler, type SchedulerConfigOverrides } from '../../src/scheduler/index.js';
import type { ReplicaHandle } from '../../src/scheduler/types.js';
import { schedulerFront, type Front } from './front.js';
import { substream } from './random.js';
import { SharedGateways } from './shared-gateways.js';

export type GatewayVariant = 'shared' | 'independent' | 'single';
export const gatewayVariants: readonly GatewayVariant[] = ['shared', 'independent', 'single'];
export type GatewaySplit = 'round-robin' | 'random';

export interface GatewaySetup {
  variant: GatewayVariant;
  /** Gateways of the shared and independent variants (single: 1). */
  count: number;
  split: GatewaySplit;
}

export interface GatewayContext {
  clock: Clock;
  replicaIds: readonly string[];
  model: string;
  slots: number;
  seed: number;
  config: SchedulerConfigOverrides | undefined;
}

/** A remote engine as one gateway sees it: configured slots, busy = its own grants (the scheduler adds those). */
function ownView(context: GatewayContext): ReplicaHandle[] {
  return context.replicaIds.map((id) => ({ id, models: [context.model], load: () => ({ slots: context.slots, busy: 0 }) }));
}

function skylark(context: GatewayContext): ManagedScheduler {
  return createScheduler({ clock: context.clock, replicas: ownView(context), policy: 'skylark', ...(context.config ? { config: context.config } : {}) });
}

/** Which gateway the load balancer sends each arrival to. */
export function splitter(split: GatewaySplit, count: number, seed: number): () => number {
  if (split === 'random') {
    const random = substream(seed, 'gateway-split');
    return () => Math.floor(random() * count);
  }
  let next = 0;
  return () => next++ % count;
}

export function gatewayFront(setup: GatewaySetup, context: GatewayContext): Front {
  const count = setup.variant === 'single' ? 1 : setup.count;
  const pick = splitter(setup.split, count, context.seed);
  const schedulers = Array.from({ length: count }, () => skylark(context));
  if (setup.variant === 'shared') {
    return new SharedGateways(context.clock, schedulers, pick, {
      model: context.model,
      candidates: context.replicaIds.map((id) => ({ id, slots: context.slots })),
      config: resolveConfig(context.config),
    });
  }
  return independent(schedulers.map(schedulerFront), pick);
}

/** Each request stays with the gateway that received it; nothing is shared. */
function independent(gateways: Front[], pick: () => number): Front {
  const owner = new Map<string, Front>();
  const of = (id: string): Front | undefined => owner.get(id);
  return {
    submit(item, callbacks) {
      const gateway = gateways[pick()]!;
      gateway.submit(item, callbacks);
      owner.set(item.requestId, gateway);
    },
    complete(id, outcome) {
      of(id)?.complete(id, outcome);
      owner.delete(id);
    },
    cancel(id) {
      of(id)?.cancel(id);
      owner.delete(id);
    },
    position: (id) => of(id)?.position(id),
    toldOnArrival: (id) => of(id)?.toldOnArrival(id),
    pump: () => gateways.forEach((gateway) => gateway.pump()),
    nextWakeAt() {
      let wake: number | undefined;
      for (const gateway of gateways) {
        const at = gateway.nextWakeAt();
        if (at !== undefined && (wake === undefined || at < wake)) wake = at;
      }
      return wake;
    },
  };
}
