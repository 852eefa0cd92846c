/**
 * Ark-style context caching (issue 11 item 4): `POST /v1/context/create` keeps a prefix of
 * messages as `ctx-…`; a chat request naming it (`/v1/context/chat/completions`, Ark's
 * path, or `context_id` on `/v1/chat/completions`) runs with the prefix prepended, the
 * prefix's tokens billed as cached input; `session` contexts grow by each turn,
 * `common_prefix` ones are read-only. Creation is a scheduled request on a replica of the
 * model: llama.cpp evaluates the prefix into a sequence there (prefillChat), a remote
 * engine is sent it once with max_tokens 1 so the upstream counts it and may keep it in
 * its prefix cache; later requests go to that replica by the scheduler's prefix affinity.
 * Storage is charged by src/contexts. Another tenant's id answers 404 like a missing one.
 */
import { z } from 'zod';
import { SkylarkError, toSkylarkError } from '../core/errors.js';
import { formatMicros } from '../core/money.js';
import { estimateTokens } from '../core/tokens.js';
import type { Usage } from '../core/usage.js';
import { parseRequest } from '../contracts/parse.js';
import { chatMessageSchema } from '../contracts/chat-request.js';
import {
  createContextRequestSchema,
  listContextsQuery,
  maxContextTtlSeconds,
  type ContextObject,
  type CreateContextRequest,
} from '../contracts/context-request.js';
import type { JsonObject, StoredContext, StoredContexts } from '../contexts/stored-contexts.js';
import { defaultLastHistoryTokens, defaultRollingShare, turnsToDrop, type ContextTurn, type TruncationStrategy } from '../contexts/truncation.js';
import type { ChatGeneration, Engine, GenerationPart } from '../engines/engine.js';
import type { Principal } from '../tenancy/access.js';
import { createChatCompletion, type ChatCompletionResult } from './chat-completion.js';
import type { ContextPrefix } from './context-prefix.js';
import { toEngineMessages } from './chat-messages.js';
import { QueueNotice } from './queue-notice.js';
import type { GatewayDeps, RequestContext } from './request-context.js';
import { resolveTarget } from './resolve-model.js';
import { startChat } from './scheduled-run.js';

/** What the gateway needs to serve contexts (absent: the routes answer 404). */
export interface ContextCache {
  store: StoredContexts;
  /** Shortest `ttl` accepted: Ark's 3600 unless the operator lowered it (config `contexts.minTtlSeconds`). */
  minTtlSeconds: number;
}

/** POST /v1/context/create: bills the prefix's prompt tokens at the input price, as Ark does. */
export async function createContext(deps: GatewayDeps, body: unknown, context: RequestContext): Promise<ContextObject> {
  const contexts = contextsOf(deps);
  const request = parseRequest(createContextRequestSchema, body);
  if (request.ttl < contexts.minTtlSeconds) {
    throw new SkylarkError('invalid_request', `Invalid value for 'ttl': expected ${contexts.minTtlSeconds}..${maxContextTtlSeconds} seconds, got ${request.ttl}.`, { param: 'ttl' });
  }
  const { principal } = context;
  const target = await resolveTarget(deps, principal, request.model, 'chat');
  const truncation = truncationOf(request, target.model.contextWindow);
  const generation: ChatGeneration = {
    model: target.model.engineModel,
    messages: toEngineMessages(request.messages, target.model),
    signal: context.signal,
    requestId: context.requestId,
    stream: false,
    // Held and scheduled as a one-token answer; prefillParts never bills that token.
    maxTokens: 1,
  };
  const { parts } = await startChat(deps, context, target, generation, 'context.create', undefined, { run: prefillParts });
  let usage: Usage | undefined;
  for await (const part of parts) {
    if (part instanceof QueueNotice) continue;
    if (part.type === 'error') throw part.error;
    if (part.type === 'finish') usage = part.usage;
  }
  if (usage === undefined) throw new SkylarkError('internal_error', 'The context was not evaluated.');
  const stored = await contexts.store.create({
    tenantId: principal.tenantId,
    apiKeyId: principal.keyId,
    model: request.model,
    modelId: target.model.id,
    endpointId: target.endpoint?.id ?? null,
    mode: request.mode,
    messages: request.messages as JsonObject[],
    tokens: usage.promptTokens,
    ttlSeconds: request.ttl,
    truncation,
  });
  return {
    ...contextView(stored),
    usage: { prompt_tokens: usage.promptTokens, completion_tokens: 0, total_tokens: usage.promptTokens, prompt_tokens_details: { cached_tokens: 0 } },
  };
}

