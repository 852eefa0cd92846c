import { SkylarkError } from '../core/errors.js';
import { estimateTokens } from '../core/tokens.js';
import type { MediaUnits } from '../core/usage.js';
import { rateLimitHeaders, type LimitBucket } from '../billing/rate-limiter.js';
import type { Hold } from '../billing/request-holds.js';
import type { Target } from './resolve-model.js';
import type { GatewayDeps, RequestContext } from './request-context.js';

/** Tokens a chat template adds around each message, at most, for the reservation estimate. */
const templateTokensPerMessage = 8;
const defaultCompletionCap = 4096;

/** A hold, with the estimates it was sized by (the scheduler wants them too). */
export interface PaidHold extends Hold {
  promptTokensEstimate: number;
  maxCompletionTokens: number;
}

/**
 * The step every generation takes just before the engine: the key's and the endpoint's
 * rate limits admit it, and the most it can cost is held against the tenant's balance and
 * the key's monthly budget. (The key's right to the model was checked by resolveTarget.)
 */
export async function holdForRequest(
  deps: GatewayDeps,
  context: RequestContext,
  target: Target,
  promptTexts: readonly string[],
  maxTokens: number | undefined,
  /** A media request: the most units it can be billed (images, characters, audio seconds). */
  media?: MediaUnits,
): Promise<PaidHold> {
  const { model, endpoint } = target;
  const promptTokensEstimate = promptTexts.reduce(
    (sum, text) => sum + estimateTokens(text) + templateTokensPerMessage,
    0,
  );
  const room = model.contextWindow === null ? defaultCompletionCap : Math.max(1, model.contextWindow - promptTokensEstimate);
  const maxCompletionTokens = maxTokens ?? room;
  const admission = await admit(deps, context, target, promptTokensEstimate + maxCompletionTokens);
  let hold: Hold;
  try {
    hold = await deps.billing.hold({
      principal: context.principal,
      requestId: context.requestId,
      modelId: model.id,
      endpointId: endpoint?.id ?? null,
      promptTokensEstimate,
      maxCompletionTokens,
      ...(media === undefined ? {} : { media }),
      ...(context.batch === true ? { batch: true } : {}),
    });
  } catch (error) {
    admission?.settle(0); // refused for money: its tokens go back to the key's minute
    throw error;
  }
  return {
    promptTokensEstimate,
    maxCompletionTokens,
    settle: (usage, status, generationMs, queueMs, served) => {
      admission?.settle(usage.promptTokens + usage.completionTokens);
      return hold.settle(usage, status, generationMs, queueMs, served);
    },
    release: () => {
      admission?.settle(0);
      return hold.release();
    },
  };
}

/** An endpoint without its own TPM is limited by requests only. */
const unlimitedTokens = 1e12;

/** RPM/TPM for the key and the endpoint; the key's state goes out as x-ratelimit-* headers on every response. */
async function admit(deps: GatewayDeps, context: RequestContext, target: Target, estimatedTokens: number) {
  const { principal } = context;
  const buckets: LimitBucket[] = [];
  if (principal.limits && principal.keyId) buckets.push({ id: `key:${principal.keyId}`, ...principal.limits });
  if (target.endpoint) {
    buckets.push({ id: `ep:${target.endpoint.id}`, rpm: target.endpoint.rpm, tpm: target.endpoint.tpm ?? unlimitedTokens });
  }
  if (buckets.length === 0) return undefined;
  const admission = await deps.limits.admit(buckets, estimatedTokens);
  Object.assign(context.responseHeaders, rateLimitHeaders(admission.requests, admission.tokens));
  if (!admission.ok) {
    throw new SkylarkError(
      'rate_limit_exceeded',
      `Rate limit reached for ${admission.exceeded} per minute (limit ${admission[admission.exceeded].limit}). ` +
        `Try again in ${Math.ceil(admission.retryAfterMs / 1000)}s.`,
      { retryAfterMs: admission.retryAfterMs },
    );
  }
  return admission;
}
