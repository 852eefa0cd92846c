/**
 * The admin API's money side: prices, top-ups, the ledger, redeem codes and the ledger's
 * self-check — over the same billing functions `skylark price|topup|redeem|ledger` use.
 */
import { SkylarkError } from '../core/errors.js';
import { formatMicros } from '../core/money.js';
import { createRedeemCodesBody, ledgerQuery, listPricesQuery, listRedeemCodesQuery, setPriceBody, topUpBody } from '../contracts/admin-requests.js';
import type {
  CreatedRedeemCodeObject,
  LedgerPage,
  PriceObject,
  RedeemCodeObject,
  TopUpObject,
  VerificationObject,
} from '../contracts/admin-responses.js';
import { parseRequest } from '../contracts/parse.js';
import { listLedgerEntries } from '../billing/ledger-entries.js';
import { defaultCachedInputMicros } from '../billing/pricing.js';
import { createRedeemCodes as createCodes, listRedeemCodes as listCodes } from '../billing/redeem-codes.js';
import { describeProblem } from '../billing/verify.js';
import { amountMicros, futureMs, microsOf, pageLimit, requireTenant, type AccountDeps } from './accounts.js';
import { createdRedeemCodeView, ledgerEntryView, priceView, redeemCodeView } from './account-views.js';
import type { List } from './admin-tenancy.js';
import { liveBalanceView } from './usage.js';

/** The price in effect now for every priced model, or every version of one. */
export async function listPrices(deps: AccountDeps, query: unknown): Promise<List<PriceObject>> {
  const request = parseRequest(listPricesQuery, query ?? {});
  const { prices } = deps.accounts;
  const found = request.model === undefined ? await prices.list() : await prices.versions(request.model);
  return { object: 'list', data: found.map(priceView) };
}

/** A new version; earlier ones stay, so usage already charged keeps pointing at its rates. */
export async function setPrice(deps: AccountDeps, body: unknown): Promise<PriceObject> {
  const request = parseRequest(setPriceBody, body);
  const input = microsOf(request.input, 'input', { allowZero: true });
  const rate = (value: string | undefined, param: string, fallback: number) =>
    value === undefined ? fallback : microsOf(value, param, { allowZero: true });
  try {
    const price = await deps.accounts.prices.setPrice({
      modelId: request.model,
      currency: request.currency ?? 'CNY',
      inputPerMMicros: input,
      cachedInputPerMMicros: rate(request.cached_input, 'cached_input', defaultCachedInputMicros(input)),
      outputPerMMicros: microsOf(request.output, 'output', { allowZero: true }),
      ...(request.batch_discount_pct !== undefined ? { batchDiscountPct: request.batch_discount_pct } : {}),
      ...(request.tiers !== undefined
        ? {
            tiers: request.tiers.map((tier, i) => {
              const tierInput = microsOf(tier.input, `tiers[${i}].input`, { allowZero: true });
              return {
                upToPromptTokens: tier.up_to_prompt_tokens,
                input: tierInput,
                cachedInput: rate(tier.cached_input, `tiers[${i}].cached_input`, defaultCachedInputMicros(tierInput)),
                output: microsOf(tier.output, `tiers[${i}].output`, { allowZero: true }),
              };
            }),
          }
        : {}),
      ...(request.image !== undefined ? { imageMicros: microsOf(request.image, 'image', { allowZero: true }) } : {}),
      ...(request.speech_chars !== undefined ? { speechPerMCharsMicros: microsOf(request.speech_chars, 'speech_chars', { allowZero: true }) } : {}),
      ...(request.audio_minute !== undefined ? { audioPerMinuteMicros: microsOf(request.audio_minute, 'audio_minute', { allowZero: true }) } : {}),
      ...(request.context_storage !== undefined
        ? { contextStoragePerMHourMicros: microsOf(request.context_storage, 'context_storage', { allowZero: true }) }
        : {}),
      ...(request.effective_from !== undefined ? { effectiveFrom: request.effective_from * 1000 } : {}),
    });
    return priceView(price);
  } catch (error) {
    // The catalog's own checks left after the contract's: the order of the tiers.
    if (error instanceof RangeError) throw new SkylarkError('invalid_request', error.message, { param: 'tiers' });
    throw error;
  }
}

export async function topUp(deps: AccountDeps, tenantId: string, body: unknown): Promise<TopUpObject> {
  const request = parseRequest(topUpBody, body);
  const micros = amountMicros(request);
  const tenant = await requireTenant(deps.accounts, tenantId);
  const ref = request.ref ?? 'admin api topup';
  const balance = await deps.accounts.ledger.topUp(tenant.id, micros, ref);
  return {
    object: 'topup',
    tenant_id: tenant.id,
    amount_micros: micros,
    amount: formatMicros(micros),
    currency: tenant.currency,
    ref,
    balance: await liveBalanceView(deps, balance, tenant),
  };
}

export async function listLedger(deps: AccountDeps, tenantId: string, query: unknown): Promise<LedgerPage> {
  const request = parseRequest(ledgerQuery, query ?? {});
  await requireTenant(deps.accounts, tenantId);
  const page = await listLedgerEntries(deps.accounts.ledger.db, tenantId, {
    limit: pageLimit(request.limit),
    ...(request.before !== undefined ? { before: Number(request.before) } : {}),
  });
  return {
    object: 'list',
    data: page.entries.map(ledgerEntryView),
    has_more: page.hasMore,
    last_id: page.entries.at(-1)?.id ?? null,
  };
}

/** A batch of codes of one value; the codes appear in this answer only. */
export async function createRedeemCodes(deps: AccountDeps, body: unknown): Promise<List<CreatedRedeemCodeObject>> {
  const request = parseRequest(createRedeemCodesBody, body);
  const micros = amountMicros(request);
  const currency = request.currency ?? 'CNY';
  const now = deps.clock.wallNow().getTime();
  const expiresAt = request.expires_at === undefined ? null : futureMs(request.expires_at, 'expires_at', now);
  const codes = await createCodes(deps.accounts.ledger.db, { amountMicros: micros, currency, expiresAt }, request.count ?? 1, now);
  return { object: 'list', data: codes.map((code) => createdRedeemCodeView(code, micros, currency, expiresAt)) };
}

export async function listRedeemCodes(deps: AccountDeps, query: unknown): Promise<List<RedeemCodeObject>> {
  const request = parseRequest(listRedeemCodesQuery, query ?? {});
  const codes = await listCodes(deps.accounts.ledger.db, pageLimit(request.limit));
  const now = deps.clock.wallNow().getTime();
  return { object: 'list', data: codes.map((code) => redeemCodeView(code, now)) };
}

/** What `skylark ledger verify` checks; problems are answered, not raised: the request itself worked. */
export async function verifyLedger(deps: AccountDeps): Promise<VerificationObject> {
  const problems = await deps.accounts.ledger.verify();
  const tenants = await deps.accounts.tenants.list();
  return {
    object: 'ledger.verification',
    ok: problems.length === 0,
    tenants: tenants.length,
    problems: problems.map((p) => ({
      tenant_id: p.tenantId,
      check: p.check,
      actual_micros: p.actual,
      expected_micros: p.expected,
      message: describeProblem(p),
    })),
  };
}
