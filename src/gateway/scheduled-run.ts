/**
 * A generation's way through the scheduler: wait for a replica (telling the client its
 * place in line while it waits), run on the replica granted, retry on another one when a
 * replica fails before producing anything, and report how it went so the scheduler's
 * fairness counters, service estimates and circuit breakers learn from it.
 */
import { hash } from 'node:crypto';
import { AsyncQueue } from '../core/async-queue.js';
import { SkylarkError, toSkylarkError } from '../core/errors.js';
import { estimateTokens } from '../core/tokens.js';
import type { ChatGeneration, Engine, GenerationPart } from '../engines/engine.js';
import { tiers, type Grant, type PrefixSegment, type QueuePosition, type Tier } from '../scheduler/types.js';
import type { ModelEntry } from './model-catalog.js';
import { etaRangeOf, QueueNotice, type StreamPart as ScheduledPart } from './queue-notice.js';
import { startGeneration } from './generation.js';
import { meteredParts } from './metering.js';
import { holdForRequest, type PaidHold } from './paid-request.js';
import type { GatewayDeps, RequestContext, UsageEntry } from './request-context.js';
import type { Target } from './resolve-model.js';
import type { Usage } from '../core/usage.js';


export interface ScheduledWork {
  target: Target;
  /** The prompt as the chain of segments a prefix cache can share (system prompt, earlier turns, …). */
  promptSegments: readonly string[];
  promptTokens: number;
  maxOutputTokens: number;
  /** Starts the generation on the engine granted, for the model granted (the requested one or a fallback). */
  start(engine: Engine, model: ModelEntry): AsyncIterable<GenerationPart>;
  /** Called once a replica is granted, before any part of it: headers, the model to report. */
  onGrant?(model: ModelEntry, grant: Grant): void;
}

type Event =
  | { type: 'grant'; grant: Grant }
  | { type: 'progress'; position: QueuePosition }
  | { type: 'aborted' }
  | { type: 'refused'; error: SkylarkError };

/** A request in the scheduler: its grant and places in line arrive as events. */
export interface Ticket {
  events: AsyncQueue<Event>;
  /** Settles when admission is final (at once in process); rejects with a refusal of the shared line. */
  admitted: Promise<void>;
}

/** The scheduler tier a request runs in: a batch line's is `batch`, whatever its tenant's. */
export function tierOf(context: RequestContext): Tier {
  return context.batch === true ? 'batch' : context.principal.tier;
}

/**
 * The engine-side priority of a request (GenerationBase.priority, vLLM's `priority`, lower
 * served first): its tier's place in `tiers`, so interactive tiers go before batch inside a
 * step as they do in the scheduler's line.
 */
export function enginePriority(context: RequestContext): number {
  return tiers.indexOf(tierOf(context));
}

/**
 * Queues the request (or grants it at once). Throws SkylarkError('server_overloaded') with
 * an honest Retry-After when it cannot be served in time — before any response is sent.
 */
export function submitWork(deps: GatewayDeps, context: RequestContext, work: ScheduledWork, excludeReplicas: readonly string[] = []): Ticket {
  const { model } = work.target;
  assertServable(deps, model, work);
  const events = new AsyncQueue<Event>();
  const admitted = deps.dispatch.submit(
    {
      requestId: context.requestId,
      tenantId: context.principal.tenantId,
      tier: tierOf(context),
      model: model.id,
      fallbackModels: work.target.fallbacks,
      promptTokens: work.promptTokens,
      maxOutputTokens: work.maxOutputTokens,
      prefix: prefixChain(work.promptSegments),
      ...(context.maxWaitMs === undefined ? {} : { maxWaitMs: context.maxWaitMs }),
      ...(excludeReplicas.length === 0 ? {} : { excludeReplicas }),
    },
    {
      onGrant: (granted) => events.push({ type: 'grant', grant: granted }),
      onProgress: (position) => events.push({ type: 'progress', position }),
      onRefused: (error) => events.push({ type: 'refused', error }),
      ...(context.onPreempt === undefined
        ? {}
        : {
            onPreempt: () => {
              context.preempted = true;
              context.onPreempt!();
            },
          }),
    },
    context.clientRequestId,
  );
  return { events, admitted };
}

