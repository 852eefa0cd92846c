/**
 * `model: "app:{slug}"` on the OpenAI API: the app's model answers, with the app's system
 * prompt before the caller's messages and the app's settings as defaults (max_tokens as a
 * ceiling). Billed like any call, to the caller's key. Public apps are callable by every
 * key; private ones only by the operator. The daily per-user quota is the web app's, not
 * the API's, whose callers pay per token; the fallback model applies in the web app only.
 * `/v1/messages` and `/v1/responses` serve apps the same way (applyAppToGeneration).
 */
import type { Clock } from '../core/clock.js';
import { SkylarkError } from '../core/errors.js';
import type { ChatCompletionRequest } from '../contracts/chat-request.js';
import type { ChatGeneration } from '../engines/engine.js';
import type { App } from '../apps/apps.js';
import type { Principal } from '../tenancy/access.js';
import type { GatewayDeps } from './request-context.js';

export const appModelPrefix = 'app:';

export interface AppSource {
  bySlug(slug: string): Promise<App | undefined>;
}

/** App rows, trusted for a second: an owner's edit reaches every gateway within it. */
export class AppDirectory implements AppSource {
  private readonly cache = new Map<string, { expires: number; app: Promise<App | undefined> }>();

  constructor(
    private readonly apps: AppSource,
    private readonly clock: Clock,
    private readonly ttlMs = 1000,
  ) {}

  bySlug(slug: string): Promise<App | undefined> {
    const now = this.clock.now();
    const cached = this.cache.get(slug);
    if (cached && cached.expires > now) return cached.app;
    const app = this.apps.bySlug(slug);
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(slug, { expires: now + this.ttlMs, app });
    app.catch(() => this.cache.delete(slug));
    return app;
  }
}

/**
 * The app `model` names when it is `app:{slug}` (undefined for any other model), checked
 * for this caller: a missing app and another's private one are the same 404.
 */
export async function appOfModel(
  deps: GatewayDeps,
  principal: Principal,
  modelName: string,
): Promise<(App & { model: string }) | undefined> {
  if (!modelName.startsWith(appModelPrefix)) return undefined;
  const slug = modelName.slice(appModelPrefix.length);
  const app = await deps.apps?.bySlug(slug);
  if (app === undefined || (app.visibility === 'private' && !principal.operator)) {
    throw new SkylarkError('model_not_found', `The model '${modelName}' does not exist or you do not have access to it.`, {
      param: 'model',
    });
  }
  if (app.model === null) {
    throw new SkylarkError('invalid_request', `The app '${slug}' lets its user pick the model: call a model directly.`, {
      param: 'model',
    });
  }
  return app as App & { model: string };
}

/** `/v1/chat/completions`: the app's settings on the request, in OpenAI's own terms. */
export async function applyAppSettings(
  deps: GatewayDeps,
  principal: Principal,
  request: ChatCompletionRequest,
): Promise<ChatCompletionRequest> {
  const app = await appOfModel(deps, principal, request.model);
  if (app === undefined) return request;
  const asked = request.max_completion_tokens ?? request.max_tokens ?? undefined;
  const maxTokens = app.maxTokens === null ? asked : Math.min(asked ?? app.maxTokens, app.maxTokens);
  const system = app.systemPrompt === '' ? [] : [{ role: 'system' as const, content: app.systemPrompt }];
  return {
    ...app.advanced,
    ...request,
    model: app.model,
    messages: [...system, ...request.messages],
    temperature: request.temperature ?? app.temperature,
    max_tokens: maxTokens ?? null,
    max_completion_tokens: null,
  };
}

/**
 * The APIs that map their own wire format straight to engine messages (`/v1/messages`,
 * `/v1/responses`): the same settings applied to the generation — the app's system prompt
 * first, its sampling as defaults, its max_tokens as a ceiling.
 */
export function applyAppToGeneration(app: App, generation: ChatGeneration): void {
  if (app.systemPrompt !== '') generation.messages.unshift({ role: 'system', content: app.systemPrompt });
  if (app.maxTokens !== null) generation.maxTokens = Math.min(generation.maxTokens ?? app.maxTokens, app.maxTokens);
  generation.temperature ??= app.temperature ?? undefined;
  const { top_p, presence_penalty, frequency_penalty, stop, logit_bias } = app.advanced;
  generation.topP ??= top_p;
  generation.presencePenalty ??= presence_penalty;
  generation.frequencyPenalty ??= frequency_penalty;
  generation.stop ??= stop;
  generation.logitBias ??= logit_bias;
  // Optional fields stay absent rather than present-and-undefined, as the mappers leave them.
  for (const key of ['temperature', 'topP', 'presencePenalty', 'frequencyPenalty', 'stop', 'logitBias'] as const) {
    if (generation[key] === undefined) delete generation[key];
  }
}
