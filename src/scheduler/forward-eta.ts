/**
 * The forward-simulation ETA (grant-sim.ts) fed from what the scheduler knows: the grants
 * running on each replica (their age and the KV they hold), each replica's free slots and
 * KV room, the durations of completed grants per tier, the mean KV a grant takes, and how
 * often later arrivals have overtaken a waiting request of each tier.
 *
 * Overtaking: a request told it has `ahead` grants before it is granted after more than
 * that when higher tiers (or lighter tenants lifted ahead) arrive meanwhile. Their rate is
 * measured, per tier (and per tenant once it has enough requests: a backlogged tenant is
 * overtaken by lighter ones, a light one is not), as the grants beyond `ahead` a request
 * saw per ms it waited, a ratio of decayed sums; over the wait expected, they take that
 * many grants before it. Nothing here is fitted to a workload.
 */
import { Ewma } from './estimator.js';
import { DurationSample, GrantTimeline, type SimReplica } from './grant-sim.js';
import type { Tier } from './types.js';

/** Step of the simulation (ms): finer than the waits it predicts (≥ 100 ms matter), coarse enough to be cheap. */
const stepMs = 10;
/** Steps simulated at most: beyond 6 s the estimate is left to the others (eta.ts, delay-history.ts). */
const maxSteps = 600;
/**
 * Cohort-steps one timeline may walk (each a few ns). bench:sched's flood 2× holds ~480
 * cohorts over its 4 replicas (~545 sequences running), so this reaches ~4 s ahead there.
 */
const maxWork = 200_000;
/** Durations measured before a tier's own survival is used (else all interactive tiers'). */
const tierMinSamples = 64;
const modelMinSamples = 16;
/** Requests the overtaking rate is averaged over. */
const overtakeHorizon = 256;

export interface RunningGrant {
  readonly grantedAt: number;
  readonly kv: number;
  readonly tier: Tier;
}

export interface ReplicaNow {
  readonly slotsFree: number;
  readonly kvRoom: number;
  readonly running: readonly RunningGrant[];
}

interface Overtakes {
  grants: number;
  waitMs: number;
  /** Requests measured (decayed like the sums). */
  weight: number;
}

/** Requests of a tenant measured before its own overtaking rate is used rather than its tier's. */
const tenantMinWeight = 8;
const tenantHorizon = 64;

interface ModelRecord {
  readonly tiers: Map<Tier, DurationSample>;
  /** Every interactive tier's durations: the fallback, and the survival of what the simulation grants. */
  readonly interactive: DurationSample;
  readonly need: Ewma;
  /** Per tier, and per tier and tenant (a backlogged tenant is overtaken by lighter ones, a light one is not). */
  readonly overtakes: Map<string, Overtakes>;
  /** Grants and ends so far: a timeline is valid while neither changes and time stands still. */
  version: number;
  cached?: { version: number; at: number; timeline: GrantTimeline | undefined };
}

export class ForwardEta {
  private readonly models = new Map<string, ModelRecord>();

  constructor(private readonly ewmaAlpha: number) {}

  /** A grant of `model` taking `kv` tokens of KV. */
  granted(model: string, kv: number): void {
    const record = this.record(model);
    record.need.add(kv);
    record.version++;
  }

  /** A grant of `model` ended; `durationMs` when it completed normally (a measured duration). */
  ended(model: string, tier: Tier, durationMs?: number): void {
    const record = this.record(model);
    record.version++;
    if (durationMs === undefined) return;
    this.sample(record, tier).add(durationMs);
    if (tier !== 'batch') record.interactive.add(durationMs);
  }

