import type { Clock } from '../core/clock.js';
import { SkylarkError } from '../core/errors.js';
import type { Usage } from '../core/usage.js';
import type { Ledger } from '../billing/ledger.js';
import type { PriceCatalog } from '../billing/price-catalog.js';
import { costMicros, type Price } from '../billing/pricing.js';
import type { UsageWriter } from '../billing/usage-writer.js';
import type { Principal } from './access.js';

export interface HoldRequest {
  principal: Principal;
  requestId: string;
  modelId: string;
  /** An over-estimate of prompt tokens (the exact count is known only after rendering). */
  promptTokensEstimate: number;
  /** The most completion tokens the request may produce. */
  maxCompletionTokens: number;
}

/** Money set aside for one request, settled once with what it actually used. */
export interface Hold {
  settle(usage: Usage, status: 'ok' | 'aborted' | 'error', generationMs: number): void;
}

/**
 * The paid request path around an engine call: reserve the most the request can cost
 * (so nobody spends what they have not paid for), then settle the exact usage through
 * the group-committing writer, off the response path. Settlement is idempotent by
 * request id and removes the reservation in the same transaction.
 */
export class LedgerBilling {
  private readonly prices = new Map<string, { expires: number; price: Price | undefined }>();

  constructor(
    private readonly ledger: Ledger,
    private readonly catalog: PriceCatalog,
    private readonly writer: UsageWriter,
    private readonly clock: Clock,
    /** This process, so a restart can release the reservations a dead one left. */
    private readonly owner: string,
  ) {}

  async hold(request: HoldRequest): Promise<Hold> {
    const price = await this.priceOf(request.modelId);
    const maximum = price
      ? costMicros(price, {
          promptTokens: request.promptTokensEstimate,
          cachedPromptTokens: 0,
          completionTokens: request.maxCompletionTokens,
        })
      : 0;
    // The operator has no balance to protect: its requests skip the reservation write and
    // are only settled (group-committed), keeping the database off its hot path.
    if (!request.principal.operator) {
      const reserved = await this.ledger.reserve({
        requestId: request.requestId,
        tenantId: request.principal.tenantId,
        apiKeyId: request.principal.keyId,
        amountMicros: maximum,
        owner: this.owner,
      });
      if (!reserved.ok) throw refusal(reserved.reason);
    }
    let settled = false;
    return {
      settle: (usage, status, generationMs) => {
        if (settled) return;
        settled = true;
        this.writer.enqueue({
          requestId: request.requestId,
          tenantId: request.principal.tenantId,
          apiKeyId: request.principal.keyId,
          modelId: request.modelId,
          usage,
          priceId: price?.id ?? null,
          costMicros: price ? costMicros(price, usage) : 0,
          generationMs: Math.round(generationMs),
          status,
        });
      },
    };
  }

  /** Prices change rarely; a second of staleness saves a query per request. */
  private async priceOf(modelId: string): Promise<Price | undefined> {
    const now = this.clock.now();
    const cached = this.prices.get(modelId);
    if (cached && cached.expires > now) return cached.price;
    const price = await this.catalog.priceAt(modelId);
    this.prices.set(modelId, { expires: now + 1000, price });
    return price;
  }
}

function refusal(reason: 'insufficient_balance' | 'unknown_tenant' | 'tenant_suspended' | 'duplicate_request'): SkylarkError {
  switch (reason) {
    case 'insufficient_balance':
      return new SkylarkError(
        'insufficient_quota',
        'You exceeded your current quota: the balance does not cover the most this request can cost. Top up, or lower max_tokens.',
      );
    case 'tenant_suspended':
      return new SkylarkError('permission_denied', "This API key's account is suspended.");
    case 'unknown_tenant':
      return new SkylarkError('invalid_api_key', 'This API key belongs to no account.');
    case 'duplicate_request':
      return new SkylarkError('invalid_request', 'A request with this id is already being served.');
  }
}
