import { SkylarkError } from '../core/errors.js';
import { estimateTokens } from '../core/tokens.js';
import { rateLimitHeaders } from '../billing/rate-limiter.js';
import { assertScope } from './access.js';
import type { Hold } from './billing.js';
import type { ModelEntry } from './model-catalog.js';
import type { GatewayDeps, RequestContext } from './request-context.js';

/** Tokens a chat template adds around each message, at most, for the reservation estimate. */
const templateTokensPerMessage = 8;
const defaultCompletionCap = 4096;

/**
 * The step every generation takes just before the engine: the key may use the model, and
 * the most the request can cost is reserved against the tenant's balance.
 */
export async function holdForRequest(
  deps: GatewayDeps,
  context: RequestContext,
  model: ModelEntry,
  promptTexts: readonly string[],
  maxTokens: number | undefined,
): Promise<Hold> {
  assertScope(context.principal, model.id);
  const promptTokensEstimate = promptTexts.reduce(
    (sum, text) => sum + estimateTokens(text) + templateTokensPerMessage,
    0,
  );
  const room = model.contextWindow === null ? defaultCompletionCap : Math.max(1, model.contextWindow - promptTokensEstimate);
  const maxCompletionTokens = maxTokens ?? room;
  const admission = admit(deps, context, promptTokensEstimate + maxCompletionTokens);
  let hold: Hold;
  try {
    hold = await deps.billing.hold({
      principal: context.principal,
      requestId: context.requestId,
      modelId: model.id,
      promptTokensEstimate,
      maxCompletionTokens,
    });
  } catch (error) {
    admission?.settle(0); // refused for money: its tokens go back to the key's minute
    throw error;
  }
  return {
    settle: (usage, status, generationMs) => {
      admission?.settle(usage.promptTokens + usage.completionTokens);
      hold.settle(usage, status, generationMs);
    },
  };
}

/** RPM/TPM for the key; the state goes out as x-ratelimit-* headers on every response. */
function admit(deps: GatewayDeps, context: RequestContext, estimatedTokens: number) {
  const { principal } = context;
  if (!principal.limits || !principal.keyId) return undefined;
  const admission = deps.limits.admit(principal.keyId, principal.limits, estimatedTokens);
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
