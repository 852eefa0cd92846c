import type { Clock } from '../core/clock.js';
import type { Usage } from '../core/usage.js';
import type { RateLimiter } from '../billing/rate-limiter.js';
import type { Principal } from './access.js';
import type { Hold, HoldRequest } from './billing.js';
import type { ModelCatalog } from './model-catalog.js';

/** What a use case knows about the request it serves, free of HTTP. */
export interface RequestContext {
  requestId: string;
  /** Aborted when the client goes away or the server shuts down. */
  signal: AbortSignal;
  principal: Principal;
  /** Headers the response carries whatever its outcome (rate-limit state). */
  responseHeaders: Record<string, string>;
}

/** Where settled usage goes: a log today, the billing ledger once tenants exist. */
export interface UsageSink {
  record(entry: UsageEntry): void;
}

export interface UsageEntry {
  requestId: string;
  model: string;
  endpoint: 'chat.completions' | 'completions' | 'embeddings';
  usage: Usage;
  status: 'ok' | 'aborted' | 'error';
  errorCode?: string;
  durationMs: number;
}

export interface GatewayDeps {
  catalog: ModelCatalog;
  usage: UsageSink;
  clock: Clock;
  access: { authenticate(authorization: string | undefined): Promise<Principal> };
  billing: { hold(request: HoldRequest): Promise<Hold> };
  limits: RateLimiter;
}
