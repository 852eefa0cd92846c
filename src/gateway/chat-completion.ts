import { parseChatCompletionRequest } from '../contracts/chat-request-fast.js';
import type { ChatCompletion, ChatCompletionChunk } from '../contracts/responses.js';
import type { ChatGeneration } from '../engines/engine.js';
import { toEngineMessages, toEngineResponseFormat, toEngineTools } from './chat-messages.js';
import {
  collectGeneration,
  startGeneration,
  toSamplingOptions,
  toWireFinishReason,
  toWireUsage,
} from './generation.js';
import { chatChunks } from './chat-stream.js';
import type { QueueNotice } from './queue-notice.js';
import { startChat } from './scheduled-run.js';
import { resolveTarget } from './resolve-model.js';
import { applyAppSettings } from './app-model.js';
import type { GatewayDeps, RequestContext } from './request-context.js';
import { cachedPrefixUsage, withAnswer, type ContextPrefix } from './context-prefix.js';

export type ChatCompletionResult =
  | { stream: false; body: ChatCompletion }
  | { stream: true; chunks: AsyncIterable<ChatCompletionChunk | QueueNotice> };

export const systemFingerprint = 'fp_skylark';

/** POST /v1/chat/completions, start to finish; `prefix`: its first messages are a cached context's (context-cache.ts). */
export async function createChatCompletion(
  deps: GatewayDeps,
  body: unknown,
  context: RequestContext,
  prefix?: ContextPrefix,
): Promise<ChatCompletionResult> {
  const request = await applyAppSettings(deps, context.principal, parseChatCompletionRequest(body));
  const target = await resolveTarget(deps, context.principal, request.model, 'chat');
  const { model } = target;
  const generation: ChatGeneration = {
    ...toSamplingOptions(request),
    model: model.engineModel,
    messages: toEngineMessages(request.messages, model),
    ...toEngineTools(request, model),
    signal: context.signal,
    requestId: context.requestId,
    stream: request.stream === true,
    ...(request.user === undefined ? {} : { user: request.user }),
  };
  const responseFormat = toEngineResponseFormat(request);
  if (responseFormat) generation.responseFormat = responseFormat;

  const identity = {
    id: `chatcmpl-${context.requestId}`,
    created: Math.floor(deps.clock.wallNow().getTime() / 1000),
    model: model.id,
    includeUsage: request.stream_options?.include_usage === true,
  };
  const started = await startChat(
    deps, context, target, generation, 'chat.completions', (served) => (identity.model = served.id),
    prefix === undefined
      ? {}
      : {
          adjustUsage: (usage) => cachedPrefixUsage(usage, prefix.tokens),
          ...(prefix.onHeld === undefined ? {} : { afterHold: prefix.onHeld.bind(prefix) }),
        },
  );
  const parts = prefix?.onAnswer === undefined ? started.parts : withAnswer(started.parts, prefix.onAnswer.bind(prefix));
  const { id, created } = identity;

  if (request.stream) return { stream: true, chunks: chatChunks(parts, identity) };
  const result = await collectGeneration(parts);
  const message: ChatCompletion['choices'][number]['message'] = {
    role: 'assistant',
    content: result.toolCalls.length > 0 && result.text === '' ? null : result.text,
    refusal: null,
  };
  if (result.toolCalls.length > 0) message.tool_calls = result.toolCalls;
  if (result.reasoning !== '') message.reasoning_content = result.reasoning;
  return {
    stream: false,
    body: {
      id,
      object: 'chat.completion',
      created,
      model: identity.model,
      system_fingerprint: systemFingerprint,
      choices: [{ index: 0, message, logprobs: null, finish_reason: toWireFinishReason(result.finishReason) }],
      usage: toWireUsage(result.usage),
    },
  };
}