  /** A request of `tier` from `tenantId`, told `ahead` were before it, was granted after `waitMs` with `grants` of the model's grants between. */
  waited(model: string, tier: Tier, tenantId: string, ahead: number, grants: number, waitMs: number): void {
    const record = this.record(model);
    const overtook = Math.max(0, grants - ahead);
    for (const [key, horizon] of [[tier, overtakeHorizon], [`${tier}\u0000${tenantId}`, tenantHorizon]] as const) {
      let o = record.overtakes.get(key);
      if (o === undefined) {
        o = { grants: 0, waitMs: 0, weight: 0 };
        record.overtakes.set(key, o);
      }
      const keep = 1 - 1 / horizon;
      o.grants = o.grants * keep + overtook;
      o.waitMs = o.waitMs * keep + waitMs;
      o.weight = o.weight * keep + 1;
    }
  }

  /**
   * ms until a request of `tier` from `tenantId` is granted, with `ahead` grants before it
   * now and `needKv` of KV to find, expected to wait about `waitMs` (the paced estimate:
   * eta.ts); undefined while too little is measured or beyond the horizon. `replicas` is
   * read only when the timeline must be recomputed.
   *
   * The overtakers are counted over `waitMs`, not solved for with the simulation's own
   * answer: in overload they take about half of the grants (bench:sched, flood 2×), so a
   * fixed point W = T(ahead + λ·W) multiplies any error of the timeline by about 2.
   */
  estimate(model: string, item: { tier: Tier; tenantId: string; needKv: number }, ahead: number, waitMs: number, now: number, replicas: () => readonly ReplicaNow[]): number | undefined {
    const record = this.models.get(model);
    if (record === undefined || record.interactive.count < modelMinSamples) return undefined;
    const cached = record.cached;
    let timeline: GrantTimeline | undefined;
    if (cached !== undefined && cached.version === record.version && cached.at === now) timeline = cached.timeline;
    else {
      timeline = this.simulate(record, replicas(), now);
      record.cached = { version: record.version, at: now, timeline };
    }
    if (timeline === undefined) return undefined;
    const own = record.overtakes.get(`${item.tier}\u0000${item.tenantId}`);
    const o = own !== undefined && own.weight >= tenantMinWeight ? own : record.overtakes.get(item.tier);
    const overtakers = o !== undefined && o.waitMs > 0 ? (o.grants / o.waitMs) * waitMs : 0;
    const size = timeline.need > 0 ? Math.max(1, item.needKv / timeline.need) : 1;
    return timeline.grantAt(Math.max(1, Math.ceil(ahead + overtakers + size)));
  }

  private simulate(record: ModelRecord, now: readonly ReplicaNow[], at: number): GrantTimeline | undefined {
    if (record.need.count === 0) return undefined;
    const interactive = record.interactive.survival();
    const survivals = new Map<Tier, Float64Array>();
    const survivalOf = (tier: Tier): Float64Array => {
      let s = survivals.get(tier);
      if (s === undefined) {
        const own = record.tiers.get(tier);
        s = own !== undefined && own.count >= tierMinSamples ? own.survival() : interactive;
        survivals.set(tier, s);
      }
      return s;
    };
    const replicas: SimReplica[] = now.map((replica) => ({
      slotsFree: replica.slotsFree,
      kvRoom: replica.kvRoom,
      running: replica.running.map((g) => ({ ageMs: at - g.grantedAt, kv: g.kv, survival: survivalOf(g.tier) })),
    }));
    return new GrantTimeline({ stepMs, maxSteps, maxWork, replicas, need: record.need.value, survival: interactive });
  }

  private sample(record: ModelRecord, tier: Tier): DurationSample {
    let sample = record.tiers.get(tier);
    if (sample === undefined) {
      sample = new DurationSample(stepMs);
      record.tiers.set(tier, sample);
    }
    return sample;
  }

  private record(model: string): ModelRecord {
    let record = this.models.get(model);
    if (record === undefined) {
      record = { tiers: new Map(), interactive: new DurationSample(stepMs), need: new Ewma(0, this.ewmaAlpha, 0), overtakes: new Map(), version: 0 };
      this.models.set(model, record);
    }
    return record;
  }
}
