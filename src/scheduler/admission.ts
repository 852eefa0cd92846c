/**
 * Admission: a request is admitted when its estimated wait (eta.ts) on the model asked
 * for, or else on one of its fallbacks, leaves `admissionHeadroom` of its deadline in
 * hand; otherwise it is refused at once with the time after which a request like it would
 * be admitted (the excess wait, which the queue ahead of it needs to drain). Refusing
 * early is what lets Skylark never admit a request and then let it time out.
 */
import { SkylarkError } from '../core/errors.js';
import type { SchedulerConfig } from './config.js';
import type { WaitEstimator } from './eta.js';
import type { ReplicaView } from './router.js';
import type { ModelQueue } from './tiers.js';
import type { WorkItem } from './types.js';

export interface AdmissionContext {
  views(model: string, now: number): ReplicaView[];
  queue(model: string): ModelQueue | undefined;
  /** A replica among `views` could start `item` at once. */
  startsNow(item: WorkItem, model: string, views: readonly ReplicaView[]): boolean;
}

export interface Admitted {
  model: string;
  fallback: boolean;
  deadline: number;
}

const seconds = (ms: number): string => (ms / 1000).toFixed(1);

export class Admission {
  constructor(
    private readonly context: AdmissionContext,
    private readonly eta: WaitEstimator,
    private readonly config: SchedulerConfig,
  ) {}

  admit(item: WorkItem, now: number): Admitted {
    const deadline = item.maxWaitMs ?? this.config.tierMaxWaitMs[item.tier];
    const limit = deadline * (1 - this.config.admissionHeadroom);
    let served = false;
    let shortestExcess = Number.POSITIVE_INFINITY;
    let primaryEta: number | undefined;
    for (const [index, model] of [item.model, ...(item.fallbackModels ?? [])].entries()) {
      const views = this.context.views(model, now).filter((view) => !item.excludeReplicas?.includes(view.state.handle.id));
      if (views.length === 0) continue;
      served = true;
      const eta = this.newEta(item, model, views, now);
      if (eta <= limit) return { model, fallback: index > 0, deadline };
      // Refusing is a promise that the wait would be too long: keep it only once the model's
      // service time has been measured, not on the prior alone (a cold start admits).
      if (index === 0 && this.eta.service.measured(model) < this.config.minMeasuredToRefuse) return { model, fallback: false, deadline };
      primaryEta ??= eta;
      shortestExcess = Math.min(shortestExcess, eta - limit);
    }
    if (!served) throw new SkylarkError('engine_unavailable', `No replica that may take this request serves model ${item.model}.`);
    const message = `Model ${item.model} is at capacity: the expected wait of ${seconds(primaryEta!)} s exceeds this request's limit of ${seconds(deadline)} s.`;
    return this.refuse(message, shortestExcess);
  }

  /** The tenant already has the most requests waiting: it may come back when its first one starts. */
  refuseTenant(item: WorkItem, waiting: number, now: number): never {
    const queue = this.context.queue(item.model);
    const head = queue?.fair[item.tier].tenant(item.tenantId)?.first();
    let eta = 0;
    if (queue !== undefined && head !== undefined) {
      const capacity = this.eta.capacity(item.model, this.context.views(item.model, now), now);
      eta = this.eta.forPosition(queue, item.tier, queue.locate(head), capacity, now);
    }
    return this.refuse(`Tenant has ${waiting} ${item.tier} requests waiting, the most allowed; retry when one has started.`, eta);
  }

  /** The wait a request submitted now would have on `model`. */
  newEta(item: WorkItem, model: string, views: readonly ReplicaView[], now: number): number {
    const startsNow = (): boolean => this.context.startsNow(item, model, views);
    return this.eta.forNew(item, this.context.queue(model), this.eta.capacity(model, views, now), startsNow, now);
  }

  private refuse(message: string, retryAfterMs: number): never {
    throw new SkylarkError('server_overloaded', message, { retryAfterMs: Math.max(this.config.minRetryAfterMs, Math.ceil(retryAfterMs)) });
  }
}
