/**
 * The row types of every table, as Kysely sees them. Column names are the SQL ones
 * (snake_case); repositories in src/billing map them to the camelCase domain types.
 *
 * Conventions shared by both dialects (see migrations/001-initial.ts):
 * - money is an integer count of micro-units of the row's currency (1 yuan = 1,000,000);
 * - times are integer milliseconds since the Unix epoch (no SQL timestamp types, so no
 *   timezone or dialect drift);
 * - booleans are integers 0/1 (SQLite has no boolean type);
 * - JSON is stored as text and parsed by the repository that owns the column.
 */
import type { ColumnType, Generated } from 'kysely';
import type { MediaUnitKind } from '../core/usage.js';

export type Currency = 'CNY' | 'USD';
export type TenantStatus = 'active' | 'suspended';
export type TenantTier = 'priority' | 'standard' | 'free';
export type EndpointStatus = 'started' | 'stopped';
export type LedgerKind = 'topup' | 'redeem' | 'usage' | 'adjustment' | 'refund';
export type UsageStatus = 'ok' | 'aborted' | 'error';

export interface TenantsTable {
  id: string;
  name: string;
  status: TenantStatus;
  currency: Currency;
  tier: TenantTier;
  /** 1 = operator/internal tenant: holds never fail for lack of balance. */
  unlimited: ColumnType<number, number | undefined, number>;
  created_at: number;
}

export interface ApiKeysTable {
  id: string;
  tenant_id: string;
  name: string;
  /** The first characters of the key, safe to show in lists. */
  prefix: string;
  /** sha256 hex of the whole key; the key itself is never stored. */
  hash: string;
  /** JSON array of allowed model ids / endpoint ids; `[]` = everything. */
  scopes: string;
  rpm: number;
  tpm: number;
  monthly_budget_micros: number | null;
  expires_at: number | null;
  revoked_at: number | null;
  created_at: number;
  last_used_at: number | null;
}

export interface EndpointsTable {
  id: string;
  /** null = a shared preset endpoint every tenant may call. */
  tenant_id: string | null;
  name: string;
  model_id: string;
  rpm: number;
  tpm: number | null;
  status: EndpointStatus;
  created_at: number;
  /** JSON array of model ids to fall back to, in order (migration 004); `[]` = the model's own. */
  fallbacks: ColumnType<string, string | undefined, string>;
}

export interface PricesTable {
  id: string;
  model_id: string;
  version: number;
  currency: Currency;
  input_per_m_micros: number;
  cached_input_per_m_micros: number;
  output_per_m_micros: number;
  batch_discount_pct: number;
  /** JSON array of prompt-length tiers, `[]` when the flat rates apply. */
  tiers: string;
  effective_from: number;
  created_at: number;
  /** Media rates (migration 007): micros per image unit, per 1M speech characters, per audio minute. */
  image_micros: ColumnType<number, number | undefined, number>;
  speech_per_m_chars_micros: ColumnType<number, number | undefined, number>;
  audio_per_minute_micros: ColumnType<number, number | undefined, number>;
  /** Context caching (migration 010): micros per 1M tokens held per hour. */
  context_storage_per_m_hour_micros: ColumnType<number, number | undefined, number>;
}

export interface LedgerEntriesTable {
  id: Generated<number>;
  tenant_id: string;
  kind: LedgerKind;
  /** Signed: credits positive, usage negative. */
  amount_micros: number;
  ref: string;
  created_at: number;
}

export interface TenantBalancesTable {
  tenant_id: string;
  balance_micros: number;
  /** Always 0 since migration 005: holds live with the gateways (billing/funds.ts). */
  reserved_micros: number;
  updated_at: number;
}

export interface UsageRecordsTable {
  request_id: string;
  tenant_id: string;
  api_key_id: string | null;
  endpoint_id: string | null;
  model_id: string;
  prompt_tokens: number;
  cached_tokens: number;
  completion_tokens: number;
  price_id: string | null;
  cost_micros: number;
  queue_ms: number;
  generation_ms: number;
  status: UsageStatus;
  batch: number;
  /** The engine replica that served it (migration 003); null for rows from before, or never served. */
  replica_id: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: number;
  /** Media requests (migration 007): what they were billed by; 0 and null for token-billed rows. */
  units: ColumnType<number, number | undefined, number>;
  unit_kind: ColumnType<MediaUnitKind | null, MediaUnitKind | null | undefined, MediaUnitKind | null>;
}

export interface RedeemCodesTable {
  id: string;
  code_hash: string;
  amount_micros: number;
  currency: Currency;
  expires_at: number | null;
  redeemed_by: string | null;
  redeemed_at: number | null;
  created_at: number;
}

export type EndUserKind = 'member' | 'guest';
export type AppVisibility = 'public' | 'private';
export type MessageRole = 'user' | 'assistant';
export type MessageStatus = 'complete' | 'streaming' | 'stopped' | 'error';

/** People using the web app (not tenants: they pay nothing and hold no API keys). */
export interface EndUsersTable {
  id: string;
  /** Lower-cased; null for guests. */
  username: string | null;
  /** `scrypt$N$r$p$salt$hash`; null for guests. */
  password_hash: string | null;
  kind: EndUserKind;
  created_at: number;
}

export interface EndUserSessionsTable {
  /** sha256 hex of the session token; the token itself lives only in the cookie. */
  id: string;
  end_user_id: string;
  expires_at: number;
  created_at: number;
}

