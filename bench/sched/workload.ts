/**
 * The seeded workload of bench:sched. One "world" per seed: 20 tenants and 50 apps; an
 * app's popularity follows Zipf (s = 0.9) and app a belongs to tenant a mod 20, so tenant
 * rates follow a power law too. Each app has a system prompt (median 800 tokens, up to
 * 6k for agents with tools), the prefix that all sessions of that app share.
 *
 *  - prefix-heavy: Poisson arrivals of chat sessions; each turn's prompt is the system
 *    prompt, every earlier question and answer, and the new question. The next turn comes
 *    a think time after the previous answer ends (closed loop); a session whose turn fails
 *    (rejected, timed out) ends there, as its user leaves.
 *  - flood: bursty single-turn requests (gamma inter-arrivals, CV 2) where tenant 0 sends
 *    ten times the mean rate of each other tenant.
 * Lengths are ShareGPT-like lognormals. Batch-tier tenants send single requests with longer
 * answers, and never give up waiting.
 */
import type { PrefixSegment, Tier } from '../../src/scheduler/types.js';
import { interArrival, lognormal, substream, WeightedChoice, zipfWeights, type Random } from './random.js';

export type WorkloadName = 'prefix-heavy' | 'flood';
export const workloadNames: readonly WorkloadName[] = ['prefix-heavy', 'flood'];

export const tenantCount = 20;
export const appCount = 50;
const priorityTenants = new Set([1, 5]);
const freeTenants = new Set([10, 11, 12, 13]);
const batchTenants = new Set([18, 19]);
/** Longest prompt + answer a session may reach (the simulated model's context). */
const contextLimit = 16_384;
export const maxOutputTokens = 1024;
/** How far before 0 sessions start (see resume). */
const prerollMs = 600_000;
/** What a turn before 0 is assumed to have taken (an unloaded cluster's TTFT and 15 ms per token). */
const assumedServiceMs = (outputTokens: number): number => 300 + 15 * outputTokens;

export interface Tenant {
  index: number;
  id: string;
  tier: Tier;
  /** Sends at 10× the others (flood workload). */
  flooder: boolean;
}

export interface Turn {
  userTokens: number;
  outputTokens: number;
  /** Pause before this turn, after the previous answer ended. */
  thinkMs: number;
}

export interface Session {
  id: number;
  tenant: Tenant;
  app: number;
  turns: Turn[];
}

export interface RequestSpec {
  id: string;
  tenant: Tenant;
  arrival: number;
  prefix: PrefixSegment[];
  promptTokens: number;
  outputTokens: number;
  /** Hash of this prompt extended by its answer (the next turn's prefix). */
  answerHash: string;
  session: Session;
  turn: number;
}

export interface Workload {
  name: WorkloadName;
  tenants: Tenant[];
  /** Requests that do not depend on earlier answers, in arrival order. */
  initial: RequestSpec[];
  /** The session's next turn after `previous` ended at `endedAt`, if the session goes on. */
  nextTurn(previous: RequestSpec, endedAt: number): RequestSpec | undefined;
}

export function tierOf(index: number): Tier {
  if (priorityTenants.has(index)) return 'priority';
  if (freeTenants.has(index)) return 'free';
  if (batchTenants.has(index)) return 'batch';
  return 'standard';
}

function draws(random: Random, batch: boolean, flood: boolean): Turn[] {
  const turns: Turn[] = [];
  // Geometric number of follow-ups, mean 4: sessions of 5 turns on average.
  const count = flood || batch ? 1 : Math.min(16, 1 + Math.floor(Math.log(1 - random()) / Math.log(1 - 1 / 5)));
  for (let i = 0; i < count; i++) {
    turns.push({
      userTokens: lognormal(random, flood ? 250 : 100, 1.0, 4, flood ? 4000 : 2000),
      outputTokens: lognormal(random, batch ? 400 : 250, 0.7, 8, maxOutputTokens),
      thinkMs: i === 0 ? 0 : lognormal(random, 10_000, 0.8, 1_000, 120_000),
    });
  }
  return turns;
}

/** Mean requests per session, measured on a fixed stream so that load means the same for every seed. */
function meanTurns(name: WorkloadName): number {
  const random = substream(1, 'mean-turns');
  let sum = 0;
  const n = 20_000;
  for (let i = 0; i < n; i++) sum += draws(random, false, name === 'flood').length;
  return sum / n;
}

