/** Domain rows → the web API's JSON (src/contracts/apps-api.ts). */
import type { App } from '../apps/apps.js';
import type { Conversation, Message } from '../apps/conversations.js';
import type { EndUser } from '../apps/end-users.js';
import type { WireApp, WireConversation, WireEndUser, WireMessage } from '../contracts/apps-api.js';

export function toWireEndUser(user: EndUser): WireEndUser {
  return { id: user.id, username: user.username, kind: user.kind };
}

export function toWireApp(app: App, viewer: EndUser | undefined): WireApp {
  const owned = viewer !== undefined && app.ownerId === viewer.id;
  return {
    slug: app.slug,
    name: app.name,
    icon: app.icon,
    description: app.description,
    model: app.model,
    // An app's prompt is its maker's work: only the owner sees it.
    system_prompt: owned ? app.systemPrompt : '',
    temperature: app.temperature,
    max_tokens: app.maxTokens,
    opening_message: app.openingMessage,
    suggested_questions: app.suggestedQuestions,
    fallback_model: app.fallbackModel,
    advanced: app.advanced,
    visibility: app.visibility,
    daily_token_quota: app.dailyTokenQuota,
    builtin: app.ownerId === null,
    owned,
    updated_at: app.updatedAt,
  };
}

export function toWireConversation(conversation: Conversation, appSlug: string): WireConversation {
  return {
    id: conversation.id,
    app: appSlug,
    title: conversation.title,
    model: conversation.model,
    created_at: conversation.createdAt,
    updated_at: conversation.updatedAt,
  };
}

export function toWireMessage(message: Message): WireMessage {
  return {
    id: message.id,
    role: message.role,
    content: message.content,
    status: message.status,
    error_code: message.errorCode,
    model: message.model,
    created_at: message.createdAt,
  };
}
