/**
 * Request bodies and query strings of the admin API (`/admin/…`) and of `GET /v1/usage`.
 * The same schemas validate requests (through parse.ts, so an error names its `param`) and
 * describe them in the OpenAPI document at /docs (z.toJSONSchema, input side).
 *
 * Money comes in as a decimal string of currency units ("100", "0.8"), never as a JSON
 * number: a float cannot hold 0.1, and every amount inside is integer micros. Where an
 * amount may also be given exactly in micros, the field is `…_micros`. Times are Unix
 * seconds, as in OpenAI's API.
 */
import { z } from 'zod';
import { decimalAmountPattern } from '../core/money.js';

export const decimalAmount = z
  .string()
  .regex(decimalAmountPattern, { message: 'expected a decimal string of currency units with at most 6 decimals, like "100" or "0.8"' });

const micros = z.int().min(1);
const unixSeconds = z.int().min(0);
const limit = z.int().min(1);
const name = z.string().trim().min(1).max(200);
const tier = z.enum(['priority', 'standard', 'free']);
const currency = z.enum(['CNY', 'USD']);

/** Exactly one of `amount` (decimal string) and `amount_micros` (integer). */
const oneAmount = (body: { amount?: string | undefined; amount_micros?: number | undefined }) =>
  (body.amount === undefined) !== (body.amount_micros === undefined);
const oneAmountMessage = {
  message: "give exactly one of 'amount' (a decimal string of currency units) and 'amount_micros' (an integer)",
  path: ['amount'],
};

export const createTenantBody = z.strictObject({
  name,
  tier: tier.optional().meta({ description: 'Scheduling tier (default standard).' }),
  currency: currency.optional().meta({ description: 'Billing currency (default CNY).' }),
  unlimited: z.boolean().optional().meta({ description: 'Never refused for lack of balance (internal tenants).' }),
});

export const updateTenantBody = z.strictObject({
  name: name.optional(),
  tier: tier.optional(),
  status: z.enum(['active', 'suspended']).optional().meta({ description: 'suspended: every key of the tenant is refused.' }),
  unlimited: z.boolean().optional(),
});

export const createKeyBody = z.strictObject({
  name: name.optional().meta({ description: 'A label to tell keys apart (default "default").' }),
  models: z.array(z.string().min(1)).max(256).optional().meta({ description: 'Model or endpoint ids the key may call; absent or empty: all.' }),
  rpm: limit.optional().meta({ description: 'Requests per minute (default 60).' }),
  tpm: limit.optional().meta({ description: 'Tokens per minute (default 100000).' }),
  monthly_budget: decimalAmount.optional().meta({ description: 'Monthly spending cap, in currency units.' }),
  expires_at: unixSeconds.optional().meta({ description: 'When the key stops working, Unix seconds (must be in the future).' }),
});

export const createEndpointBody = z.strictObject({
  tenant_id: z.string().min(1).nullable().meta({ description: 'The owning tenant, or null for a shared preset every tenant may call.' }),
  model: z.string().min(1).meta({ description: 'The model id it serves.' }),
  name: name.optional().meta({ description: 'Display name (default: the model id).' }),
  rpm: limit.optional().meta({ description: 'Requests per minute (default 60).' }),
  tpm: limit.nullable().optional().meta({ description: 'Tokens per minute (default: unlimited).' }),
  fallbacks: z
    .array(z.string().min(1))
    .max(8)
    .optional()
    .meta({ description: "Models to serve it with, in order, when its model cannot meet a request's deadline (default: the model's own chain)." }),
});

export const listEndpointsQuery = z.strictObject({
  tenant_id: z.string().min(1).optional().meta({ description: 'Only what this tenant may call: its own endpoints and the shared ones.' }),
});

const priceTier = z.strictObject({
  up_to_prompt_tokens: z.int().min(1).nullable().meta({ description: 'Applies to prompts up to this many tokens; null for the last, unbounded tier.' }),
  input: decimalAmount,
  cached_input: decimalAmount.optional().meta({ description: 'Default: 20% of input.' }),
  output: decimalAmount,
});

