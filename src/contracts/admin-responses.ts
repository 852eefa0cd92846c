/**
 * What the admin API, `GET /v1/usage` and `GET /v1/balance` answer, as zod schemas: the
 * types the gateway's views must produce, and the response part of the OpenAPI document.
 * Money is given twice: exact integer micros (`…_micros`) and the same as a decimal string
 * of currency units. Times are Unix seconds; null where a thing has not happened.
 */
import { z } from 'zod';

const seconds = z.int();
const maybeSeconds = seconds.nullable();
const currency = z.enum(['CNY', 'USD']);
const list = <T extends z.ZodType>(item: T) => z.object({ object: z.literal('list'), data: z.array(item) });

export const tenantObject = z.object({
  object: z.literal('tenant'),
  id: z.string(),
  name: z.string(),
  status: z.enum(['active', 'suspended']),
  tier: z.enum(['priority', 'standard', 'free']),
  currency,
  unlimited: z.boolean(),
  created_at: seconds,
});

export const apiKeyObject = z.object({
  object: z.literal('api_key'),
  id: z.string(),
  tenant_id: z.string(),
  name: z.string(),
  prefix: z.string().meta({ description: 'The first characters of the key, to tell keys apart.' }),
  models: z.array(z.string()).meta({ description: 'Model or endpoint ids it may call; empty: all.' }),
  rpm: z.int(),
  tpm: z.int(),
  monthly_budget_micros: z.int().nullable(),
  monthly_budget: z.string().nullable(),
  expires_at: maybeSeconds,
  revoked_at: maybeSeconds,
  created_at: seconds,
  last_used_at: maybeSeconds,
});

export const createdApiKeyObject = apiKeyObject.extend({
  key: z.string().meta({ description: 'The secret key, sk-…: shown this once, stored only as a hash.' }),
});

export const endpointObject = z.object({
  object: z.literal('endpoint'),
  id: z.string(),
  tenant_id: z.string().nullable().meta({ description: 'null: a shared preset.' }),
  name: z.string(),
  model: z.string(),
  rpm: z.int(),
  tpm: z.int().nullable(),
  status: z.enum(['started', 'stopped']),
  fallbacks: z.array(z.string()).meta({ description: "Its fallback models, in order; empty: its model's own." }),
  created_at: seconds,
});

const rates = {
  input: z.string().meta({ description: 'Per 1M prompt tokens, currency units.' }),
  cached_input: z.string(),
  output: z.string(),
  input_micros: z.int(),
  cached_input_micros: z.int(),
  output_micros: z.int(),
};

export const priceObject = z.object({
  object: z.literal('price'),
  id: z.string(),
  model: z.string(),
  version: z.int(),
  currency,
  ...rates,
  batch_discount_pct: z.int(),
  tiers: z.array(z.object({ up_to_prompt_tokens: z.int().nullable(), ...rates })),
  image: z.string().meta({ description: 'Per image unit, currency units.' }),
  image_micros: z.int(),
  speech_chars: z.string().meta({ description: 'Per 1M speech input characters, currency units.' }),
  speech_chars_micros: z.int(),
  audio_minute: z.string().meta({ description: 'Per minute of transcribed audio, currency units.' }),
  audio_minute_micros: z.int(),
  context_storage: z.string().meta({ description: 'Per 1M tokens of a cached context per hour, currency units.' }),
  context_storage_micros: z.int(),
  effective_from: seconds,
  created_at: seconds,
});

export const balanceObject = z.object({
  object: z.literal('balance'),
  tenant_id: z.string(),
  currency,
  unlimited: z.boolean().meta({ description: 'Never refused for lack of balance (the operator).' }),
  balance_micros: z.int(),
  reserved_micros: z.int().meta({ description: 'Held for requests being served.' }),
  available_micros: z.int().meta({ description: 'balance − reserved: what new requests may hold.' }),
  balance: z.string(),
  reserved: z.string(),
  available: z.string(),
});

