/**
 * POST /v1/messages and /v1/messages/count_tokens: Anthropic's Messages API over every
 * engine. The request takes exactly the path a chat completion takes — resolveTarget,
 * holdForRequest, the scheduler, metering (one usage row, settled before the last event) —
 * only the wire format at either end differs.
 */
import { parseRequest } from '../contracts/parse.js';
import {
  anthropicCountTokensRequestSchema,
  anthropicMessagesRequestSchema,
  type AnthropicMessage,
  type AnthropicStreamEvent,
} from '../contracts/anthropic-messages.js';
import { estimateTokens } from '../core/tokens.js';
import type { ChatGeneration } from '../engines/engine.js';
import { anthropicEvents, collectMessage } from './anthropic-stream.js';
import { toEngineMessagesFromAnthropic, toEngineToolsFromAnthropic, toSamplingFromAnthropic } from './anthropic-mapping.js';
import type { QueueNotice } from './queue-notice.js';
import { appOfModel, applyAppToGeneration } from './app-model.js';
import { resolveTarget } from './resolve-model.js';
import type { GatewayDeps, RequestContext } from './request-context.js';
import { startChat } from './scheduled-run.js';

export type AnthropicMessageResult =
  | { stream: false; body: AnthropicMessage }
  | { stream: true; chunks: AsyncIterable<AnthropicStreamEvent | QueueNotice> };

/** `clientHeaders`: the client's anthropic-version / anthropic-beta, for Anthropic-speaking upstreams. */
export async function createAnthropicMessage(
  deps: GatewayDeps,
  body: unknown,
  context: RequestContext,
  clientHeaders: Record<string, string> = {},
): Promise<AnthropicMessageResult> {
  const request = parseRequest(anthropicMessagesRequestSchema, body);
  const app = await appOfModel(deps, context.principal, request.model);
  const target = await resolveTarget(deps, context.principal, app?.model ?? request.model, 'chat');
  const { model } = target;
  const userId = request.metadata?.user_id;
  const generation: ChatGeneration = {
    ...toSamplingFromAnthropic(request),
    model: model.engineModel,
    messages: toEngineMessagesFromAnthropic(request, model),
    ...toEngineToolsFromAnthropic(request, model),
    signal: context.signal,
    requestId: context.requestId,
    stream: request.stream === true,
    ...(userId == null ? {} : { user: userId }),
    ...(Object.keys(clientHeaders).length === 0 ? {} : { clientHeaders }),
  };
  if (app) applyAppToGeneration(app, generation);

  const identity = { id: `msg_${context.requestId}`, model: model.id, inputTokensEstimate: 0 };
  const { hold, parts } = await startChat(deps, context, target, generation, 'messages', (served) => (identity.model = served.id));
  identity.inputTokensEstimate = hold.promptTokensEstimate;
  const events = anthropicEvents(parts, identity);
  if (request.stream) return { stream: true, chunks: events };
  return { stream: false, body: await collectMessage(events) };
}

/**
 * The prompt's tokens, counted by the model's own tokenizer and chat template where its
 * engine can (llama.cpp, an Anthropic upstream), else estimated as admission does. Free,
 * like Anthropic's: it runs no generation and writes no usage row.
 */
export async function countAnthropicTokens(
  deps: GatewayDeps,
  body: unknown,
  context: RequestContext,
  clientHeaders: Record<string, string> = {},
): Promise<{ input_tokens: number }> {
  const request = parseRequest(anthropicCountTokensRequestSchema, body);
  const app = await appOfModel(deps, context.principal, request.model);
  const { model } = await resolveTarget(deps, context.principal, app?.model ?? request.model, 'chat');
  const generation: ChatGeneration = {
    model: model.engineModel,
    messages: toEngineMessagesFromAnthropic(request, model),
    ...toEngineToolsFromAnthropic(request, model),
    signal: context.signal,
    requestId: context.requestId,
    stream: false,
    ...(Object.keys(clientHeaders).length === 0 ? {} : { clientHeaders }),
  };
  if (app) applyAppToGeneration(app, generation);
  const engine = model.replicas.find((replica) => replica.health().state === 'ready') ?? model.engine;
  if (engine.countChatTokens) return { input_tokens: await engine.countChatTokens(generation) };
  const texts = generation.messages.flatMap((message) => [message.content, ...(message.toolCalls ?? []).map((call) => call.arguments)]);
  const toolText = JSON.stringify(generation.tools ?? []);
  return { input_tokens: texts.reduce((sum, text) => sum + estimateTokens(text), 0) + (generation.tools ? estimateTokens(toolText) : 0) };
}
