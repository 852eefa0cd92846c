import { parseRequest } from '../contracts/parse.js';
import { completionRequestSchema } from '../contracts/completion-request.js';
import type { TextCompletion } from '../contracts/responses.js';
import type { CompletionGeneration } from '../engines/engine.js';
import { systemFingerprint } from './chat-completion.js';
import { collectGeneration, stoppedEarly, toSamplingOptions, toWireFinishReason, toWireUsage } from './generation.js';
import { holdForRequest } from './paid-request.js';
import { QueueNotice, type StreamPart } from './queue-notice.js';
import { enginePriority, startScheduledGeneration } from './scheduled-run.js';
import { resolveTarget } from './resolve-model.js';
import type { GatewayDeps, RequestContext } from './request-context.js';

export type CompletionResult =
  | { stream: false; body: TextCompletion }
  | { stream: true; chunks: AsyncIterable<TextCompletion | QueueNotice> };

/** POST /v1/completions: raw text in, text out, no chat template. */
export async function createCompletion(deps: GatewayDeps, body: unknown, context: RequestContext): Promise<CompletionResult> {
  const request = parseRequest(completionRequestSchema, body);
  const target = await resolveTarget(deps, context.principal, request.model, 'completions');
  const { model } = target;
  const prompt = typeof request.prompt === 'string' ? request.prompt : request.prompt[0]!;
  const generation: CompletionGeneration = {
    ...toSamplingOptions(request),
    model: model.engineModel,
    prompt,
    signal: context.signal,
    requestId: context.requestId,
    stream: request.stream === true,
    ...(request.echo ? { echo: true } : {}),
    ...(request.suffix ? { suffix: request.suffix } : {}),
    ...(request.user === undefined ? {} : { user: request.user }),
  };
  const hold = await holdForRequest(deps, context, target, [prompt], generation.maxTokens);
  const base = {
    id: `cmpl-${context.requestId}`,
    object: 'text_completion' as const,
    created: Math.floor(deps.clock.wallNow().getTime() / 1000),
    model: model.id,
    system_fingerprint: systemFingerprint,
  };
  const parts = await startScheduledGeneration(
    deps,
    context,
    hold,
    {
      target,
      promptSegments: [prompt],
      promptTokens: hold.promptTokensEstimate,
      maxOutputTokens: hold.maxCompletionTokens,
      start: (engine, served) => engine.complete({ ...generation, model: served.engineModel, priority: enginePriority(context) }),
      onGrant: (served) => (base.model = served.id),
    },
    'completions',
  );
  if (request.stream) {
    const includeUsage = request.stream_options?.include_usage === true;
    return { stream: true, chunks: completionChunks(parts, base, includeUsage) };
  }
  const result = await collectGeneration(parts);
  return {
    stream: false,
    body: {
      ...base,
      choices: [{ index: 0, text: result.text, logprobs: null, finish_reason: toWireFinishReason(result.finishReason) }],
      usage: toWireUsage(result.usage),
    },
  };
}

async function* completionChunks(
  parts: AsyncIterable<StreamPart>,
  base: Omit<TextCompletion, 'choices'>,
  includeUsage: boolean,
): AsyncGenerator<TextCompletion | QueueNotice> {
  const usageField = includeUsage ? { usage: null } : {};
  for await (const part of parts) {
    if (part instanceof QueueNotice) {
      yield part;
    } else if (part.type === 'text-delta') {
      yield { ...base, choices: [{ index: 0, text: part.text, logprobs: null, finish_reason: null }], ...usageField };
    } else if (part.type === 'finish') {
      if (part.finishReason === 'abort') throw stoppedEarly();
      yield {
        ...base,
        choices: [{ index: 0, text: '', logprobs: null, finish_reason: toWireFinishReason(part.finishReason) }],
        ...usageField,
      };
      if (includeUsage) yield { ...base, choices: [], usage: toWireUsage(part.usage) };
      return;
    } else if (part.type === 'error') {
      throw part.error;
    }
  }
}
