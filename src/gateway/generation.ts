import { SkylarkError } from '../core/errors.js';
import type { Usage } from '../core/usage.js';
import type { WireFinishReason, WireToolCall, WireUsage } from '../contracts/responses.js';
import type { FinishReason, SamplingOptions } from '../engines/engine.js';
import { QueueNotice, type StreamPart } from './queue-notice.js';

interface WireSampling {
  max_tokens?: number | null | undefined;
  max_completion_tokens?: number | null | undefined;
  temperature?: number | null | undefined;
  top_p?: number | null | undefined;
  stop?: string | string[] | null | undefined;
  seed?: number | null | undefined;
  presence_penalty?: number | null | undefined;
  frequency_penalty?: number | null | undefined;
  logit_bias?: Record<string, number> | null | undefined;
  n?: number | null | undefined;
  logprobs?: unknown;
}

/** The sampling fields both completion endpoints share, with OpenAI's nulls meaning "default". */
export function toSamplingOptions(body: WireSampling): SamplingOptions {
  if (body.n != null && body.n > 1) {
    throw new SkylarkError('unsupported_parameter', 'n > 1 is not supported: send one request per choice.', {
      param: 'n',
    });
  }
  if (body.logprobs === true || (typeof body.logprobs === 'number' && body.logprobs > 0)) {
    throw new SkylarkError('unsupported_parameter', 'logprobs are not supported yet.', { param: 'logprobs' });
  }
  const options: SamplingOptions = {};
  const maxTokens = body.max_completion_tokens ?? body.max_tokens;
  if (maxTokens != null) options.maxTokens = maxTokens;
  if (body.temperature != null) options.temperature = body.temperature;
  if (body.top_p != null) options.topP = body.top_p;
  if (body.stop != null) {
    const stop = (typeof body.stop === 'string' ? [body.stop] : body.stop).filter((s) => s !== '');
    if (stop.length > 0) options.stop = stop;
  }
  if (body.seed != null) options.seed = body.seed;
  if (body.presence_penalty != null) options.presencePenalty = body.presence_penalty;
  if (body.frequency_penalty != null) options.frequencyPenalty = body.frequency_penalty;
  if (body.logit_bias != null) options.logitBias = body.logit_bias;
  return options;
}

/**
 * Waits for the engine's first part, so a failure before any output (unknown upstream
 * model, context too long, engine down) becomes a proper HTTP error rather than a
 * stream that opens with 200 and then fails.
 */
export async function startGeneration<P extends StreamPart>(parts: AsyncIterable<P>): Promise<AsyncIterable<P>> {
  const iterator = parts[Symbol.asyncIterator]();
  let first: IteratorResult<P>;
  try {
    first = await iterator.next();
  } catch (error) {
    await iterator.return?.();
    throw error;
  }
  if (first.done) throw new SkylarkError('internal_error', 'The engine ended without a result.');
  if (!(first.value instanceof QueueNotice) && first.value.type === 'error') throw first.value.error;
  const head = first.value;
  return {
    [Symbol.asyncIterator]() {
      let sentHead = false;
      return {
        next: () => {
          if (!sentHead) {
            sentHead = true;
            return Promise.resolve({ value: head, done: false });
          }
          return iterator.next();
        },
        return: async () => {
          await iterator.return?.();
          return { value: undefined, done: true };
        },
      };
    },
  };
}

export interface CollectedGeneration {
  text: string;
  reasoning: string;
  toolCalls: WireToolCall[];
  finishReason: FinishReason;
  usage: Usage;
}

/** Drains a generation for a non-streaming response. */
export async function collectGeneration(parts: AsyncIterable<StreamPart>): Promise<CollectedGeneration> {
  let text = '';
  let reasoning = '';
  const toolCalls: WireToolCall[] = [];
  for await (const part of parts) {
    if (part instanceof QueueNotice) continue;
    switch (part.type) {
      case 'text-delta':
        text += part.text;
        break;
      case 'reasoning-delta':
        reasoning += part.text;
        break;
      case 'tool-call-delta': {
        const call = (toolCalls[part.index] ??= { id: '', type: 'function', function: { name: '', arguments: '' } });
        if (part.id) call.id = part.id;
        if (part.name) call.function.name = part.name;
        call.function.arguments += part.argumentsDelta;
        break;
      }
      case 'finish':
        if (part.finishReason === 'abort') throw stoppedEarly();
        return { text, reasoning, toolCalls: toolCalls.filter(Boolean), finishReason: part.finishReason, usage: part.usage };
      case 'error':
        throw part.error;
    }
  }
  throw new SkylarkError('internal_error', 'The engine ended without a result.');
}

export function toWireFinishReason(reason: FinishReason): WireFinishReason {
  return reason === 'abort' ? 'stop' : reason;
}

export function toWireUsage(usage: Usage): WireUsage {
  return {
    prompt_tokens: usage.promptTokens,
    completion_tokens: usage.completionTokens,
    total_tokens: usage.promptTokens + usage.completionTokens,
    prompt_tokens_details: { cached_tokens: usage.cachedPromptTokens },
  };
}

/** A generation stopped by cancellation or shutdown: say so rather than pass it off as complete. */
export function stoppedEarly(): SkylarkError {
  return new SkylarkError(
    'engine_unavailable',
    'The generation was stopped before it finished (the request was cancelled or the server is shutting down).',
    { retryAfterMs: 1000 },
  );
}
