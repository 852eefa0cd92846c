import { estimateTokens } from '../core/tokens.js';
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
  return deps.billing.hold({
    principal: context.principal,
    requestId: context.requestId,
    modelId: model.id,
    promptTokensEstimate,
    maxCompletionTokens: maxTokens ?? room,
  });
}