/**
 * Another future for the same world: from `at` on, new sessions come from `seed`'s arrival
 * and length streams instead (ids apart), so a run's past is the same and its future is
 * not (the ETA floor: eta-floor.ts).
 */
export interface FutureSplice {
  at: number;
  seed: number;
}

export function buildWorkload(name: WorkloadName, seed: number, requestsPerSecond: number, durationMs: number, future?: FutureSplice): Workload {
  const worldRandom = substream(seed, 'world');
  const tenants: Tenant[] = Array.from({ length: tenantCount }, (_, index) => ({
    index,
    id: `t${String(index).padStart(2, '0')}`,
    tier: tierOf(index),
    flooder: name === 'flood' && index === 0,
  }));
  const systemTokens = Array.from({ length: appCount }, () => lognormal(worldRandom, 800, 0.8, 100, 6000));
  const appPopularity = zipfWeights(appCount, 0.9);
  const flood = name === 'flood';
  // Flood: tenant 0 sends ten times the mean of the others; they keep their app-driven shares.
  const appWeights = appPopularity.map((weight, app) => (flood && app % tenantCount === 0 ? 0 : weight));
  const otherMean = appWeights.reduce((a, b) => a + b, 0) / (tenantCount - 1);
  const floodApp = 0;
  const apps = new WeightedChoice(flood ? [...appWeights, 10 * otherMean] : appWeights);

  const sessionRate = requestsPerSecond / meanTurns(name);
  const initial: RequestSpec[] = [];
  const starts = (streamSeed: number, from: number, until: number, firstId: number): void => {
    const arrivals = substream(streamSeed, `arrivals-${name}`);
    const lengths = substream(streamSeed, `lengths-${name}`);
    const gap = (): number => interArrival(arrivals, 1000 / sessionRate, flood ? 2 : 1);
    let sessions = firstId;
    // Sessions start from well before 0 so that the run opens on a steady mix of first and
    // later turns (a cold start would be all first turns for a minute or more).
    for (let t = -prerollMs + gap(); t < durationMs; t += gap()) {
      const pick = apps.pick(arrivals);
      const app = pick === appCount ? floodApp : pick;
      const tenant = tenants[app % tenantCount]!;
      const session: Session = { id: sessions++, tenant, app, turns: draws(lengths, tenant.tier === 'batch', flood) };
      if (t < from || t >= until) continue;
      const first = resume(session, t, [{ hash: `app${app}`, tokens: systemTokens[app]! }]);
      if (first !== undefined) initial.push(first);
    }
  };
  if (future === undefined) starts(seed, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, 0);
  else {
    starts(seed, Number.NEGATIVE_INFINITY, future.at, 0);
    starts(future.seed, future.at, Number.POSITIVE_INFINITY, 10_000_000);
  }
  initial.sort((a, b) => a.arrival - b.arrival);

  /** The session's first turn at or after time 0, earlier turns assumed served in `assumedServiceMs`. */
  function resume(session: Session, start: number, system: PrefixSegment[]): RequestSpec | undefined {
    let spec = request(session, 0, start, system);
    while (spec.arrival < 0) {
      const next = followUp(spec, spec.arrival + assumedServiceMs(spec.outputTokens));
      if (next === undefined) return undefined;
      spec = next;
    }
    return spec;
  }

  function followUp(previous: RequestSpec, endedAt: number): RequestSpec | undefined {
    const turn = previous.turn + 1;
    const spec = previous.session.turns[turn];
    if (spec === undefined) return undefined;
    const arrival = endedAt + spec.thinkMs;
    if (arrival >= durationMs) return undefined;
    const history = [...previous.prefix, { hash: previous.answerHash, tokens: previous.outputTokens }];
    const next = request(previous.session, turn, arrival, history);
    return next.promptTokens + maxOutputTokens > contextLimit ? undefined : next;
  }

  function request(session: Session, turn: number, arrival: number, history: PrefixSegment[]): RequestSpec {
    const spec = session.turns[turn]!;
    const user: PrefixSegment = { hash: `s${session.id}.u${turn}`, tokens: spec.userTokens };
    const prefix = [...history, user];
    return {
      id: `s${session.id}.${turn}`,
      tenant: session.tenant,
      arrival,
      prefix,
      promptTokens: prefix.reduce((sum, segment) => sum + segment.tokens, 0),
      outputTokens: spec.outputTokens,
      answerHash: `s${session.id}.a${turn}`,
      session,
      turn,
    };
  }

  return {
    name,
    tenants,
    initial,
    nextTurn: followUp,
  };
}