export interface AppsTable {
  id: string;
  slug: string;
  /** null for built-in apps. */
  owner_id: string | null;
  name: string;
  icon: string;
  description: string;
  /** A model id or an `ep-…` endpoint id; null = the user picks (the built-in Chat app). */
  model: string | null;
  system_prompt: string;
  temperature: number | null;
  max_tokens: number | null;
  opening_message: string;
  /** JSON array of strings. */
  suggested_questions: string;
  fallback_model: string | null;
  /** JSON object of further sampling settings (top_p, penalties, stop, logit_bias). */
  advanced: string;
  visibility: AppVisibility;
  daily_token_quota: number;
  created_at: number;
  updated_at: number;
}

export interface ConversationsTable {
  id: string;
  end_user_id: string;
  app_id: string;
  title: string;
  /** The model picked for this conversation, when the app lets the user pick. */
  model: string | null;
  created_at: number;
  updated_at: number;
}

export interface MessagesTable {
  id: Generated<number>;
  conversation_id: string;
  role: MessageRole;
  content: string;
  /**
   * What the full-text index reads: the content with CJK characters spaced apart, so both
   * dialects' word tokenizers can match Chinese text character by character.
   */
  search_text: string;
  status: MessageStatus;
  error_code: string | null;
  model: string | null;
  prompt_tokens: number;
  completion_tokens: number;
  created_at: number;
}

export interface AppUsageDailyTable {
  app_id: string;
  end_user_id: string;
  /** UTC day, `YYYY-MM-DD`. */
  day: string;
  tokens: number;
  requests: number;
}

/** Responses API objects (migration 006), for previous_response_id and GET /v1/responses/{id}. */
export interface StoredResponsesTable {
  /** `resp_…` */
  id: string;
  tenant_id: string;
  model: string;
  status: string;
  previous_response_id: string | null;
  /** JSON array: every input item the model saw, earlier turns first (instructions excluded). */
  input_items: string;
  /** JSON array: the output items it answered with. */
  output_items: string;
  /** JSON object: the rest of the Response object, as sent. */
  response: string;
  created_at: number;
}

export interface Database {
  tenants: TenantsTable;
  api_keys: ApiKeysTable;
  endpoints: EndpointsTable;
  prices: PricesTable;
  ledger_entries: LedgerEntriesTable;
  tenant_balances: TenantBalancesTable;
  usage_records: UsageRecordsTable;
  redeem_codes: RedeemCodesTable;
  end_users: EndUsersTable;
  end_user_sessions: EndUserSessionsTable;
  apps: AppsTable;
  conversations: ConversationsTable;
  messages: MessagesTable;
  app_usage_daily: AppUsageDailyTable;
  stored_responses: StoredResponsesTable;
  files: FilesTable;
  batches: BatchesTable;
  batch_lines: BatchLinesTable;
  contexts: ContextsTable;
}

/** An uploaded file's metadata (migration 008); its bytes live in a FileStorage under `storage_key`. */
export interface FilesTable {
  id: string;
  tenant_id: string;
  filename: string;
  purpose: string;
  bytes: number;
  storage_key: string;
  created_at: number;
  expires_at: number | null;
}

export type BatchStatus = 'validating' | 'failed' | 'in_progress' | 'finalizing' | 'completed' | 'expired' | 'cancelling' | 'cancelled';

/** A batch job (migration 008); `owner`/`heartbeat_at` are the lease of the gateway running it. */
export interface BatchesTable {
  id: string;
  tenant_id: string;
  api_key_id: string | null;
  endpoint: string;
  input_file_id: string;
  completion_window: string;
  status: BatchStatus;
  model: string | null;
  /** JSON object of string values, or null. */
  metadata: string | null;
  /** JSON array of OpenAI BatchError objects, or null. */
  errors: string | null;
  output_file_id: string | null;
  error_file_id: string | null;
  total: ColumnType<number, number | undefined, number>;
  created_at: number;
  expires_at: number;
  in_progress_at: number | null;
  finalizing_at: number | null;
  completed_at: number | null;
  failed_at: number | null;
  expired_at: number | null;
  cancelling_at: number | null;
  cancelled_at: number | null;
  owner: string | null;
  heartbeat_at: number | null;
}

export type BatchLineStatus = 'pending' | 'ok' | 'error';

/** One request of a batch and, once run, its output line (JSON) — durable progress. */
export interface BatchLinesTable {
  batch_id: string;
  line_no: number;
  custom_id: string;
  /** The request body, JSON. */
  body: string;
  status: BatchLineStatus;
  /** The output line `{id, custom_id, response, error}`, JSON; null while pending. */
  result: string | null;
  finished_at: number | null;
}

export type ContextMode = 'session' | 'common_prefix';
export type ContextStatus = 'active' | 'expired' | 'deleted';

/** An Ark-style cached context (migration 010); see src/contexts/stored-contexts.ts. */
export interface ContextsTable {
  id: string;
  tenant_id: string;
  api_key_id: string | null;
  /** As the client named it: a model id or an `ep-…` endpoint. */
  model: string;
  /** The catalog model it resolved to: its price is the storage price. */
  model_id: string;
  endpoint_id: string | null;
  mode: ContextMode;
  status: ContextStatus;
  /** JSON array of chat messages (OpenAI's shape); `[]` once freed. */
  messages: string;
  tokens: number;
  ttl_s: number;
  created_at: number;
  last_used_at: number;
  expires_at: number;
  freed_at: number | null;
  accrued_at: number;
  storage_remainder: ColumnType<number, number | undefined, number>;
  storage_charged_micros: ColumnType<number, number | undefined, number>;
  storage_seq: ColumnType<number, number | undefined, number>;
  /** JSON of Ark's truncation strategy (migration 011); null: none. */
  truncation: ColumnType<string | null, string | null | undefined, string | null>;
  /** JSON array of the history's turns `{messages, tokens}` after the creation's messages. */
  turns: ColumnType<string, string | undefined, string>;
}
