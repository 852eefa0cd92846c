/**
 * Ark-style context caching (`POST /v1/context/create`, `GET /v1/contexts`): requests and
 * the objects answered. Ark's TTL bounds are 3600..604800 s (default 86400); the lower
 * bound is checked by the use case, because an operator may lower it (config
 * `contexts.minTtlSeconds`) for tests and demos.
 */
import { z } from 'zod';
import { chatMessageSchema } from './chat-request.js';

export const maxContextTtlSeconds = 604_800;
export const defaultContextTtlSeconds = 86_400;

const positiveTokens = z.int().min(1).max(10_000_000);

/** Ark's strategies; fields left out are filled by the use case (defaults in src/contexts/truncation.ts). */
const truncationStrategyRequest = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('last_history_tokens'),
    last_history_tokens: positiveTokens.optional().meta({ description: 'Keep only the newest turns whose tokens add up to at most this (default 4096).' }),
  }),
  z.strictObject({
    type: z.literal('rolling_tokens'),
    rolling_tokens: z.boolean().default(true).meta({ description: 'false: the history is never dropped.' }),
    max_window_tokens: positiveTokens.optional().meta({ description: "Once the context passes this many tokens, the oldest turns go (default: the model's context window)." }),
    rolling_window_tokens: positiveTokens.optional().meta({ description: 'At least this many tokens go at a time (default: a quarter of max_window_tokens).' }),
  }),
]);

export const createContextRequestSchema = z.object({
  model: z.string().min(1).meta({ description: 'A model id or an `ep-…` endpoint.' }),
  mode: z.enum(['session', 'common_prefix']).default('session').meta({
    description: '`session`: each turn (the new messages and the answer) is appended; `common_prefix`: read-only, shared by every request naming it.',
  }),
  messages: z.array(chatMessageSchema).min(1),
  ttl: z.int().min(1).max(maxContextTtlSeconds).default(defaultContextTtlSeconds).meta({
    description: 'Seconds the context is kept after its last use (3600..604800; reset on every use).',
  }),
  truncation_strategy: truncationStrategyRequest.nullish().meta({
    description:
      'Session mode only: how the history is kept short. The messages the context is created with are always kept; turns (the new messages and their answer) go whole, oldest first.',
  }),
});

export type CreateContextRequest = z.infer<typeof createContextRequestSchema>;

export const listContextsQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  after: z.string().min(1).optional().meta({ description: 'The last id of the previous page.' }),
});

const usage = z.object({
  prompt_tokens: z.int(),
  completion_tokens: z.int(),
  total_tokens: z.int(),
  prompt_tokens_details: z.object({ cached_tokens: z.int() }),
});

/** What create answers: Ark's object, plus Skylark's `object`, times and storage. */
export const contextObject = z.object({
  id: z.string(),
  object: z.literal('context'),
  model: z.string(),
  mode: z.enum(['session', 'common_prefix']),
  ttl: z.int(),
  truncation_strategy: z
    .union([
      z.object({ type: z.literal('last_history_tokens'), last_history_tokens: z.int() }),
      z.object({ type: z.literal('rolling_tokens'), rolling_tokens: z.boolean(), max_window_tokens: z.int(), rolling_window_tokens: z.int() }),
    ])
    .nullable(),
  status: z.enum(['active', 'expired', 'deleted']),
  tokens: z.int().meta({ description: 'Tokens of the cached prefix: billed as cached input on every use.' }),
  message_count: z.int().meta({ description: 'Messages in the context.' }),
  created_at: z.int(),
  last_used_at: z.int(),
  expires_at: z.int(),
  storage_charged: z.string().meta({ description: 'Storage charged so far, currency units.' }),
  storage_charged_micros: z.int(),
  usage: usage.optional().meta({ description: 'Create only: the prompt tokens the context was billed for.' }),
});

export type ContextObject = z.infer<typeof contextObject>;

export const contextList = z.object({
  object: z.literal('list'),
  data: z.array(contextObject),
  first_id: z.string().nullable(),
  last_id: z.string().nullable(),
  has_more: z.boolean(),
});

export const deletedContext = z.object({ id: z.string(), object: z.literal('context.deleted'), deleted: z.literal(true) });
