import { parseRequest } from '../contracts/parse.js';
import { chatCompletionRequestSchema } from '../contracts/chat-request.js';
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
import { meteredParts } from './metering.js';
import { holdForRequest } from './paid-request.js';
import type { GatewayDeps, RequestContext } from './request-context.js';

export type ChatCompletionResult =
  | { stream: false; body: ChatCompletion }
  | { stream: true; chunks: AsyncIterable<ChatCompletionChunk> };

export const systemFingerprint = 'fp_skylark';

/** POST /v1/chat/completions, start to finish. */
export async function createChatCompletion(
  deps: GatewayDeps,
  body: unknown,
  context: RequestContext,
): Promise<ChatCompletionResult> {
  const request = parseRequest(chatCompletionRequestSchema, body);
  const model = deps.catalog.require(request.model, 'chat');
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

  const hold = await holdForRequest(
    deps,
    context,
    model,
    generation.messages.map((message) => message.content),
    generation.maxTokens,
  );
  const parts = await startGeneration(
    meteredParts(deps, model.engine.chat(generation), { context, model: model.id, endpoint: 'chat.completions', hold }),
  );
  const id = `chatcmpl-${context.requestId}`;
  const created = Math.floor(deps.clock.wallNow().getTime() / 1000);

  if (request.stream) {
    const includeUsage = request.stream_options?.include_usage === true;
    return { stream: true, chunks: chatChunks(parts, { id, created, model: model.id, includeUsage }) };
  }
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
      model: model.id,
      system_fingerprint: systemFingerprint,
      choices: [{ index: 0, message, logprobs: null, finish_reason: toWireFinishReason(result.finishReason) }],
      usage: toWireUsage(result.usage),
    },
  };
}
