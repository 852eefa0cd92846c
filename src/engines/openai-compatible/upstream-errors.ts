/**
 * Every way an upstream call can fail → one SkylarkError. The upstream's own status is
 * never passed through: a 401 from the upstream means *our* credentials are wrong, which
 * the client can do nothing about, so it must not look like the client's bad key.
 */
import { SkylarkError } from '../../core/errors.js';

type Headers = Record<string, string | string[] | undefined>;

/** Upstream messages are shown to clients; keep them bounded. */
const maxMessageLength = 1000;

function header(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Retry-After in seconds or as an HTTP date, or the non-standard retry-after-ms. */
export function parseRetryAfter(headers: Headers, now = Date.now()): number | undefined {
  const ms = header(headers, 'retry-after-ms');
  if (ms !== undefined && /^\s*\d+(\.\d+)?\s*$/.test(ms)) return Math.ceil(Number(ms));
  const value = header(headers, 'retry-after');
  if (value === undefined) return undefined;
  if (/^\s*\d+(\.\d+)?\s*$/.test(value)) return Math.ceil(Number(value) * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

export interface UpstreamErrorInfo {
  message?: string;
  code?: string;
  type?: string;
}

/**
 * Error bodies come in several shapes: OpenAI `{error:{message,code,type}}`, vLLM's older
 * `{object:'error',message,code}`, Ollama `{error:'text'}`, FastAPI `{detail:...}`, or text.
 */
export function readErrorBody(text: string): UpstreamErrorInfo {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    const trimmed = text.trim();
    return trimmed === '' ? {} : { message: trimmed };
  }
  return errorInfo(parsed);
}

export function errorInfo(value: unknown): UpstreamErrorInfo {
  if (typeof value === 'string') return { message: value };
  if (value === null || typeof value !== 'object') return {};
  const record = value as Record<string, unknown>;
  if ('error' in record && record.error !== undefined && record.error !== null) return errorInfo(record.error);
  const info: UpstreamErrorInfo = {};
  const message = record.message ?? record.detail ?? record.msg;
  if (typeof message === 'string') info.message = message;
  else if (message !== undefined) info.message = JSON.stringify(message);
  if (typeof record.code === 'string' || typeof record.code === 'number') info.code = String(record.code);
  if (typeof record.type === 'string') info.type = record.type;
  return info;
}

function clip(message: string): string {
  return message.length > maxMessageLength ? `${message.slice(0, maxMessageLength)}…` : message;
}

const contextPattern =
  /context[ _-]?(length|size|window)|maximum context|too many tokens|prompt is too long|exceeds? the (model'?s? )?(max|context)/i;

function isContextLength(info: UpstreamErrorInfo): boolean {
  if (info.code === 'context_length_exceeded' || info.type === 'exceed_context_size_error') return true;
  return info.message !== undefined && contextPattern.test(info.message);
}

/** A non-2xx response with its (already read, possibly truncated) body. */
export function errorFromStatus(status: number, headers: Headers, bodyText: string, model: string): SkylarkError {
  const info = readErrorBody(bodyText);
  const detail = info.message === undefined ? '' : `: ${clip(info.message)}`;
  if (status === 400 || status === 422) {
    if (isContextLength(info)) {
      return new SkylarkError('context_length_exceeded', clip(info.message ?? 'The prompt exceeds the model\'s context length.'), {
        param: 'messages',
      });
    }
    return new SkylarkError('invalid_request', clip(info.message ?? 'The upstream rejected the request as invalid.'));
  }
  if (status === 401 || status === 403) {
    return new SkylarkError(
      'upstream_error',
      `The upstream rejected the gateway's credentials (HTTP ${status}); this is a server configuration problem.`,
    );
  }
  if (status === 404) {
    return new SkylarkError('upstream_error', `The upstream has no model named '${model}' (HTTP 404)${detail}`);
  }
  if (status === 408) return new SkylarkError('upstream_timeout', `The upstream timed out (HTTP 408)${detail}`);
  if (status === 413) {
    return new SkylarkError('request_too_large', clip(info.message ?? 'The request is too large for the upstream.'));
  }
  if (status === 429) {
    const retryAfterMs = parseRetryAfter(headers);
    return new SkylarkError('rate_limit_exceeded', `The upstream is rate limiting requests${detail}`, { retryAfterMs });
  }
  return new SkylarkError('upstream_error', `The upstream returned HTTP ${status}${detail}`);
}

const unavailableCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
]);

function errorCode(error: unknown): string | undefined {
  if (error === null || typeof error !== 'object') return undefined;
  const record = error as { code?: unknown; errors?: unknown; cause?: unknown };
  if (typeof record.code === 'string') return record.code;
  // Happy-eyeballs connects fail with an AggregateError of per-address errors.
  if (Array.isArray(record.errors) && record.errors.length > 0) return errorCode(record.errors[0]);
  return record.cause === undefined ? undefined : errorCode(record.cause);
}

export interface TransportTimeouts {
  firstByteTimeoutMs: number;
  idleTimeoutMs: number;
}

/**
 * A transport failure. `gotHeaders` splits "could not reach it" (another engine may serve
 * the request) from "it died mid-answer".
 */
export function errorFromTransport(error: unknown, gotHeaders: boolean, timeouts: TransportTimeouts): SkylarkError {
  if (error instanceof SkylarkError) return error;
  const code = errorCode(error);
  if (code === 'UND_ERR_HEADERS_TIMEOUT') {
    return new SkylarkError('upstream_timeout', `The upstream sent no response within ${timeouts.firstByteTimeoutMs} ms.`, {
      cause: error,
    });
  }
  if (code === 'UND_ERR_BODY_TIMEOUT') {
    return new SkylarkError('upstream_timeout', `The upstream went silent for more than ${timeouts.idleTimeoutMs} ms.`, {
      cause: error,
    });
  }
  if (gotHeaders) {
    return new SkylarkError('upstream_error', 'The upstream closed the stream before it finished.', { cause: error });
  }
  if (code !== undefined && unavailableCodes.has(code)) {
    return new SkylarkError('engine_unavailable', `The upstream could not be reached (${code}).`, { cause: error });
  }
  return new SkylarkError('upstream_error', 'The request to the upstream failed.', { cause: error });
}

export function badResponse(message: string, cause?: unknown): SkylarkError {
  return new SkylarkError('upstream_bad_response', message, cause === undefined ? {} : { cause });
}
