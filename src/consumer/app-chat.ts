/**
 * Sending a message in the web app: check the quota, store the user's message, and start
 * the reply as a server-side run (app-reply.ts) that outlives the browser request. The
 * HTTP request returns at once; the page follows the reply on the stream.
 */
import { SkylarkError } from '../core/errors.js';
import { postMessageSchema, type PostMessageResult } from '../contracts/apps-api.js';
import { parseRequest } from '../contracts/parse.js';
import type { App } from '../apps/apps.js';
import type { Conversation, Message } from '../apps/conversations.js';
import type { EndUser } from '../apps/end-users.js';
import { nextUtcMidnight } from '../apps/quotas.js';
import { dailyLimit } from './app-factory.js';
import { writeReply, type ReplyPlan } from './app-reply.js';
import type { ConsumerDeps } from './consumer-deps.js';
import { toWireMessage } from './consumer-wire.js';
import { ownConversation, untitled } from './conversation-book.js';
import { requireUser } from './end-user-auth.js';

export async function sendMessage(deps: ConsumerDeps, viewer: EndUser | undefined, conversationId: string, body: unknown): Promise<PostMessageResult> {
  const user = requireUser(viewer);
  const input = parseRequest(postMessageSchema, body);
  const conversation = await ownConversation(deps, user, conversationId);
  return withReservation(deps, conversation.id, async () => {
    const plan = await planReply(deps, user, conversation, input.model);
    if (input.replace_from !== undefined) await cutBackTo(deps, conversation, input.replace_from);
    const userMessage = await deps.conversations.append(conversation.id, { role: 'user', content: input.content, status: 'complete' });
    const changes: { title?: string; model?: string | null } = {};
    if (conversation.title === untitled) changes.title = titleFrom(input.content);
    if (plan.app.model === null && conversation.model !== plan.model) changes.model = plan.model;
    if (Object.keys(changes).length > 0) await deps.conversations.update(conversation.id, changes);
    const assistant = await startReply(deps, plan);
    return { user_message: toWireMessage(userMessage), assistant_message: toWireMessage(assistant) };
  });
}

/** Answers the last user message again, replacing every reply after it. */
export async function regenerate(deps: ConsumerDeps, viewer: EndUser | undefined, conversationId: string): Promise<PostMessageResult> {
  const user = requireUser(viewer);
  const conversation = await ownConversation(deps, user, conversationId);
  return withReservation(deps, conversation.id, async () => {
    const messages = await deps.conversations.messages(conversation.id);
    const lastUser = [...messages].reverse().find((message) => message.role === 'user');
    if (lastUser === undefined) throw new SkylarkError('invalid_request', 'There is no message to answer yet.');
    const plan = await planReply(deps, user, conversation, undefined);
    const after = messages.find((message) => message.id > lastUser.id);
    if (after !== undefined) await deps.conversations.truncateFrom(conversation.id, after.id);
    const assistant = await startReply(deps, plan);
    return { user_message: toWireMessage(lastUser), assistant_message: toWireMessage(assistant) };
  });
}

export async function stopReply(deps: ConsumerDeps, viewer: EndUser | undefined, conversationId: string): Promise<{ stopped: boolean }> {
  const conversation = await ownConversation(deps, requireUser(viewer), conversationId);
  // The reply may be written by another gateway: the relay carries the stop there.
  return { stopped: deps.runs.stop(conversation.id) || (await deps.relay.stop(conversation.id)) };
}

/** One reply at a time per conversation: in this process, then across gateways. */
async function withReservation<T>(deps: ConsumerDeps, conversationId: string, work: () => Promise<T>): Promise<T> {
  if (!deps.runs.reserve(conversationId)) throw stillWriting();
  let claimed = false;
  try {
    claimed = await deps.relay.claim(conversationId);
    if (!claimed) throw stillWriting();
    return await work();
  } finally {
    deps.runs.release(conversationId); // a no-op once the run has started
    if (claimed) await deps.relay.unclaim(conversationId); // likewise
  }
}

function stillWriting(): SkylarkError {
  return new SkylarkError('invalid_request', 'A reply is still being written in this conversation: stop it or wait for it.');
}

/** Which model answers, with how many tokens, within today's quota — or the quota error. */
async function planReply(deps: ConsumerDeps, user: EndUser, conversation: Conversation, requested: string | undefined): Promise<ReplyPlan> {
  const app = await deps.apps.byId(conversation.appId);
  if (app === undefined) throw new SkylarkError('not_found', 'The app of this conversation no longer exists.');
  const model = app.model ?? pickModel(deps, requested ?? conversation.model);
  const limit = dailyLimit(deps, app, user);
  const used = await deps.quotas.used(app.id, user.id);
  if (used >= limit) throw quotaExhausted(deps, app, limit);
  return { user, app, conversation, model, tokensLeft: limit - used };
}

/** The user's pick in apps that allow one: any chat model of the catalog, else the first. */
function pickModel(deps: ConsumerDeps, requested: string | null): string {
  const chat = deps.gateway.catalog.list().filter((entry) => entry.capabilities.includes('chat'));
  if (requested != null) {
    if (chat.some((entry) => entry.id === requested)) return requested;
    throw new SkylarkError('model_not_found', `The model '${requested}' does not exist or you do not have access to it.`, { param: 'model' });
  }
  if (chat[0] === undefined) throw new SkylarkError('engine_unavailable', 'No chat model is configured.', { retryAfterMs: 60_000 });
  return chat[0].id;
}

function quotaExhausted(deps: ConsumerDeps, app: App, limit: number): SkylarkError {
  const now = deps.now();
  const resets = nextUtcMidnight(now);
  return new SkylarkError(
    'quota_exhausted',
    `You have used today's ${limit} free tokens for '${app.name}'. They reset at ${new Date(resets).toISOString()}.`,
    { retryAfterMs: resets - now },
  );
}

async function cutBackTo(deps: ConsumerDeps, conversation: Conversation, messageId: number): Promise<void> {
  const message: Message | undefined = await deps.conversations.message(messageId);
  if (message === undefined || message.conversationId !== conversation.id || message.role !== 'user') {
    throw new SkylarkError('invalid_request', `Message ${messageId} is not one of your messages in this conversation.`, { param: 'replace_from' });
  }
  await deps.conversations.truncateFrom(conversation.id, messageId);
}

async function startReply(deps: ConsumerDeps, plan: ReplyPlan): Promise<Message> {
  const history = await deps.conversations.messages(plan.conversation.id);
  const assistant = await deps.conversations.append(plan.conversation.id, {
    role: 'assistant',
    content: '',
    status: 'streaming',
    model: plan.model,
  });
  deps.runs.start(plan.conversation.id, assistant.id, (run) => writeReply(deps, run, plan, history));
  return assistant;
}

function titleFrom(content: string): string {
  const line = content.trim().split('\n')[0]!.trim();
  return line.length <= 60 ? line || untitled : `${line.slice(0, 59)}…`;
}