/** The parts of a submitted request: places in line while it waits, then the generation's own. */
export async function* scheduledParts(deps: GatewayDeps, context: RequestContext, work: ScheduledWork, first: Ticket): AsyncGenerator<ScheduledPart> {
  const { dispatch } = deps;
  const { model } = work.target;
  const candidates = model.replicas.length;
  const tried: string[] = [];
  for (let attempt = 0; ; attempt++) {
    const { events } = attempt === 0 ? first : submitWork(deps, context, work, tried);
    const onAbort = () => events.push({ type: 'aborted' });
    context.signal.addEventListener('abort', onAbort, { once: true });
    if (context.signal.aborted) onAbort();
    let grant: Grant | undefined;
    try {
      for await (const event of events) {
        if (event.type === 'grant') {
          grant = event.grant;
          break;
        }
        if (event.type === 'aborted') throw new SkylarkError('invalid_request', 'The client went away while waiting.');
        if (event.type === 'refused') throw event.error;
        yield new QueueNotice(event.position.position, event.position.etaMs, etaRangeOf(event.position));
      }
    } finally {
      context.signal.removeEventListener('abort', onAbort);
      if (grant === undefined) dispatch.cancel(context.requestId);
    }
    if (grant === undefined) throw new SkylarkError('internal_error', 'The scheduler ended without a grant.');

    const engine = dispatch.engine(grant.replicaId);
    const granted = grant.model === model.id ? model : deps.catalog.get(grant.model);
    if (!engine) throw new SkylarkError('engine_unavailable', `Replica ${grant.replicaId} is gone.`);
    context.responseHeaders['x-skylark-queue-ms'] = String(Math.round(grant.queuedMs));
    if (grant.fallback) context.responseHeaders['x-skylark-fallback'] = granted.id;
    work.onGrant?.(granted, grant);

    context.queueMs = grant.queuedMs;
    context.servedModel = granted.id;
    context.servedReplica = grant.replicaId;
    const outcome = yield* runOnReplica(deps, context, engine, granted, work);
    if (outcome === 'done') return;
    // Failed before its first token: another replica may serve it.
    tried.push(grant.replicaId);
    if (attempt + 1 >= candidates) {
      yield { type: 'error', error: outcome.error, usage: { promptTokens: 0, completionTokens: 0, cachedPromptTokens: 0 } };
      return;
    }
  }
}

/** Runs on one replica; returns 'done', or the error of a failure before any output (retryable elsewhere). */
async function* runOnReplica(
  deps: GatewayDeps,
  context: RequestContext,
  engine: Engine,
  model: ModelEntry,
  work: ScheduledWork,
): AsyncGenerator<ScheduledPart, 'done' | { error: SkylarkError }> {
  const started = deps.clock.now();
  let firstTokenMs: number | undefined;
  let reported = false;
  const report = (ok: boolean, usage: { promptTokens: number; cachedPromptTokens: number; completionTokens: number }, beforeFirst = false) => {
    if (reported) return;
    reported = true;
    deps.dispatch.complete(context.requestId, {
      ok,
      failedBeforeFirstToken: beforeFirst,
      promptTokens: usage.promptTokens,
      cachedTokens: usage.cachedPromptTokens,
      completionTokens: usage.completionTokens,
      ...(firstTokenMs === undefined ? {} : { firstTokenMs }),
    });
  };
  let iterator: AsyncIterator<GenerationPart> | undefined;
  let ended = false;
  try {
    iterator = work.start(engine, model)[Symbol.asyncIterator]();
    for (;;) {
      let next: IteratorResult<GenerationPart>;
      try {
        next = await iterator.next();
      } catch (thrown) {
        const error = toSkylarkError(thrown);
        if (firstTokenMs === undefined && error.isRetryable && !context.signal.aborted) {
          report(false, zero, true);
          return { error };
        }
        report(!error.isRetryable, zero);
        throw thrown;
      }
      if (next.done) {
        ended = true;
        break;
      }
      const part = next.value;
      if (part.type === 'error') {
        const replicaFault = part.error.isRetryable;
        if (firstTokenMs === undefined && replicaFault && part.usage.completionTokens === 0 && !context.signal.aborted) {
          report(false, part.usage, true);
          return { error: part.error };
        }
        report(!replicaFault, part.usage);
      } else if (part.type === 'finish') {
        report(true, part.usage);
      } else if (firstTokenMs === undefined) {
        firstTokenMs = deps.clock.now() - started;
      }
      yield part;
    }
    return 'done';
  } finally {
    // The consumer left early: stop the engine's generation, then free the slot.
    if (!ended) await iterator?.return?.();
    if (!reported) deps.dispatch.cancel(context.requestId);
  }
}

const zero = { promptTokens: 0, cachedPromptTokens: 0, completionTokens: 0 };

/**
 * A model none of whose replicas (nor its fallbacks') is ready would wait for ever: say so
 * now, with the engine's own reason, as a 503.
 */
