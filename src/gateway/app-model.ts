/**
 * `model: "app:{slug}"` on the OpenAI API: the app's model answers, with the app's system
 * prompt before the caller's messages and the app's settings as defaults (max_tokens as a
 * ceiling). Billed like any call, to the caller's key. Public apps are callable by every
 * key; private ones only by the operator. The daily per-user quota is the web app's, not
 * the API's, whose callers pay per token; the fallback model applies in the web app only.
 */
import type { Clock } from '../core/clock.js';
import { SkylarkError } from '../core/errors.js';
import type { ChatCompletionRequest } from '../contracts/chat-request.js';
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

export async function applyAppSettings(
  deps: GatewayDeps,
  principal: Principal,
  request: ChatCompletionRequest,
): Promise<ChatCompletionRequest> {
  if (!request.model.startsWith(appModelPrefix)) return request;
  const slug = request.model.slice(appModelPrefix.length);
  const app = await deps.apps?.bySlug(slug);
  if (app === undefined || (app.visibility === 'private' && !principal.operator)) {
    throw new SkylarkError('model_not_found', `The model '${request.model}' does not exist or you do not have access to it.`, {
      param: 'model',
    });
  }
  if (app.model === null) {
    throw new SkylarkError('invalid_request', `The app '${slug}' lets its user pick the model: call a model directly.`, {
      param: 'model',
    });
  }
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
