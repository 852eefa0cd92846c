/**
 * The scheduler's contract: what it is told about requests and replicas, and what it
 * answers. It is synchronous and callback-driven on purpose: the same code runs behind
 * HTTP (wrapped in a promise by the gateway) and inside the virtual-time benchmark, where
 * a discrete-event loop calls `complete()` and receives grants in the same tick.
 *
 * No timers live in the scheduler: every decision happens inside `submit`, `complete`,
 * `cancel` or `pump`, and reads time from the injected Clock.
 */

export type Tier = 'priority' | 'standard' | 'free' | 'batch';
export const tiers: readonly Tier[] = ['priority', 'standard', 'free', 'batch'];

/**
 * One link of a prompt's prefix chain. `hash` identifies the whole prompt up to and
 * including this segment (hash of the previous link + this segment's content), so two
 * prompts share a cacheable prefix exactly as far as their chains share hashes.
 * Segments are a system prompt, each earlier turn of a conversation, the new message.
 */
export interface PrefixSegment {
  hash: string;
  /** Tokens in this segment alone. */
  tokens: number;
}

/** What a replica reports about itself, read at every dispatch decision. */
export interface ReplicaLoad {
  /** Generations it can run at once. */
  slots: number;
  /** Generations running (or queued inside the engine) now. */
  busy: number;
  /** KV-cache budget in tokens and how much is held now; omitted when unknown. */
  kvTokens?: number;
  kvUsed?: number;
}

export interface ReplicaHandle {
  readonly id: string;
  /** Public model ids this replica serves. */
  readonly models: readonly string[];
  load(): ReplicaLoad;
}

export interface WorkItem {
  requestId: string;
  tenantId: string;
  tier: Tier;
  /** The public model id asked for. */
  model: string;
  /** Lighter models to fall back to, in order, when `model` cannot meet the deadline. */
  fallbackModels?: readonly string[];
  /** Estimated prompt tokens (the sum of `prefix` tokens when a prefix is given). */
  promptTokens: number;
  /** The cap on output tokens (max_tokens or what the context leaves). */
  maxOutputTokens: number;
  prefix: readonly PrefixSegment[];
  /** Longest acceptable wait for a replica, ms; the tier's default when omitted. */
  maxWaitMs?: number;
  /** Replicas not to use (a retry after a failure before the first token). */
  excludeReplicas?: readonly string[];
}

export interface Grant {
  requestId: string;
  replicaId: string;
  /** The model actually granted: `item.model` or one of its fallbacks. */
  model: string;
  fallback: boolean;
  /** Time spent waiting in the scheduler, ms. */
  queuedMs: number;
}

export interface QueuePosition {
  /** 1-based place in line among requests for the same model. */
  position: number;
  /** Estimated ms until a replica is granted. */
  etaMs: number;
  /**
   * Where the estimate has proved uncertain: the range the wait will likely fall in (about
   * 8 in 10 of recent requests like it did), etaMs within it. Omitted when the point is precise.
   */
  etaLowMs?: number;
  etaHighMs?: number;
}

/** Reported when a granted request ends; frees the replica slot and feeds the estimators. */
export interface Outcome {
  /** false when the replica failed (counts toward its circuit breaker). */
  ok: boolean;
  /** The failure came before any token was produced (the caller may retry elsewhere). */
  failedBeforeFirstToken?: boolean;
  promptTokens: number;
  cachedTokens: number;
  completionTokens: number;
  /** ms from grant to the first token, when there was one. */
  firstTokenMs?: number;
}

export interface SubmitCallbacks {
  /** Called once when a replica is granted (possibly synchronously inside submit). */
  onGrant(grant: Grant): void;
  /** The request's place in line changed. */
  onProgress?(position: QueuePosition): void;
  /**
   * Batch work only: the scheduler took the granted replica back for interactive work
   * (preemption.ts). Its slot is no longer counted; the holder must stop the generation
   * and may submit it again. Without this callback a request is never preempted.
   */
  onPreempt?(): void;
}

/** Per model and tier: depth and wait, for GET /v1/queue and the console. */
export interface QueueSnapshot {
  at: number;
  models: Array<{
    model: string;
    tiers: Array<{ tier: Tier; depth: number; oldestWaitMs: number; etaMs: number }>;
    replicas: Array<{ id: string; slots: number; busy: number; breaker: 'closed' | 'open' | 'half-open' }>;
  }>;
}

export interface Scheduler {
  /**
   * Queue a request, or grant it at once when a replica can start it now. Throws
   * SkylarkError('server_overloaded', …, { retryAfterMs }) when the wait estimate exceeds
   * the deadline or the tenant's queue is full: an early, honest rejection.
   */
  submit(item: WorkItem, callbacks: SubmitCallbacks): void;
  /** A granted request ended. */
  complete(requestId: string, outcome: Outcome): void;
  /** The caller went away while waiting (or while running: then like a failed-free complete). */
  cancel(requestId: string): void;
  /** Place in line of a waiting request; undefined when it is not waiting. */
  position(requestId: string): QueuePosition | undefined;
  /** Re-examine replicas (capacity changed outside submit/complete) and dispatch what fits. */
  pump(): void;
  snapshot(): QueueSnapshot;
}
