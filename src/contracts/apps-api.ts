/**
 * The web app's API (/api/…): request schemas the server validates and the JSON shapes it
 * answers with. The web client imports the types only, so zod stays out of its bundle.
 * Field names are snake_case like the rest of Skylark's wire formats.
 */
import { z } from 'zod';

export const credentialsSchema = z.object({
  username: z.string().regex(/^[a-zA-Z0-9_.-]{3,32}$/, 'must be 3 to 32 letters, digits, dots, dashes or underscores'),
  password: z.string().min(8).max(200),
});

const slug = z.string().regex(/^[a-z0-9](?:[a-z0-9-]{1,38}[a-z0-9])$/, 'must be 3 to 40 lower-case letters, digits or dashes');

const appFields = {
  name: z.string().trim().min(1).max(60),
  icon: z.string().trim().min(1).max(16),
  description: z.string().max(500),
  model: z.string().min(1).max(200).nullable(),
  system_prompt: z.string().max(8000),
  temperature: z.number().min(0).max(2).nullable(),
  max_tokens: z.number().int().min(1).max(32_768).nullable(),
  opening_message: z.string().max(2000),
  suggested_questions: z.array(z.string().trim().min(1).max(200)).max(6),
  fallback_model: z.string().min(1).max(200).nullable(),
  advanced: z.object({
    top_p: z.number().min(0).max(1).optional(),
    presence_penalty: z.number().min(-2).max(2).optional(),
    frequency_penalty: z.number().min(-2).max(2).optional(),
    stop: z.array(z.string().min(1)).max(4).optional(),
    logit_bias: z.record(z.string().regex(/^\d+$/), z.number().min(-100).max(100)).optional(),
  }),
  visibility: z.enum(['public', 'private']),
  daily_token_quota: z.number().int().min(0).max(100_000_000),
};

export const createAppSchema = z.object({
  ...appFields,
  description: appFields.description.default(''),
  icon: appFields.icon.default('🤖'),
  model: appFields.model.default(null),
  system_prompt: appFields.system_prompt.default(''),
  temperature: appFields.temperature.default(null),
  max_tokens: appFields.max_tokens.default(null),
  opening_message: appFields.opening_message.default(''),
  suggested_questions: appFields.suggested_questions.default([]),
  fallback_model: appFields.fallback_model.default(null),
  advanced: appFields.advanced.default({}),
  visibility: appFields.visibility.default('private'),
  daily_token_quota: appFields.daily_token_quota.default(20_000),
  slug: slug.optional(),
});
export type CreateAppRequest = z.input<typeof createAppSchema>;

export const updateAppSchema = z.object(appFields).partial();
export type UpdateAppRequest = z.input<typeof updateAppSchema>;

export const createConversationSchema = z.object({
  app: z.string().min(1).default('chat'),
  model: z.string().min(1).optional(),
});

export const renameConversationSchema = z.object({ title: z.string().trim().min(1).max(200) });

export const postMessageSchema = z.object({
  content: z.string().min(1).max(32_000),
  /** Only for apps that let the user pick (the built-in Chat app). */
  model: z.string().min(1).optional(),
  /** Edit and resend: this user message and everything after it are replaced. */
  replace_from: z.number().int().positive().optional(),
});
export type PostMessageRequest = z.input<typeof postMessageSchema>;

export interface WireEndUser {
  id: string;
  username: string | null;
  kind: 'member' | 'guest';
}

export interface SessionInfo {
  user: WireEndUser | null;
}

export interface WireApp {
  slug: string;
  name: string;
  icon: string;
  description: string;
  model: string | null;
  system_prompt: string;
  temperature: number | null;
  max_tokens: number | null;
  opening_message: string;
  suggested_questions: string[];
  fallback_model: string | null;
  advanced: {
    top_p?: number;
    presence_penalty?: number;
    frequency_penalty?: number;
    stop?: string[];
    logit_bias?: Record<string, number>;
  };
  visibility: 'public' | 'private';
  daily_token_quota: number;
  builtin: boolean;
  /** Whether the asking user owns it (may edit it and see its usage). */
  owned: boolean;
  updated_at: number;
}

export interface WireQuota {
  limit: number;
  used: number;
  /** Unix ms of the next reset (UTC midnight). */
  resets_at: number;
}

export interface WireAppUsageDay {
  day: string;
  tokens: number;
  requests: number;
  users: number;
}

export interface WireConversation {
  id: string;
  app: string;
  title: string;
  model: string | null;
  created_at: number;
  updated_at: number;
}

export type WireMessageStatus = 'complete' | 'streaming' | 'stopped' | 'error';

export interface WireMessage {
  id: number;
  role: 'user' | 'assistant';
  content: string;
  status: WireMessageStatus;
  error_code: string | null;
  model: string | null;
  created_at: number;
}

export interface ConversationDetail {
  conversation: WireConversation;
  messages: WireMessage[];
  /** A reply is being generated now: open the stream to follow it. */
  generating: boolean;
}

export interface WireSearchHit {
  message_id: number;
  conversation_id: string;
  conversation_title: string;
  role: 'user' | 'assistant';
  snippet: string;
  created_at: number;
}

export interface PostMessageResult {
  user_message: WireMessage;
  assistant_message: WireMessage;
}

export interface WireChatModel {
  id: string;
  ready: boolean;
}

/**
 * Events of GET /api/conversations/{id}/stream, one JSON object per `data:` line. A
 * `start` carries everything generated so far (so a reconnect loses nothing); `done` and
 * `error` carry the stored message. Waiting for compute arrives as SSE comments,
 * `: queue position=3 eta_ms=4200` (plus `eta_range_ms=2500-9000` where the estimate is
 * uncertain), the same form /v1 streams use.
 */
export type ReplyEvent =
  | { type: 'start'; message_id: number; text: string }
  | { type: 'delta'; text: string }
  | { type: 'done'; message: WireMessage }
  | { type: 'error'; message: WireMessage; error: { code: string; message: string }; retry_after_ms: number | null };