function assertServable(deps: GatewayDeps, model: ModelEntry, work: ScheduledWork): void {
  const models = [model, ...work.target.fallbacks.map((id) => deps.catalog.get(id))];
  if (models.some((entry) => entry.replicas.some((engine) => engine.health().state === 'ready'))) return;
  const health = model.engine.health();
  const why = health.state === 'failed' ? `its engine failed to start: ${health.reason}` : 'its engine is still loading; retry shortly';
  throw new SkylarkError('engine_unavailable', `The model '${model.id}' is not available: ${why}.`, {
    ...(health.state === 'loading' ? { retryAfterMs: 5000 } : {}),
  });
}

/** Each segment's hash covers everything before it too, so equal hashes mean an equal prefix. */
export function prefixChain(segments: readonly string[]): PrefixSegment[] {
  const chain: PrefixSegment[] = [];
  let previous = '';
  for (const text of segments) {
    previous = hash('sha1', `${previous}\u0000${text}`, 'base64url').slice(0, 16);
    chain.push({ hash: previous, tokens: estimateTokens(text) });
  }
  return chain;
}

/**
 * Submits the request and starts its metered stream. A request the scheduler refuses gives
 * its hold back and writes no usage row; one that waits starts with places in line.
 */
export async function startScheduledGeneration(
  deps: GatewayDeps,
  context: RequestContext,
  hold: PaidHold,
  work: ScheduledWork,
  endpoint: UsageEntry['endpoint'],
): Promise<AsyncIterable<ScheduledPart>> {
  let ticket: Ticket;
  try {
    ticket = submitWork(deps, context, work);
    await ticket.admitted;
  } catch (error) {
    await hold.release();
    throw error;
  }
  return startGeneration(
    meteredParts(deps, scheduledParts(deps, context, work, ticket), { context, model: work.target.model.id, endpoint, hold }),
  );
}

/** What startChat may change in how a chat-shaped request runs. */
export interface ChatStartOptions {
  /** Rewrites the engine's usage before it is metered (a cached context's prefix billed as cached input). */
  adjustUsage?: (usage: Usage) => Usage;
  /** The work on the replica granted, instead of `engine.chat` (a context's prefill, context-cache.ts). */
  run?: (engine: Engine, generation: ChatGeneration) => AsyncIterable<GenerationPart>;
  /**
   * Runs once the request is admitted and its funds held, before it is scheduled (a cached
   * context's use: what a request refused for funds or by a rate limit must not do). If it
   * throws, the hold goes back and the request fails with its error.
   */
  afterHold?: () => Promise<void>;
}

/**
 * What every chat-shaped API (chat completions, Messages, Responses, a context's creation)
 * does once its request is a ChatGeneration: hold the most it can cost, then schedule and
 * run it. `onGrant` learns the model that serves it (a fallback, maybe) before any part.
 */
export async function startChat(
  deps: GatewayDeps,
  context: RequestContext,
  target: Target,
  generation: ChatGeneration,
  endpoint: UsageEntry['endpoint'],
  onGrant?: (served: ModelEntry) => void,
  options: ChatStartOptions = {},
): Promise<{ hold: PaidHold; parts: AsyncIterable<ScheduledPart> }> {
  const { adjustUsage, run = (engine, request) => engine.chat(request), afterHold } = options;
  const hold = await holdForRequest(deps, context, target, generation.messages.map((message) => message.content), generation.maxTokens);
  if (afterHold !== undefined) {
    try {
      await afterHold();
    } catch (error) {
      await hold.release();
      throw error;
    }
  }
  const parts = await startScheduledGeneration(
    deps,
    context,
    hold,
    {
      target,
      // System prompt, earlier turns, the new message: the chain a replica's prefix cache can share.
      promptSegments: generation.messages.map((message) => `${message.role}\u0000${message.content}`),
      promptTokens: hold.promptTokensEstimate,
      maxOutputTokens: hold.maxCompletionTokens,
      start: (engine, served) => {
        const parts = run(engine, { ...generation, model: served.engineModel, priority: enginePriority(context) });
        return adjustUsage === undefined ? parts : withUsage(parts, adjustUsage);
      },
      ...(onGrant === undefined ? {} : { onGrant }),
    },
    endpoint,
  );
  return { hold, parts };
}

async function* withUsage(parts: AsyncIterable<GenerationPart>, adjust: (usage: Usage) => Usage): AsyncGenerator<GenerationPart> {
  for await (const part of parts) {
    yield part.type === 'finish' || part.type === 'error' ? { ...part, usage: adjust(part.usage) } : part;
  }
}
