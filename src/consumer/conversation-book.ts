/** An end user's conversations: list, open, rename, delete, search. Nobody sees another's. */
import { SkylarkError } from '../core/errors.js';
import {
  createConversationSchema,
  renameConversationSchema,
  type ConversationDetail,
  type WireConversation,
  type WireSearchHit,
} from '../contracts/apps-api.js';
import { parseRequest } from '../contracts/parse.js';
import type { Conversation } from '../apps/conversations.js';
import type { EndUser } from '../apps/end-users.js';
import { searchMessages } from '../apps/search.js';
import { visibleApp } from './app-factory.js';
import type { ConsumerDeps } from './consumer-deps.js';
import { toWireConversation, toWireMessage } from './consumer-wire.js';
import { requireUser } from './end-user-auth.js';

export const untitled = 'New chat';

export async function ownConversation(deps: ConsumerDeps, user: EndUser, id: string): Promise<Conversation> {
  const conversation = await deps.conversations.get(id);
  // Someone else's conversation answers exactly like one that does not exist.
  if (conversation === undefined || conversation.endUserId !== user.id) {
    throw new SkylarkError('not_found', `There is no conversation '${id}'.`);
  }
  return conversation;
}

export async function listConversations(
  deps: ConsumerDeps,
  viewer: EndUser | undefined,
  appSlug: string | undefined,
): Promise<WireConversation[]> {
  const user = requireUser(viewer);
  const app = appSlug === undefined ? undefined : await visibleApp(deps, user, appSlug);
  const conversations = await deps.conversations.listFor(user.id, app === undefined ? {} : { appId: app.id });
  const slugs = new Map<string, Promise<string>>();
  const slug = (appId: string) => {
    let found = slugs.get(appId);
    if (found === undefined) slugs.set(appId, (found = slugOf(deps, appId)));
    return found;
  };
  return Promise.all(conversations.map(async (c) => toWireConversation(c, await slug(c.appId))));
}

export async function createConversation(deps: ConsumerDeps, viewer: EndUser | undefined, body: unknown): Promise<WireConversation> {
  const user = requireUser(viewer);
  const request = parseRequest(createConversationSchema, body ?? {});
  const app = await visibleApp(deps, user, request.app);
  const conversation = await deps.conversations.create({
    endUserId: user.id,
    appId: app.id,
    title: untitled,
    model: app.model === null ? (request.model ?? null) : null,
  });
  return toWireConversation(conversation, app.slug);
}

export async function openConversation(deps: ConsumerDeps, viewer: EndUser | undefined, id: string): Promise<ConversationDetail> {
  const conversation = await ownConversation(deps, requireUser(viewer), id);
  const messages = await deps.conversations.messages(conversation.id);
  return {
    conversation: toWireConversation(conversation, await slugOf(deps, conversation.appId)),
    messages: messages.map(toWireMessage),
    generating: deps.runs.active(conversation.id) || (await deps.relay.writing(conversation.id)),
  };
}

export async function renameConversation(deps: ConsumerDeps, viewer: EndUser | undefined, id: string, body: unknown): Promise<WireConversation> {
  const conversation = await ownConversation(deps, requireUser(viewer), id);
  const { title } = parseRequest(renameConversationSchema, body);
  await deps.conversations.update(conversation.id, { title });
  return toWireConversation({ ...conversation, title }, await slugOf(deps, conversation.appId));
}

export async function deleteConversation(deps: ConsumerDeps, viewer: EndUser | undefined, id: string): Promise<void> {
  const conversation = await ownConversation(deps, requireUser(viewer), id);
  if (!deps.runs.stop(conversation.id)) await deps.relay.stop(conversation.id);
  await deps.conversations.delete(conversation.id);
}

export async function searchConversations(deps: ConsumerDeps, viewer: EndUser | undefined, query: string): Promise<WireSearchHit[]> {
  const user = requireUser(viewer);
  const hits = await searchMessages(deps.db, user.id, query.slice(0, 200));
  return hits.map((hit) => ({
    message_id: hit.messageId,
    conversation_id: hit.conversationId,
    conversation_title: hit.conversationTitle,
    role: hit.role,
    snippet: hit.snippet,
    created_at: hit.createdAt,
  }));
}

async function slugOf(deps: ConsumerDeps, appId: string): Promise<string> {
  return (await deps.apps.byId(appId))?.slug ?? 'chat';
}
