/**
 * POST /v1/responses (OpenAI's Responses API) over any chat engine, on the same paid,
 * scheduled path as chat completions: the key's limits and the funds hold, the scheduler,
 * one usage row settled from the engine's terminal part. What differs is the wire: input
 * items in, output items out, `previous_response_id` chains from stored responses.
 */
import { parseRequest } from '../contracts/parse.js';
import { createResponseRequestSchema, type CreateResponseRequest, type WireInputItem } from '../contracts/response-request.js';
import type { ResponseObject, ResponseStreamEvent, ResponseUsage } from '../contracts/response-objects.js';
import type { Usage } from '../core/usage.js';
import type { ChatGeneration, FinishReason } from '../engines/engine.js';
import { stoppedEarly, toSamplingOptions } from './generation.js';
import { QueueNotice, type StreamPart } from './queue-notice.js';
import { appOfModel, applyAppToGeneration } from './app-model.js';
import { resolveTarget } from './resolve-model.js';
import { startChat } from './scheduled-run.js';
import {
  assertSupported,
  textFormatView,
  toEngineMessages,
  toEngineResponseFormat,
  toEngineTools,
  toolChoiceView,
  toolViews,
} from './response-items.js';
import { ResponseOutput } from './response-output.js';
import { responseEvents, type ResponseRun } from './response-events.js';
import { normalizeItems, previousTurns, saveResponse } from './response-store.js';
import type { GatewayDeps, RequestContext } from './request-context.js';

export type CreateResponseResult =
  | { stream: false; body: ResponseObject }
  | { stream: true; chunks: AsyncIterable<ResponseStreamEvent | QueueNotice> };

export async function createResponse(deps: GatewayDeps, body: unknown, context: RequestContext): Promise<CreateResponseResult> {
  const request = parseRequest(createResponseRequestSchema, body);
  assertSupported(request);
  const app = await appOfModel(deps, context.principal, request.model);
  const target = await resolveTarget(deps, context.principal, app?.model ?? request.model, 'chat');
  const { model } = target;
  // Looked up before anything is held: a missing (or another tenant's) id costs nothing.
  const earlier = request.previous_response_id ? await previousTurns(deps, context.principal, request.previous_response_id) : [];
  const items = [...earlier, ...normalizeItems(request.input)];
  const user = request.safety_identifier ?? request.user ?? undefined;
  const generation: ChatGeneration = {
    ...toSamplingOptions({ max_tokens: request.max_output_tokens, temperature: request.temperature, top_p: request.top_p }),
    model: model.engineModel,
    messages: toEngineMessages(request.instructions, items, model),
    ...toEngineTools(request, model),
    signal: context.signal,
    requestId: context.requestId,
    stream: request.stream === true,
    ...(user === undefined ? {} : { user }),
  };
  if (app) applyAppToGeneration(app, generation);
  const responseFormat = toEngineResponseFormat(request);
  if (responseFormat) generation.responseFormat = responseFormat;

  const run = responseRun(deps, context, request, items);
  const { parts } = await startChat(deps, context, target, generation, 'responses', (served) => (run.draft.model = served.id));
  if (request.stream) return { stream: true, chunks: responseEvents(parts, run) };
  return { stream: false, body: await collectResponse(parts, run) };
}

/** Drains a generation for the JSON answer: failures are HTTP errors here, as for chat. */
async function collectResponse(parts: AsyncIterable<StreamPart>, run: ResponseRun): Promise<ResponseObject> {
  for await (const part of parts) {
    if (part instanceof QueueNotice) continue;
    switch (part.type) {
      case 'finish':
        if (part.finishReason === 'abort') throw stoppedEarly();
        run.output.close(part.finishReason === 'length' || part.finishReason === 'content_filter' ? 'incomplete' : 'completed');
        return run.complete(part.finishReason, part.usage);
      case 'error':
        throw part.error;
      default:
        run.output.apply(part);
    }
  }
  throw stoppedEarly();
}

function responseRun(deps: GatewayDeps, context: RequestContext, request: CreateResponseRequest, items: readonly WireInputItem[]): ResponseRun {
  const store = request.store !== false;
  const draft: ResponseObject = {
    id: `resp_${context.requestId}`,
    object: 'response',
    created_at: Math.floor(deps.clock.wallNow().getTime() / 1000),
    status: 'in_progress',
    completed_at: null,
    error: null,
    incomplete_details: null,
    instructions: request.instructions ?? null,
    max_output_tokens: request.max_output_tokens ?? null,
    model: request.model,
    output: [],
    parallel_tool_calls: request.parallel_tool_calls ?? true,
    previous_response_id: request.previous_response_id ?? null,
    // Accepted (Codex sends it) but not applied: no engine here reasons on request.
    reasoning: null,
    store,
    temperature: request.temperature ?? null,
    top_p: request.top_p ?? null,
    text: textFormatView(request),
    tool_choice: toolChoiceView(request),
    tools: toolViews(request),
    truncation: 'disabled',
    ...(request.user == null ? {} : { user: request.user }),
    safety_identifier: request.safety_identifier ?? null,
    metadata: request.metadata ?? {},
  };
  const output = new ResponseOutput();
  return {
    draft,
    output,
    complete: async (finishReason: FinishReason, usage: Usage) => {
      const incomplete = finishReason === 'length' ? 'max_output_tokens' : finishReason === 'content_filter' ? 'content_filter' : undefined;
      const response: ResponseObject = {
        ...draft,
        status: incomplete ? 'incomplete' : 'completed',
        completed_at: incomplete ? null : Math.floor(deps.clock.wallNow().getTime() / 1000),
        incomplete_details: incomplete ? { reason: incomplete } : null,
        output: structuredClone(output.items),
        usage: toResponseUsage(usage),
      };
      if (store) await saveResponse(deps, context.principal, response, items);
      return response;
    },
  };
}

export function toResponseUsage(usage: Usage): ResponseUsage {
  return {
    input_tokens: usage.promptTokens,
    input_tokens_details: { cached_tokens: usage.cachedPromptTokens, cache_write_tokens: 0 },
    output_tokens: usage.completionTokens,
    // Engines report no separate reasoning count: reasoning text is inside output_tokens.
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: usage.promptTokens + usage.completionTokens,
  };
}
