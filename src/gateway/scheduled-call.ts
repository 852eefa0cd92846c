/**
 * The paid, scheduled path of a media request (images, speech, transcription) and of an
 * embeddings call: the most it can cost is held, the scheduler grants a replica (places
 * in line are only counted for these JSON-or-bytes answers), the engine's method runs
 * there, and what it produced is settled once through the same metering as generations.
 *
 * The scheduler runs generations (async iterables of parts), so a media call is wrapped
 * as one: an `output` marker part each time it has produced something the client can
 * receive (for speech, each audio chunk; the marker also tells the scheduler output began,
 * so it is not retried elsewhere), then `finish` with the billed units.
 */
import { SkylarkError, toSkylarkError } from '../core/errors.js';
import { estimateTokens } from '../core/tokens.js';
import { zeroUsage, type MediaUnits, type Usage } from '../core/usage.js';
import type { ModelCapability } from '../contracts/responses.js';
import type { Engine, GenerationPart } from '../engines/engine.js';
import type { ModelEntry } from './model-catalog.js';
import { holdForRequest } from './paid-request.js';
import { QueueNotice, type StreamPart } from './queue-notice.js';
import type { GatewayDeps, RequestContext, UsageEntry } from './request-context.js';
import { resolveTarget, type Target } from './resolve-model.js';
import { startScheduledGeneration } from './scheduled-run.js';

/** Carries no text: it marks that the media call produced output (see the file's comment). */
const outputMarker: GenerationPart = { type: 'text-delta', text: '' };

export interface MediaWork<R> {
  model: string;
  capability: Extract<ModelCapability, 'images' | 'speech' | 'transcription'>;
  endpoint: UsageEntry['endpoint'];
  /** The text the request carries (prompt, input), for rate limits' token estimate and prefix routing. */
  promptText: string;
  /** The most units the request can be billed: its hold. */
  maxUnits: MediaUnits;
  /** Runs on the granted replica; yields the result, and each piece of output the client may receive. */
  run(engine: Engine, model: ModelEntry): AsyncIterable<R>;
  /** What the request is billed, from everything run yielded (none when it failed early). */
  units(outputs: readonly R[], aborted: boolean): MediaUnits;
}

/**
 * Any single engine call that is not a generation (media, embeddings) on the scheduled,
 * paid path: held, queued (in the batch tier for batch lines), run, settled once.
 */
export interface ScheduledCall<R> {
  model: string;
  capability: Extract<ModelCapability, 'images' | 'speech' | 'transcription' | 'embeddings'>;
  endpoint: UsageEntry['endpoint'];
  /** The texts the request carries, for the hold, rate limits' token estimate and prefix routing. */
  promptTexts: readonly string[];
  /** A media request: the most units it can be billed. Without it the hold is by tokens. */
  maxUnits?: MediaUnits;
  run(engine: Engine, model: ModelEntry): AsyncIterable<R>;
  /** What the request is billed, from everything run yielded (none when it failed early). */
  usage(outputs: readonly R[], aborted: boolean): Usage;
}

/** A media request's outputs, as they come; iterating to the end settles its usage first. */
export function startMedia<R>(deps: GatewayDeps, context: RequestContext, work: MediaWork<R>): Promise<AsyncIterable<R>> {
  const { promptText, units, ...rest } = work;
  return startCall(deps, context, { ...rest, promptTexts: [promptText], usage: (outputs, aborted) => ({ ...zeroUsage, media: units(outputs, aborted) }) });
}

/** A scheduled call's outputs, as they come; iterating to the end settles its usage first. */
export async function startCall<R>(deps: GatewayDeps, context: RequestContext, work: ScheduledCall<R>): Promise<AsyncIterable<R>> {
  const target = await callTarget(deps, context, work);
  const hold = await holdForRequest(deps, context, target, work.promptTexts, 0, work.maxUnits);
  const outputs: R[] = [];
  let delivered = 0;
  async function* generation(engine: Engine, model: ModelEntry): AsyncGenerator<GenerationPart> {
    let produced = false;
    try {
      for await (const output of work.run(engine, model)) {
        outputs.push(output);
        produced = true;
        yield outputMarker;
      }
    } catch (error) {
      if (context.signal.aborted && produced) yield { type: 'finish', finishReason: 'abort', usage: work.usage(outputs, true) };
      // Nothing reached the client: nothing is charged (and another replica may try).
      else yield { type: 'error', error: toSkylarkError(error), usage: zeroUsage };
      return;
    }
    yield { type: 'finish', finishReason: 'stop', usage: work.usage(outputs, false) };
  }
  const promptText = work.promptTexts.join('\n');
  const parts = await startScheduledGeneration(
    deps,
    context,
    hold,
    {
      target,
      promptSegments: [promptText],
      promptTokens: estimateTokens(promptText),
      maxOutputTokens: 1,
      start: (engine, model) => generation(engine, model),
    },
    work.endpoint,
  );
  return (async function* () {
    for await (const part of parts as AsyncIterable<StreamPart>) {
      if (part instanceof QueueNotice) continue;
      if (part.type === 'error') throw part.error;
      // Metering yields `finish` only once the usage row has committed.
      if (part.type === 'finish' && part.finishReason === 'abort') return;
      while (delivered < outputs.length) yield outputs[delivered++]!;
    }
  })();
}

/** Runs a scheduled call whose answer is one result (an embedding list). */
export async function runCall<R>(deps: GatewayDeps, context: RequestContext, work: ScheduledCall<R>): Promise<R> {
  return lastOf(await startCall(deps, context, work));
}

async function lastOf<R>(outputs: AsyncIterable<R>): Promise<R> {
  let result: R | undefined;
  for await (const output of outputs) result = output;
  if (result === undefined) throw new SkylarkError('internal_error', 'The engine ended without a result.');
  return result;
}

/** Runs a media request whose answer is one result (images, a transcript). */
export async function runMedia<R>(deps: GatewayDeps, context: RequestContext, work: MediaWork<R>): Promise<R> {
  return lastOf(await startMedia(deps, context, work));
}

/** The model, checked for the capability; only fallbacks that have it too may serve it. */
async function callTarget(deps: GatewayDeps, context: RequestContext, work: ScheduledCall<unknown>): Promise<Target> {
  const target = await resolveTarget(deps, context.principal, work.model, work.capability);
  const fallbacks = target.fallbacks.filter((id) => deps.catalog.list().some((m) => m.id === id && m.capabilities.includes(work.capability)));
  return { ...target, fallbacks };
}