export const topUpObject = z.object({
  object: z.literal('topup'),
  tenant_id: z.string(),
  amount_micros: z.int(),
  amount: z.string(),
  currency,
  ref: z.string(),
  balance: balanceObject,
});

export const ledgerEntryObject = z.object({
  object: z.literal('ledger_entry'),
  id: z.int(),
  tenant_id: z.string(),
  kind: z.enum(['topup', 'redeem', 'usage', 'adjustment', 'refund']),
  amount_micros: z.int().meta({ description: 'Signed: credits positive, usage negative.' }),
  amount: z.string(),
  ref: z.string().meta({ description: 'The request id for usage, the code id for redeem, the reference given for a top-up.' }),
  created_at: seconds,
});

export const ledgerPage = list(ledgerEntryObject).extend({
  has_more: z.boolean(),
  last_id: z.int().nullable().meta({ description: 'Pass as `before` for the next page.' }),
});

const redeemCodeBase = {
  object: z.literal('redeem_code'),
  id: z.string(),
  amount_micros: z.int(),
  amount: z.string(),
  currency,
  expires_at: maybeSeconds,
};

export const createdRedeemCodeObject = z.object({
  ...redeemCodeBase,
  code: z.string().meta({ description: 'SKY-XXXXX-…: shown this once, stored only as a hash.' }),
});

export const redeemCodeObject = z.object({
  ...redeemCodeBase,
  status: z.enum(['unused', 'redeemed', 'expired']),
  redeemed_by: z.string().nullable(),
  redeemed_at: maybeSeconds,
  created_at: seconds,
});

export const verificationObject = z.object({
  object: z.literal('ledger.verification'),
  ok: z.boolean(),
  tenants: z.int(),
  problems: z.array(
    z.object({
      tenant_id: z.string(),
      check: z.enum(['balance', 'usage']),
      actual_micros: z.int(),
      expected_micros: z.int(),
      message: z.string(),
    }),
  ),
});

export const usageRowObject = z.object({
  day: z.string().optional().meta({ description: 'YYYY-MM-DD (UTC), when grouped by day.' }),
  model: z.string().optional(),
  api_key_id: z.string().nullable().optional().meta({ description: "null: the operator's admin key." }),
  endpoint_id: z.string().nullable().optional().meta({ description: 'null: requests that named a model, not an endpoint.' }),
  requests: z.int(),
  prompt_tokens: z.int(),
  cached_tokens: z.int(),
  completion_tokens: z.int(),
  cost_micros: z.int(),
  cost: z.string(),
  currency,
});

export const usageReport = list(usageRowObject).extend({
  tenant_id: z.string(),
  start_date: z.string(),
  end_date: z.string(),
  group_by: z.array(z.enum(['day', 'model', 'key', 'endpoint'])),
});

export const lists = {
  tenants: list(tenantObject),
  apiKeys: list(apiKeyObject),
  endpoints: list(endpointObject),
  prices: list(priceObject),
  createdRedeemCodes: list(createdRedeemCodeObject),
  redeemCodes: list(redeemCodeObject),
};

export type TenantObject = z.infer<typeof tenantObject>;
export type ApiKeyObject = z.infer<typeof apiKeyObject>;
export type EndpointObject = z.infer<typeof endpointObject>;
export type PriceObject = z.infer<typeof priceObject>;
export type BalanceObject = z.infer<typeof balanceObject>;
export type TopUpObject = z.infer<typeof topUpObject>;
export type LedgerEntryObject = z.infer<typeof ledgerEntryObject>;
export type LedgerPage = z.infer<typeof ledgerPage>;
export type CreatedRedeemCodeObject = z.infer<typeof createdRedeemCodeObject>;
export type RedeemCodeObject = z.infer<typeof redeemCodeObject>;
export type VerificationObject = z.infer<typeof verificationObject>;
export type UsageRowObject = z.infer<typeof usageRowObject>;
export type UsageReport = z.infer<typeof usageReport>;
