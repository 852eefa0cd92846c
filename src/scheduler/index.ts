/**
 * The scheduler room: who is served next, where, and who is told to come back later.
 * `createScheduler` builds any policy behind the same contract (types.ts).
 */
import type { Clock } from '../core/clock.js';
import { resolveConfig, type SchedulerConfigOverrides } from './config.js';
import { ImmediateScheduler } from './immediate-scheduler.js';
import type { ManagedScheduler, PolicyName } from './managed.js';
import { cacheAware, leastRequest, roundRobin, simpleShuffle } from './policies.js';
import { SkylarkScheduler } from './skylark-scheduler.js';
import type { ReplicaHandle } from './types.js';

export interface CreateSchedulerOptions {
  clock: Clock;
  replicas: readonly ReplicaHandle[];
  /** Default `skylark`. */
  policy?: PolicyName;
  /** Overrides of `defaultSchedulerConfig` (a Partial<SchedulerConfig> will do). */
  config?: SchedulerConfigOverrides;
  /** For the `random` policy; seed it for reproducible runs. Default Math.random. */
  random?: () => number;
}

export function createScheduler(options: CreateSchedulerOptions): ManagedScheduler {
  const config = resolveConfig(options.config);
  const policy = options.policy ?? 'skylark';
  switch (policy) {
    case 'skylark':
      return new SkylarkScheduler(options.clock, options.replicas, config);
    case 'naive':
      return new ImmediateScheduler(policy, options.clock, options.replicas, roundRobin(), config);
    case 'random':
      return new ImmediateScheduler(policy, options.clock, options.replicas, simpleShuffle(options.random ?? Math.random), config);
    case 'least-request':
      return new ImmediateScheduler(policy, options.clock, options.replicas, leastRequest(), config);
    case 'cache-aware':
      return new ImmediateScheduler(policy, options.clock, options.replicas, cacheAware(config.cacheAware), config);
  }
}

export { defaultSchedulerConfig, resolveConfig, type SchedulerConfig, type SchedulerConfigOverrides } from './config.js';
export { policyNames, type ManagedScheduler, type PolicyName } from './managed.js';
export * from './types.js';