export const setPriceBody = z.strictObject({
  model: z.string().min(1),
  currency: currency.optional().meta({ description: 'Default CNY.' }),
  input: decimalAmount.meta({ description: 'Per 1M prompt tokens, in currency units.' }),
  cached_input: decimalAmount.optional().meta({ description: 'Per 1M cached prompt tokens (default: 20% of input).' }),
  output: decimalAmount.meta({ description: 'Per 1M completion tokens, in currency units.' }),
  batch_discount_pct: z.int().min(0).max(100).optional().meta({ description: 'Percent off batch requests (default 0).' }),
  tiers: z.array(priceTier).max(16).optional().meta({ description: 'Prompt-length tiers, ascending; the last may be unbounded.' }),
  image: decimalAmount.optional().meta({ description: 'Per image unit (a standard image up to 1024×1024; larger or hd ones count more), in currency units (default 0).' }),
  speech_chars: decimalAmount.optional().meta({ description: 'Per 1M characters of speech input, in currency units (default 0).' }),
  audio_minute: decimalAmount.optional().meta({ description: 'Per minute of transcribed audio (charged by the second), in currency units (default 0).' }),
  context_storage: decimalAmount.optional().meta({ description: 'Per 1M tokens of a cached context held for one hour (POST /v1/context/create), in currency units (default 0).' }),
  effective_from: unixSeconds.optional().meta({ description: 'When this version applies, Unix seconds (default now; a future time schedules it).' }),
});

export const listPricesQuery = z.strictObject({
  model: z.string().min(1).optional().meta({ description: "Every version of this model's price, scheduled ones included." }),
});

export const topUpBody = z
  .strictObject({
    amount: decimalAmount.optional().meta({ description: 'Currency units, e.g. "100" or "0.5".' }),
    amount_micros: micros.optional().meta({ description: 'The same, in integer micro-units.' }),
    ref: z.string().trim().min(1).max(500).optional().meta({ description: 'An invoice or payment reference, kept in the ledger (default "admin api topup").' }),
  })
  .refine(oneAmount, oneAmountMessage);

/** Query strings are text: page sizes and cursors arrive as digit strings. */
const digits = (description: string) => z.string().regex(/^\d{1,15}$/, { message: 'expected a whole number' }).optional().meta({ description });

export const ledgerQuery = z.strictObject({
  limit: digits('At most this many entries, 1..1000 (default 100).'),
  before: digits('Only entries with a smaller id: the last id of the previous page.'),
});

export const createRedeemCodesBody = z
  .strictObject({
    amount: decimalAmount.optional().meta({ description: 'What each code is worth, in currency units.' }),
    amount_micros: micros.optional(),
    currency: currency.optional().meta({ description: 'Must match the redeeming tenant (default CNY).' }),
    count: z.int().min(1).max(1000).optional().meta({ description: 'How many codes (default 1).' }),
    expires_at: unixSeconds.optional().meta({ description: 'Last moment the codes can be used, Unix seconds.' }),
  })
  .refine(oneAmount, oneAmountMessage);

export const listRedeemCodesQuery = z.strictObject({ limit: digits('At most this many codes, 1..1000 (default 100).') });

export const usageGroupNames = ['day', 'model', 'key', 'endpoint'] as const;

/** Date.parse rolls 2026-02-30 over into March; a round trip catches that. */
function isCalendarDate(value: string): boolean {
  const ms = Date.parse(`${value}T00:00:00Z`);
  return !Number.isNaN(ms) && new Date(ms).toISOString().startsWith(value);
}

const isoDate = (description: string) =>
  z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, { message: 'expected a date as YYYY-MM-DD (UTC)' })
    .refine(isCalendarDate, { message: 'no such calendar date' })
    .optional()
    .meta({ description });

export const usageQuery = z.strictObject({
  start_date: isoDate('First day, inclusive, YYYY-MM-DD in UTC (default: 29 days before end_date).'),
  end_date: isoDate('Last day, inclusive, YYYY-MM-DD in UTC (default: today).'),
  group_by: z
    .string()
    .refine((value) => value.split(',').every((group) => (usageGroupNames as readonly string[]).includes(group.trim())), {
      message: `expected a comma-separated list of ${usageGroupNames.join(', ')}`,
    })
    .optional()
    .meta({ description: `Comma-separated, any of ${usageGroupNames.join(', ')}; absent: one row of totals.` }),
  model: z.string().min(1).optional().meta({ description: 'Only this model.' }),
  api_key_id: z.string().min(1).optional().meta({ description: 'Only this key (key_…).' }),
  endpoint_id: z.string().min(1).optional().meta({ description: 'Only this endpoint (ep-…).' }),
  tenant_id: z.string().min(1).optional().meta({ description: "Operator key only: another tenant's usage." }),
});

export const balanceQuery = z.strictObject({
  tenant_id: z.string().min(1).optional().meta({ description: "Operator key only: another tenant's balance." }),
});