/**
 * The creation's work on the replica granted: evaluate the prefix where the engine keeps KV
 * state in process, else ask the upstream for one token (it counts the prompt and may cache
 * it); the token it answers is not billed. Usage: the prompt tokens only, none cached.
 */
async function* prefillParts(engine: Engine, generation: ChatGeneration): AsyncGenerator<GenerationPart> {
  const billed = (promptTokens: number): GenerationPart => ({
    type: 'finish',
    finishReason: 'stop',
    usage: { promptTokens, completionTokens: 0, cachedPromptTokens: 0 },
  });
  try {
    if (engine.prefillChat !== undefined) {
      yield billed((await engine.prefillChat(generation)).promptTokens);
      return;
    }
    for await (const part of engine.chat({ ...generation, maxTokens: 1 })) {
      if (part.type === 'error') {
        yield { ...part, usage: { ...part.usage, completionTokens: 0 } };
        return;
      }
      if (part.type === 'finish') {
        const counted = part.usage.promptTokens > 0 ? part.usage.promptTokens : estimatePrompt(generation);
        yield billed(counted);
        return;
      }
    }
  } catch (error) {
    yield { type: 'error', error: toSkylarkError(error), usage: { promptTokens: 0, completionTokens: 0, cachedPromptTokens: 0 } };
  }
}

function estimatePrompt(generation: ChatGeneration): number {
  return generation.messages.reduce((sum, message) => sum + estimateTokens(message.content), 0);
}

const newTurn = z.object({ messages: z.array(chatMessageSchema).min(1) });

/**
 * A chat completion on a context: the context's messages, then the request's. Used by Ark's
 * `POST /v1/context/chat/completions` and by `/v1/chat/completions` with `context_id`.
 */
export async function contextChatCompletion(deps: GatewayDeps, body: unknown, context: RequestContext): Promise<ChatCompletionResult> {
  const contexts = contextsOf(deps);
  const { context_id: id, ...rest } = isObject(body) ? body : {};
  if (typeof id !== 'string' || id === '') {
    throw new SkylarkError('invalid_request', "Missing required parameter: 'context_id'.", { param: 'context_id' });
  }
  const stored = await activeContext(contexts, context.principal, id);
  const model = rest.model ?? stored.model;
  if (model !== stored.model) {
    throw new SkylarkError('invalid_request', `The context '${id}' was created for the model '${stored.model}', not '${String(model)}'.`, { param: 'model' });
  }
  const { messages } = parseRequest(newTurn, { messages: rest.messages });
  // The use (the span held so far charged, the TTL started again from now) waits for the
  // request's hold: one refused for funds or by a rate limit leaves the context as it was.
  let used = stored;
  const prefix: ContextPrefix = {
    tokens: stored.tokens,
    onHeld: async () => {
      const fresh = await contexts.store.use(stored);
      if (fresh === undefined) throw expired(id);
      used = fresh;
    },
  };
  if (stored.mode === 'session') {
    prefix.onAnswer = async (answer) => {
      const reply: JsonObject = { role: 'assistant', content: answer.text };
      if (answer.toolCalls.length > 0) {
        reply.tool_calls = answer.toolCalls.map((call) => ({ id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments } }));
      }
      const total = answer.usage.promptTokens + answer.usage.completionTokens;
      const turns = [...stored.turns, { messages: messages.length + 1, tokens: Math.max(1, total - stored.tokens) }];
      let grown = [...stored.messages, ...(messages as JsonObject[]), reply];
      const drop = turnsToDrop(turns, total - sumTokens(turns), stored.truncation);
      const dropped = turns.splice(0, drop);
      if (drop > 0) {
        // The oldest turns sit right after the creation's messages.
        const initial = grown.length - sumMessages(dropped) - sumMessages(turns);
        grown = [...grown.slice(0, initial), ...grown.slice(initial + sumMessages(dropped))];
      }
      await contexts.store.use(used, { messages: grown, tokens: total - sumTokens(dropped), turns });
    };
  }
  return createChatCompletion(deps, { ...rest, model, messages: [...stored.messages, ...messages] }, context, prefix);
}

