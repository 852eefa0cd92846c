/**
 * The one place an error becomes Anthropic's error JSON, `{"type":"error","error":{"type",
 * "message"},"request_id"}`, on the Anthropic routes only. The status follows Skylark's
 * error table except where Anthropic's clients expect their own: an overloaded scheduler
 * or engine is 529 overloaded_error (which Anthropic's SDKs and Claude Code retry with
 * back-off), a balance too small is 402 billing_error.
 */
import type { FastifyReply } from 'fastify';
import type { ErrorCode, SkylarkError } from '../core/errors.js';
import type { AnthropicErrorBody, AnthropicErrorType } from '../contracts/anthropic-messages.js';
import { retryAfterSeconds } from './error-reply.js';

const anthropicErrors = {
  invalid_request: { status: 400, type: 'invalid_request_error' },
  invalid_json: { status: 400, type: 'invalid_request_error' },
  unsupported_parameter: { status: 400, type: 'invalid_request_error' },
  context_length_exceeded: { status: 400, type: 'invalid_request_error' },
  invalid_api_key: { status: 401, type: 'authentication_error' },
  authentication_required: { status: 401, type: 'authentication_error' },
  insufficient_quota: { status: 402, type: 'billing_error' },
  permission_denied: { status: 403, type: 'permission_error' },
  model_not_found: { status: 404, type: 'not_found_error' },
  not_found: { status: 404, type: 'not_found_error' },
  method_not_allowed: { status: 405, type: 'invalid_request_error' },
  request_too_large: { status: 413, type: 'request_too_large' },
  unsupported_media_type: { status: 415, type: 'invalid_request_error' },
  rate_limit_exceeded: { status: 429, type: 'rate_limit_error' },
  server_overloaded: { status: 529, type: 'overloaded_error' },
  quota_exhausted: { status: 429, type: 'rate_limit_error' },
  internal_error: { status: 500, type: 'api_error' },
  upstream_error: { status: 502, type: 'api_error' },
  upstream_bad_response: { status: 502, type: 'api_error' },
  engine_unavailable: { status: 529, type: 'overloaded_error' },
  upstream_timeout: { status: 504, type: 'timeout_error' },
} as const satisfies Record<ErrorCode, { status: number; type: AnthropicErrorType }>;

export function anthropicErrorStatus(error: SkylarkError): number {
  return anthropicErrors[error.code].status;
}

export function anthropicErrorBody(error: SkylarkError, requestId?: string): AnthropicErrorBody {
  return {
    type: 'error',
    error: { type: anthropicErrors[error.code].type, message: error.message },
    ...(requestId === undefined ? {} : { request_id: requestId }),
  };
}

export function sendAnthropicError(reply: FastifyReply, error: SkylarkError, requestId?: string): FastifyReply {
  const retryAfter = retryAfterSeconds(error);
  if (retryAfter) reply.header('retry-after', retryAfter);
  return reply.code(anthropicErrorStatus(error)).type('application/json').send(anthropicErrorBody(error, requestId));
}
