import type { Clock } from '../core/clock.js';
import { SkylarkError } from '../core/errors.js';
import type { ModelCapability } from '../contracts/responses.js';
import type { Endpoint } from '../tenancy/endpoints.js';
import type { Principal } from '../tenancy/access.js';
import type { ModelEntry } from './model-catalog.js';
import type { GatewayDeps } from './request-context.js';

/** What `model` in a request named: a model, possibly through one of Ark's `ep-…` endpoints. */
export interface Target {
  model: ModelEntry;
  endpoint: Endpoint | null;
  /** Models to fall back to, in order: the endpoint's own chain, else the model's. */
  fallbacks: readonly string[];
}

/** Endpoint rows, trusted for a second: starting or stopping one reaches every gateway within it. */
export class EndpointDirectory {
  private readonly cache = new Map<string, { expires: number; endpoint: Promise<Endpoint | undefined> }>();

  constructor(
    private readonly endpoints: { get(id: string): Promise<Endpoint | undefined> },
    private readonly clock: Clock,
    private readonly ttlMs = 1000,
  ) {}

  get(id: string): Promise<Endpoint | undefined> {
    const now = this.clock.now();
    const cached = this.cache.get(id);
    if (cached && cached.expires > now) return cached.endpoint;
    const endpoint = this.endpoints.get(id);
    if (this.cache.size > 100_000) this.cache.clear();
    this.cache.set(id, { expires: now + this.ttlMs, endpoint });
    endpoint.catch(() => this.cache.delete(id));
    return endpoint;
  }
}

export async function resolveTarget(
  deps: GatewayDeps,
  principal: Principal,
  requested: string,
  capability: ModelCapability,
): Promise<Target> {
  if (!requested.startsWith('ep-')) {
    const model = deps.catalog.require(requested, capability);
    assertScope(principal, requested);
    return { model, endpoint: null, fallbacks: model.fallbacks };
  }
  const endpoint = await deps.endpoints.get(requested);
  // Another tenant's endpoint answers exactly like one that does not exist.
  if (!endpoint || (endpoint.tenantId !== null && endpoint.tenantId !== principal.tenantId && !principal.operator)) {
    throw new SkylarkError('model_not_found', `The model '${requested}' does not exist or you do not have access to it.`, {
      param: 'model',
    });
  }
  if (endpoint.status !== 'started') {
    throw new SkylarkError('permission_denied', `The endpoint '${endpoint.id}' is stopped; start it before calling it.`, {
      param: 'model',
    });
  }
  const model = deps.catalog.require(endpoint.modelId, capability);
  assertScope(principal, endpoint.id, endpoint.modelId);
  const fallbacks = endpoint.fallbacks.length > 0 ? endpoint.fallbacks.filter((id) => deps.catalog.list().some((m) => m.id === id)) : model.fallbacks;
  return { model, endpoint, fallbacks };
}

/** A key scoped to an endpoint may call it; a key scoped to a model may call it directly or through any endpoint. */
function assertScope(principal: Principal, ...names: string[]): void {
  if (principal.scopes.length === 0 || names.some((name) => principal.scopes.includes(name))) return;
  throw new SkylarkError('permission_denied', `This API key may not use the model '${names[0]}'.`, { param: 'model' });
}
