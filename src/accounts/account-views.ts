/**
 * Domain objects → the snake_case wire objects of contracts/admin-responses.ts. Epoch ms
 * become Unix seconds (OpenAI's convention); money goes out both as micros and as exact
 * decimal strings.
 */
import { formatMicros } from '../core/money.js';
import type {
  ApiKeyObject,
  BalanceObject,
  CreatedRedeemCodeObject,
  EndpointObject,
  LedgerEntryObject,
  PriceObject,
  RedeemCodeObject,
  TenantObject,
  UsageRowObject,
} from '../contracts/admin-responses.js';
import type { Balance } from '../billing/balances.js';
import type { LedgerEntry } from '../billing/ledger-entries.js';
import type { Price } from '../billing/pricing.js';
import type { RedeemCodeInfo } from '../billing/redeem-codes.js';
import type { UsageRow } from '../billing/usage-report.js';
import type { Currency } from '../store/schema.js';
import type { ApiKey } from '../tenancy/api-keys.js';
import type { Endpoint } from '../tenancy/endpoints.js';
import type { Tenant } from '../tenancy/tenants.js';

export const seconds = (ms: number): number => Math.floor(ms / 1000);
const maybeSeconds = (ms: number | null): number | null => (ms === null ? null : seconds(ms));

export function tenantView(t: Tenant): TenantObject {
  return { object: 'tenant', id: t.id, name: t.name, status: t.status, tier: t.tier, currency: t.currency, unlimited: t.unlimited, created_at: seconds(t.createdAt) };
}

export function apiKeyView(k: ApiKey): ApiKeyObject {
  return {
    object: 'api_key',
    id: k.id,
    tenant_id: k.tenantId,
    name: k.name,
    prefix: k.prefix,
    models: k.scopes,
    rpm: k.rpm,
    tpm: k.tpm,
    monthly_budget_micros: k.monthlyBudgetMicros,
    monthly_budget: k.monthlyBudgetMicros === null ? null : formatMicros(k.monthlyBudgetMicros),
    expires_at: maybeSeconds(k.expiresAt),
    revoked_at: maybeSeconds(k.revokedAt),
    created_at: seconds(k.createdAt),
    last_used_at: maybeSeconds(k.lastUsedAt),
  };
}

export function endpointView(e: Endpoint): EndpointObject {
  return { object: 'endpoint', id: e.id, tenant_id: e.tenantId, name: e.name, model: e.modelId, rpm: e.rpm, tpm: e.tpm, status: e.status, fallbacks: e.fallbacks, created_at: seconds(e.createdAt) };
}

const ratesView = (input: number, cachedInput: number, output: number) => ({
  input: formatMicros(input),
  cached_input: formatMicros(cachedInput),
  output: formatMicros(output),
  input_micros: input,
  cached_input_micros: cachedInput,
  output_micros: output,
});

export function priceView(p: Price): PriceObject {
  return {
    object: 'price',
    id: p.id,
    model: p.modelId,
    version: p.version,
    currency: p.currency,
    ...ratesView(p.inputPerMMicros, p.cachedInputPerMMicros, p.outputPerMMicros),
    batch_discount_pct: p.batchDiscountPct,
    tiers: p.tiers.map((t) => ({ up_to_prompt_tokens: t.upToPromptTokens, ...ratesView(t.input, t.cachedInput, t.output) })),
    image: formatMicros(p.imageMicros ?? 0),
    image_micros: p.imageMicros ?? 0,
    speech_chars: formatMicros(p.speechPerMCharsMicros ?? 0),
    speech_chars_micros: p.speechPerMCharsMicros ?? 0,
    audio_minute: formatMicros(p.audioPerMinuteMicros ?? 0),
    audio_minute_micros: p.audioPerMinuteMicros ?? 0,
    context_storage: formatMicros(p.contextStoragePerMHourMicros ?? 0),
    context_storage_micros: p.contextStoragePerMHourMicros ?? 0,
    effective_from: seconds(p.effectiveFrom),
    created_at: seconds(p.createdAt),
  };
}

export function balanceView(b: Balance, tenant: Tenant): BalanceObject {
  return {
    object: 'balance',
    tenant_id: b.tenantId,
    currency: tenant.currency,
    unlimited: tenant.unlimited,
    balance_micros: b.balanceMicros,
    reserved_micros: b.reservedMicros,
    available_micros: b.availableMicros,
    balance: formatMicros(b.balanceMicros),
    reserved: formatMicros(b.reservedMicros),
    available: formatMicros(b.availableMicros),
  };
}

export function ledgerEntryView(e: LedgerEntry): LedgerEntryObject {
  return { object: 'ledger_entry', id: e.id, tenant_id: e.tenantId, kind: e.kind, amount_micros: e.amountMicros, amount: formatMicros(e.amountMicros), ref: e.ref, created_at: seconds(e.createdAt) };
}

export function createdRedeemCodeView(c: { id: string; code: string }, amountMicros: number, currency: Currency, expiresAt: number | null): CreatedRedeemCodeObject {
  return { object: 'redeem_code', id: c.id, code: c.code, amount_micros: amountMicros, amount: formatMicros(amountMicros), currency, expires_at: maybeSeconds(expiresAt) };
}

export function redeemCodeView(c: RedeemCodeInfo, nowMs: number): RedeemCodeObject {
  const status = c.redeemedBy !== null ? 'redeemed' : c.expiresAt !== null && c.expiresAt <= nowMs ? 'expired' : 'unused';
  return {
    object: 'redeem_code',
    id: c.id,
    amount_micros: c.amountMicros,
    amount: formatMicros(c.amountMicros),
    currency: c.currency,
    expires_at: maybeSeconds(c.expiresAt),
    status,
    redeemed_by: c.redeemedBy,
    redeemed_at: maybeSeconds(c.redeemedAt),
    created_at: seconds(c.createdAt),
  };
}

export function usageRowView(r: UsageRow, currency: Currency): UsageRowObject {
  return {
    ...(r.day !== undefined ? { day: r.day } : {}),
    ...(r.modelId !== undefined ? { model: r.modelId } : {}),
    ...(r.apiKeyId !== undefined ? { api_key_id: r.apiKeyId } : {}),
    ...(r.endpointId !== undefined ? { endpoint_id: r.endpointId } : {}),
    requests: r.requests,
    prompt_tokens: r.promptTokens,
    cached_tokens: r.cachedTokens,
    completion_tokens: r.completionTokens,
    cost_micros: r.costMicros,
    cost: formatMicros(r.costMicros),
    currency,
  };
}
