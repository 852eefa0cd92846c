/**
 * The closed table of every error Skylark can return. Each code fixes its HTTP status,
 * its OpenAI `type`, and whether a client (or our own failover) may retry it.
 * Nothing outside this file invents a status code: code → status is decided here once.
 */
export const errorTable = {
  invalid_request: { status: 400, type: 'invalid_request_error', retryable: false },
  invalid_json: { status: 400, type: 'invalid_request_error', retryable: false },
  unsupported_parameter: { status: 400, type: 'invalid_request_error', retryable: false },
  context_length_exceeded: { status: 400, type: 'invalid_request_error', retryable: false },
  invalid_api_key: { status: 401, type: 'invalid_request_error', retryable: false },
  /** The web app's end user has no (valid) session: sign in or continue as a guest. */
  authentication_required: { status: 401, type: 'invalid_request_error', retryable: false },
  insufficient_quota: { status: 402, type: 'insufficient_quota', retryable: false },
  permission_denied: { status: 403, type: 'invalid_request_error', retryable: false },
  model_not_found: { status: 404, type: 'invalid_request_error', retryable: false },
  not_found: { status: 404, type: 'invalid_request_error', retryable: false },
  method_not_allowed: { status: 405, type: 'invalid_request_error', retryable: false },
  request_too_large: { status: 413, type: 'invalid_request_error', retryable: false },
  unsupported_media_type: { status: 415, type: 'invalid_request_error', retryable: false },
  rate_limit_exceeded: { status: 429, type: 'rate_limit_error', retryable: true },
  server_overloaded: { status: 429, type: 'server_error', retryable: true },
  /** An end user's daily free tokens for an app are spent; Retry-After says when they reset. */
  quota_exhausted: { status: 429, type: 'insufficient_quota', retryable: true },
  internal_error: { status: 500, type: 'server_error', retryable: false },
  upstream_error: { status: 502, type: 'server_error', retryable: true },
  upstream_bad_response: { status: 502, type: 'server_error', retryable: true },
  engine_unavailable: { status: 503, type: 'server_error', retryable: true },
  upstream_timeout: { status: 504, type: 'server_error', retryable: true },
} as const satisfies Record<string, { status: number; type: string; retryable: boolean }>;

export type ErrorCode = keyof typeof errorTable;

export interface SkylarkErrorOptions {
  /** The request field at fault, in OpenAI's dotted form (`messages[0].content`). */
  param?: string | null;
  /** For retryable errors: how long the client should wait, surfaced as `Retry-After`. */
  retryAfterMs?: number;
  cause?: unknown;
}

export class SkylarkError extends Error {
  readonly code: ErrorCode;
  readonly param: string | null;
  readonly retryAfterMs: number | undefined;

  constructor(code: ErrorCode, message: string, options: SkylarkErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SkylarkError';
    this.code = code;
    this.param = options.param ?? null;
    this.retryAfterMs = options.retryAfterMs;
  }

  get status(): number {
    return errorTable[this.code].status;
  }

  get type(): string {
    return errorTable[this.code].type;
  }

  get isRetryable(): boolean {
    return errorTable[this.code].retryable;
  }
}

export function isSkylarkError(value: unknown): value is SkylarkError {
  return value instanceof SkylarkError;
}

/** Anything thrown that is not ours is an internal error: its message is not shown to clients. */
export function toSkylarkError(value: unknown): SkylarkError {
  if (value instanceof SkylarkError) return value;
  return new SkylarkError('internal_error', 'The server had an error while processing your request.', {
    cause: value,
  });
}
