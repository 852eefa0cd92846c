/**
 * The dispatch of one gateway: the scheduler over this process's engines (each engine a
 * replica of the models it serves), and, when Redis is shared (REDIS_URL), the global
 * line and slot leases every gateway schedules through (gateway/shared-scheduling/).
 */
import type { Logger } from 'pino';
import type { SkylarkConfig } from '../config/config-schema.js';
import { systemClock } from '../core/clock.js';
import type { Engine } from '../engines/engine.js';
import { Dispatch, engineReplica } from '../gateway/dispatch.js';
import type { ModelEntry } from '../gateway/model-catalog.js';
import { RedisSlotLeases } from '../gateway/shared-scheduling/redis-slot-leases.js';
import { SharedDispatch } from '../gateway/shared-scheduling/shared-dispatch.js';
import { RedisSharedPositions } from '../gateway/shared-scheduling/shared-positions.js';
import { createScheduler, defaultSchedulerConfig, resolveConfig, type SchedulerConfigOverrides } from '../scheduler/index.js';
import type { SharedRedis } from '../store/redis.js';

export interface OpenedDispatch {
  dispatch: Dispatch;
  close(): Promise<void>;
}

export async function openDispatch(
  engines: ReadonlyMap<string, Engine>,
  entries: readonly ModelEntry[],
  options: SkylarkConfig['scheduler'],
  shared: { redis: SharedRedis | undefined; owner: string; logger: Logger },
): Promise<OpenedDispatch> {
  const replicas = [...engines.values()].map((engine) =>
    engineReplica(engine, entries.filter((entry) => entry.replicas.includes(engine)).map((entry) => entry.id)),
  );
  const overrides: SchedulerConfigOverrides = {
    // A place in line at most once a second per waiting stream: enough to watch, cheap to send.
    progressMinIntervalMs: 1000,
    // Models here are anything from a tiny CPU model to a 70B cluster: no prior fits all,
    // so nothing is refused for a long wait until a model's service time has been measured.
    minMeasuredToRefuse: options.minMeasuredToRefuse,
    ...(options.tierMaxWaitMs ? { tierMaxWaitMs: { ...defaultSchedulerConfig.tierMaxWaitMs, ...options.tierMaxWaitMs } } : {}),
    ...(options.maxQueuedPerTenant ? { maxQueuedPerTenant: options.maxQueuedPerTenant } : {}),
    ...(options.batchPreemption === undefined ? {} : { batchPreemption: options.batchPreemption }),
    ...(options.batchPreemptMinRunMs === undefined ? {} : { batchPreemptMinRunMs: options.batchPreemptMinRunMs }),
    ...(options.batchSlotReserve === undefined ? {} : { batchSlotReserve: options.batchSlotReserve }),
  };
  const scheduler = createScheduler({ clock: systemClock, replicas, policy: options.policy, config: overrides });
  if (shared.redis === undefined) {
    const dispatch = watchingExternalLoad(new Dispatch(scheduler, engines, systemClock), engines);
    return { dispatch, close: async () => dispatch.close() };
  }
  const config = resolveConfig(overrides);
  const onError = (error: unknown) => shared.logger.warn({ err: error }, 'shared scheduling: redis call failed');
  const leases = await RedisSlotLeases.start(shared.redis, { owner: shared.owner, tierWeights: config.tierWeights, onError });
  // Remote upstreams are the same engines for every gateway; in-process ones are this gateway's own.
  const sharedIds = new Set([...engines.values()].filter((engine) => remoteKinds.has(engine.kind)).map((engine) => engine.id));
  const positions = new RedisSharedPositions(shared.redis, { owner: shared.owner, onError });
  const dispatch = watchingExternalLoad(new SharedDispatch(scheduler, engines, systemClock, leases, { replicas, shared: sharedIds, config, onError, positions }), engines);
  return {
    dispatch,
    close: async () => {
      dispatch.close();
      await leases.close();
    },
  };
}

/** Engine kinds that are servers elsewhere: every gateway reaches the same ones. */
const remoteKinds = new Set(['openai-compatible', 'anthropic']);

/** How often waiting requests look again at engines whose load is scraped from their metrics. */
const externalLoadPollMs = 200;

function watchingExternalLoad<D extends Dispatch>(dispatch: D, engines: ReadonlyMap<string, Engine>): D {
  if ([...engines.values()].some((engine) => engine.capacity().reported !== undefined)) dispatch.watchExternalLoad(externalLoadPollMs);
  return dispatch;
}