const sumTokens = (turns: readonly ContextTurn[]) => turns.reduce((sum, turn) => sum + turn.tokens, 0);
const sumMessages = (turns: readonly ContextTurn[]) => turns.reduce((sum, turn) => sum + turn.messages, 0);

/** The strategy asked for, with Ark's left-out fields filled; only session contexts forget. */
function truncationOf(request: CreateContextRequest, contextWindow: number | null): TruncationStrategy | null {
  const asked = request.truncation_strategy;
  if (asked === undefined || asked === null) return null;
  const invalid = (message: string) => new SkylarkError('invalid_request', message, { param: 'truncation_strategy' });
  if (request.mode !== 'session') throw invalid("'truncation_strategy' applies to session contexts only: a common_prefix context never grows.");
  if (asked.type === 'last_history_tokens') return { type: asked.type, last_history_tokens: asked.last_history_tokens ?? defaultLastHistoryTokens };
  const max = asked.max_window_tokens ?? contextWindow;
  if (max === null) throw invalid("'max_window_tokens' is required: this model's context window is not configured.");
  const roll = asked.rolling_window_tokens ?? Math.max(1, Math.floor(max / defaultRollingShare));
  if (roll > max) throw invalid(`'rolling_window_tokens' (${roll}) cannot exceed 'max_window_tokens' (${max}).`);
  return { type: asked.type, rolling_tokens: asked.rolling_tokens, max_window_tokens: max, rolling_window_tokens: roll };
}

/** `/v1/chat/completions`: with `context_id`, a chat on that context; else the plain use case. */
export function chatCompletionOrContext(deps: GatewayDeps, body: unknown, context: RequestContext): Promise<ChatCompletionResult> {
  if (isObject(body) && body.context_id !== undefined && body.context_id !== null) return contextChatCompletion(deps, body, context);
  return createChatCompletion(deps, body, context);
}

/** GET /v1/contexts: the tenant's active contexts, newest first. */
export async function listContexts(deps: GatewayDeps, principal: Principal, query: unknown) {
  const { limit, after } = parseRequest(listContextsQuery, query ?? {});
  const page = await contextsOf(deps).store.list(principal.tenantId, limit, after);
  if (page === undefined) throw new SkylarkError('not_found', `No context '${after}' of yours to list after.`, { param: 'after' });
  const data = page.data.map(contextView);
  return { object: 'list' as const, data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: page.hasMore };
}

/** GET /v1/contexts/{id}. */
export async function retrieveContext(deps: GatewayDeps, principal: Principal, id: string): Promise<ContextObject> {
  return contextView(await activeContext(contextsOf(deps), principal, id));
}

/** DELETE /v1/contexts/{id}: charges the storage up to now and frees it. */
export async function deleteContext(deps: GatewayDeps, principal: Principal, id: string) {
  const contexts = contextsOf(deps);
  const freed = await contexts.store.free(await activeContext(contexts, principal, id), 'deleted');
  if (freed.status === 'expired') throw expired(id);
  return { id, object: 'context.deleted' as const, deleted: true as const };
}

async function activeContext(contexts: ContextCache, principal: Principal, id: string): Promise<StoredContext> {
  const stored = await contexts.store.get(principal.tenantId, id);
  if (stored === undefined || stored.status === 'deleted') {
    throw new SkylarkError('not_found', `No context found with id '${id}'.`, { param: 'context_id' });
  }
  if (stored.status === 'expired') throw expired(id);
  return stored;
}

function expired(id: string): SkylarkError {
  return new SkylarkError('not_found', `context expired: '${id}' was not used within its TTL and has been freed.`, { param: 'context_id' });
}

export function contextView(stored: StoredContext): ContextObject {
  const seconds = (ms: number) => Math.floor(ms / 1000);
  return {
    id: stored.id,
    object: 'context',
    model: stored.model,
    mode: stored.mode,
    ttl: stored.ttlSeconds,
    truncation_strategy: stored.truncation,
    status: stored.status,
    tokens: stored.tokens,
    message_count: stored.messages.length,
    created_at: seconds(stored.createdAt),
    last_used_at: seconds(stored.lastUsedAt),
    expires_at: seconds(stored.expiresAt),
    storage_charged: formatMicros(stored.storageChargedMicros),
    storage_charged_micros: stored.storageChargedMicros,
  };
}

function contextsOf(deps: GatewayDeps): ContextCache {
  if (deps.contexts === undefined) throw new SkylarkError('not_found', 'Context caching is not enabled on this server.');
  return deps.contexts;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
