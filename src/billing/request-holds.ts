/**
 * A request's money, start to end: the hold taken before the engine runs (the tenant's
 * balance and the key's monthly budget, through Funds) and its exact settlement into the
 * ledger through the UsageWriter once usage is known.
 */
import type { Clock } from '../core/clock.js';
import { SkylarkError } from '../core/errors.js';
import type { MediaUnits, Usage } from '../core/usage.js';
import type { Funds, FundsAccount } from './funds.js';
import { keySpendSince, utcMonth } from './key-spend.js';
import type { Ledger } from './ledger.js';
import type { PriceCatalog } from './price-catalog.js';
import { costMicros, type Price } from './pricing.js';
import type { UsageWriter } from './usage-writer.js';
import type { Principal } from '../tenancy/access.js';

export interface HoldRequest {
  principal: Principal;
  requestId: string;
  modelId: string;
  /** The ep-… endpoint the request named, if any. */
  endpointId?: string | null;
  /** An over-estimate of prompt tokens (the exact count is known only after rendering). */
  promptTokensEstimate: number;
  /** The most completion tokens the request may produce. */
  maxCompletionTokens: number;
  /** A media request: the most units it can be billed (it is priced by these, not by tokens). */
  media?: MediaUnits;
  /** A line of a batch job: charged at the price's batch discount, and its usage row marked batch. */
  batch?: boolean;
}

export interface Served {
  modelId?: string | undefined;
  replicaId?: string | undefined;
}

/** Money set aside for one request, settled once with what it actually used. */
export interface Hold {
  /**
   * Resolves once the usage row has committed; never rejects. `served`: where it ran — the
   * replica, and the model when the scheduler fell back to a lighter one (its price is charged).
   */
  settle(usage: Usage, status: 'ok' | 'aborted' | 'error', generationMs: number, queueMs?: number, served?: Served): Promise<void>;
  /** Ends the hold without a usage row: the request never reached an engine (refused by the scheduler). */
  release(): Promise<void>;
}

/**
 * The paid request path around an engine call: hold the most the request can cost
 * against the tenant's balance and the key's monthly budget (so nobody spends what they
 * have not paid for), then settle the exact usage through the group-committing writer.
 * Holds live in memory or Redis (billing/funds.ts), not in a database row per request;
 * a hold ends only after its usage row has committed.
 */
export class LedgerBilling {
  private readonly prices = new Map<string, { expires: number; price: Price | undefined }>();

  constructor(
    private readonly ledger: Ledger,
    private readonly funds: Funds,
    private readonly catalog: PriceCatalog,
    private readonly writer: UsageWriter,
    private readonly clock: Clock,
  ) {}

  async hold(request: HoldRequest): Promise<Hold> {
    const price = await this.priceOf(request.modelId);
    const costOptions = { batch: request.batch === true };
    const maximum = price
      ? costMicros(price, {
          promptTokens: request.promptTokensEstimate,
          cachedPromptTokens: 0,
          completionTokens: request.maxCompletionTokens,
          ...(request.media === undefined ? {} : { media: request.media }),
        }, costOptions)
      : 0;
    // The operator has no balance to protect: its requests are only settled.
    const held = request.principal.operator ? undefined : await this.holdFunds(request, maximum);
    // From here the request will settle (or be released): a batch of settlements may wait for it.
    const row = this.writer.announce();
    let settled = false;
    return {
      release: async () => {
        if (settled) return;
        settled = true;
        row.withdraw();
        await held?.finish(0).catch(() => {});
      },
      settle: async (usage, status, generationMs, queueMs, served) => {
        if (settled) return;
        settled = true;
        const modelId = served?.modelId ?? request.modelId;
        let charged = price;
        let cost: number;
        try {
          if (modelId !== request.modelId) charged = await this.priceOf(modelId).catch(() => price);
          cost = charged ? costMicros(charged, usage, costOptions) : 0;
        } catch (error) {
          row.withdraw();
          throw error;
        }
        const outcome = await row.settle({
          requestId: request.requestId,
          tenantId: request.principal.tenantId,
          apiKeyId: request.principal.keyId,
          endpointId: request.endpointId ?? null,
          modelId,
          replicaId: served?.replicaId ?? null,
          usage,
          priceId: charged?.id ?? null,
          costMicros: cost,
          generationMs: Math.round(generationMs),
          queueMs: Math.round(queueMs ?? 0),
          status,
          batch: costOptions.batch,
        });
        await held?.finish(outcome === 'settled' ? cost : 0).catch(() => {}); // Redis away: its heartbeat sweep frees the hold
      },
    };
  }

  private async holdFunds(request: HoldRequest, maximum: number) {
    const { principal } = request;
    const accounts: FundsAccount[] = [
      {
        id: `t:${principal.tenantId}`,
        readCeiling: async () => (await this.ledger.balance(principal.tenantId))?.availableMicros ?? 0,
      },
    ];
    const budget = principal.monthlyBudgetMicros;
    if (principal.keyId !== null && budget !== null) {
      const month = utcMonth(this.clock.wallNow());
      const keyId = principal.keyId;
      accounts.push({
        id: `k:${keyId}:${month.name}`,
        readCeiling: async () => budget - (await keySpendSince(this.ledger.db, keyId, month.start)),
      });
    }
    const result = await this.funds.hold(accounts, maximum);
    if (!result.ok) throw result.refusedBy === 0 ? balanceRefusal() : budgetRefusal(budget ?? 0);
    return result.hold;
  }

  /** What running requests of the tenant hold now (on every gateway sharing the funds backend). */
  heldFor(tenantId: string): Promise<number> {
    return this.funds.held(`t:${tenantId}`);
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

function balanceRefusal(): SkylarkError {
  return new SkylarkError(
    'insufficient_quota',
    'You exceeded your current quota: the balance does not cover the most this request can cost. Top up, or lower max_tokens.',
  );
}

function budgetRefusal(budgetMicros: number): SkylarkError {
  return new SkylarkError(
    'insufficient_quota',
    `This API key has reached its monthly budget (${budgetMicros} micro-units); it resets at the start of next month (UTC). ` +
      'Raise the budget, or lower max_tokens.',
  );
}
