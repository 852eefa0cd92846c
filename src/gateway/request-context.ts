/**
 * The gateway room: the OpenAI request path. One use case per endpoint (chat-completion,
 * completion, embeddings), and the steps every generation takes in order: resolve the
 * model or ep-… endpoint (resolve-model), admit it on rate limits and hold its most cost
 * (paid-request), wait for and run on a replica (scheduled-run over dispatch, the
 * scheduler's runtime), and settle its exact usage once (metering). It knows no HTTP (that
 * is src/api) and never imports the web app's use cases (src/consumer) or the account
 * APIs (src/accounts). This file holds what a use case knows of its request and its deps.
 */
import type { Clock } from '../core/clock.js';
import type { Usage } from '../core/usage.js';
import type { RateLimits } from '../billing/rate-limiter.js';
import type { Endpoint } from '../tenancy/endpoints.js';
import type { Principal } from '../tenancy/access.js';
import type { AppSource } from './app-model.js';
import type { Hold, HoldRequest } from '../billing/request-holds.js';
import type { Dispatch } from './dispatch.js';
import type { ModelCatalog } from './model-catalog.js';
import type { StoredResponses } from '../responses/stored-responses.js';
import type { ContextCache } from './context-cache.js';

/** What a use case knows about the request it serves, free of HTTP. */
export interface RequestContext {
  requestId: string;
  /** Aborted when the client goes away or the server shuts down. */
  signal: AbortSignal;
  principal: Principal;
  /** Headers the response carries whatever its outcome (rate-limit state). */
  responseHeaders: Record<string, string>;
  /** The client's own id for the request (`X-Client-Request-Id`, as OpenAI's SDKs send it). */
  clientRequestId?: string;
  /** The client's `x-skylark-max-wait-ms`: the longest it will wait for a replica. */
  maxWaitMs?: number;
  /** Set once the scheduler grants a replica: how long it waited, and the model granted (a fallback, maybe). */
  queueMs?: number;
  servedModel?: string;
  servedReplica?: string;
  /** Set by metering at the first output part: ms since the request was admitted to billing. */
  firstTokenMs?: number;
  /**
   * A line of a batch job (src/batch): scheduled in the scheduler's `batch` tier (idle
   * capacity only) instead of the tenant's, and charged at the price's batch discount.
   */
  batch?: boolean;
  /**
   * A batch line only: the scheduler may take its replica back for interactive work
   * (scheduler/preemption.ts). Called then, after `preempted` is set; the caller stops the
   * run (its signal) and runs the line again later under the same request id. The
   * preempted run is not billed (metering.ts): the line is paid once, when it finishes.
   */
  onPreempt?: () => void;
  preempted?: boolean;
}

/** Where settled usage goes: a log today, the billing ledger once tenants exist. */
export interface UsageSink {
  record(entry: UsageEntry): void;
}

export interface UsageEntry {
  requestId: string;
  model: string;
  endpoint: 'chat.completions' | 'completions' | 'embeddings' | 'messages' | 'responses' | 'images.generations' | 'audio.speech' | 'audio.transcriptions' | 'context.create';
  usage: Usage;
  status: 'ok' | 'aborted' | 'error';
  errorCode?: string;
  durationMs: number;
  /** For metrics and traces: the model that served it (a fallback, maybe), its wait for a replica, its first output. */
  servedModel?: string;
  queueMs?: number;
  firstTokenMs?: number;
}

export interface GatewayDeps {
  catalog: ModelCatalog;
  usage: UsageSink;
  clock: Clock;
  access: { authenticate(authorization: string | undefined): Promise<Principal> };
  billing: { hold(request: HoldRequest): Promise<Hold>; heldFor(tenantId: string): Promise<number> };
  limits: RateLimits;
  /** The scheduler, with engines as its replicas. */
  dispatch: Dispatch;
  /** ep-… endpoints, as `model`: cached lookups (see resolve-model.ts). */
  endpoints: { get(id: string): Promise<Endpoint | undefined> };
  /** Responses API objects kept for previous_response_id and GET /v1/responses/{id}. */
  responses: StoredResponses;
  /** Ark-style cached contexts (`ctx-…`, context-cache.ts); without them those routes answer 404. */
  contexts?: ContextCache;
  /** `app:{slug}` as `model` (see app-model.ts); without it such models are not found. */
  apps?: AppSource;
}
