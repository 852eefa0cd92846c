/**
 * One reply of the web app, generated in process through the same chat use case as
 * /v1/chat/completions (so scheduling, metering and billing are the API's), fed into a
 * ChatRun that followers replay, and stored when it ends, whatever the browser does.
 */
import { toSkylarkError, type SkylarkError } from '../core/errors.js';
import { newId } from '../core/ids.js';
import type { Usage } from '../core/usage.js';
import type { App } from '../apps/apps.js';
import type { Conversation, Message } from '../apps/conversations.js';
import type { EndUser } from '../apps/end-users.js';
import { createChatCompletion } from '../gateway/chat-completion.js';
import { QueueNotice } from '../gateway/queue-notice.js';
import type { ChatRun, RunEnd } from './chat-runs.js';
import { webAppPrincipal, type ConsumerDeps } from './consumer-deps.js';
import { toWireMessage } from './consumer-wire.js';
import type { GatewayDeps, RequestContext } from '../gateway/request-context.js';

export interface ReplyPlan {
  user: EndUser;
  app: App;
  conversation: Conversation;
  model: string;
  /** Left of today's quota: the reply may not be longer. */
  tokensLeft: number;
}

type Attempt =
  | { kind: 'ok'; model: string; usage: Usage | undefined }
  | { kind: 'stopped'; model: string; usage: Usage | undefined }
  | { kind: 'failed'; model: string; usage: Usage | undefined; error: SkylarkError };

/** Context sizes are unknown for some upstreams: cap replies as the paid path does. */
const unknownContextCap = 4096;
const templateBytesPerMessage = 16;

export async function writeReply(deps: ConsumerDeps, run: ChatRun, plan: ReplyPlan, history: Message[]): Promise<RunEnd> {
  const models = [...new Set([plan.model, plan.app.fallbackModel].filter((m): m is string => m !== null))];
  let attempt: Attempt | undefined;
  for (const model of models) {
    attempt = await generate(deps, run, plan, history, model);
    // The fallback is for a model that cannot start (down, overloaded), not for one that failed mid-answer.
    const canFallBack = attempt.kind === 'failed' && attempt.error.isRetryable && run.text === '' && !run.signal.aborted;
    if (!canFallBack) break;
  }
  return store(deps, run, plan, attempt!);
}

async function generate(deps: ConsumerDeps, run: ChatRun, plan: ReplyPlan, history: Message[], model: string): Promise<Attempt> {
  const context: RequestContext = { requestId: newId('req').slice(4), signal: run.signal, principal: webAppPrincipal(), responseHeaders: {} };
  let usage: Usage | undefined;
  // The exact usage of this request, aborted ones included, as the meter settles it.
  const gateway: GatewayDeps = {
    ...deps.gateway,
    usage: {
      record: (entry) => {
        deps.gateway.usage.record(entry);
        if (entry.requestId === context.requestId) usage = entry.usage;
      },
    },
  };
  try {
    const result = await createChatCompletion(gateway, requestBody(deps, plan, history, model), context);
    if (!result.stream) throw new Error('expected a stream');
    let served = model;
    for await (const chunk of result.chunks) {
      // A place in line while the request waits for a replica: the page shows it.
      if (chunk instanceof QueueNotice) {
        run.reportQueue(chunk.position, chunk.etaMs, chunk.range);
        continue;
      }
      served = chunk.model; // the scheduler may have granted a fallback model
      const text = chunk.choices[0]?.delta.content;
      if (text) run.push(text);
    }
    return { kind: 'ok', model: served, usage };
  } catch (error) {
    if (run.signal.aborted) return { kind: 'stopped', model, usage };
    return { kind: 'failed', model, usage, error: toSkylarkError(error) };
  }
}

/** The app's prompt and settings around as much recent history as the context holds. */
function requestBody(deps: ConsumerDeps, plan: ReplyPlan, history: Message[], model: string): Record<string, unknown> {
  const { app } = plan;
  const contextWindow = contextWindowOf(deps, model);
  // Budgeted in bytes: a token is never less than a byte, so this can only keep too little.
  let budget = Math.floor((contextWindow ?? 32_768) * 0.6) - app.systemPrompt.length;
  const kept: { role: 'user' | 'assistant'; content: string }[] = [];
  for (const message of [...history].reverse()) {
    if (message.content === '' || message.status === 'error' || message.status === 'streaming') continue;
    budget -= Buffer.byteLength(message.content) + templateBytesPerMessage;
    if (budget < 0 && kept.length > 0) break;
    kept.unshift({ role: message.role, content: message.content });
  }
  const promptBytes = kept.reduce((sum, m) => sum + Buffer.byteLength(m.content) + templateBytesPerMessage, Buffer.byteLength(app.systemPrompt));
  const room = contextWindow === null ? unknownContextCap : Math.max(1, contextWindow - promptBytes - templateBytesPerMessage);
  const maxTokens = Math.max(1, Math.min(app.maxTokens ?? room, room, plan.tokensLeft));
  const system = app.systemPrompt === '' ? [] : [{ role: 'system', content: app.systemPrompt }];
  return {
    ...app.advanced,
    model,
    messages: [...system, ...kept],
    stream: true,
    max_tokens: maxTokens,
    ...(app.temperature === null ? {} : { temperature: app.temperature }),
    user: plan.user.id,
  };
}

function contextWindowOf(deps: ConsumerDeps, model: string): number | null {
  return deps.gateway.catalog.list().find((entry) => entry.id === model)?.contextWindow ?? null;
}

async function store(deps: ConsumerDeps, run: ChatRun, plan: ReplyPlan, attempt: Attempt): Promise<RunEnd> {
  const usage = attempt.usage;
  const status = attempt.kind === 'ok' ? 'complete' : attempt.kind === 'stopped' ? 'stopped' : 'error';
  const errorCode = attempt.kind === 'failed' ? attempt.error.code : attempt.kind === 'stopped' && !run.stoppedByUser ? 'interrupted' : null;
  const message = await deps.conversations.finish(run.messageId, {
    content: run.text,
    status,
    errorCode,
    model: attempt.model,
    promptTokens: usage?.promptTokens ?? 0,
    completionTokens: usage?.completionTokens ?? 0,
  });
  if (usage !== undefined) await deps.quotas.add(plan.app.id, plan.user.id, usage.promptTokens + usage.completionTokens);
  if (attempt.kind !== 'failed') return { message: toWireMessage(message) };
  const { error } = attempt;
  return {
    message: toWireMessage(message),
    error: { code: error.code, message: error.message, retryAfterMs: error.retryAfterMs ?? null },
  };
}
