/**
 * An Anthropic upstream's failures → SkylarkErrors, through the same table the
 * OpenAI-compatible engine uses (its credentials are never the client's: a 401 is ours),
 * plus Anthropic's own: 529 overloaded_error, and `error` events inside a stream.
 */
import { SkylarkError } from '../../core/errors.js';
import { errorFromStatus, errorInfo, parseRetryAfter } from '../openai-compatible/upstream-errors.js';

type Headers = Record<string, string | string[] | undefined>;

function clip(message: string): string {
  return message.length > 1000 ? `${message.slice(0, 1000)}…` : message;
}

export function errorFromAnthropicStatus(status: number, headers: Headers, bodyText: string, model: string): SkylarkError {
  if (status === 529) {
    // Overloaded: another replica may serve it, so this is the retryable "unavailable".
    const info = errorInfo(safeParse(bodyText));
    const retryAfterMs = parseRetryAfter(headers) ?? 1000;
    return new SkylarkError('engine_unavailable', `The upstream is overloaded (HTTP 529)${info.message ? `: ${clip(info.message)}` : ''}`, { retryAfterMs });
  }
  return errorFromStatus(status, headers, bodyText, model);
}

/**
 * An `error` event (or error body) `{"type":"error","error":{"type","message"}}`. Before any
 * output an overload is retryable on another replica; after it, the answer is broken.
 */
export function errorFromEvent(event: unknown, producedOutput: boolean): SkylarkError {
  const info = errorInfo(event);
  const detail = info.message === undefined ? '' : `: ${clip(info.message)}`;
  if (!producedOutput && info.type === 'overloaded_error') {
    return new SkylarkError('engine_unavailable', `The upstream is overloaded${detail}`, { retryAfterMs: 1000 });
  }
  if (!producedOutput && info.type === 'rate_limit_error') {
    return new SkylarkError('rate_limit_exceeded', `The upstream is rate limiting requests${detail}`, { retryAfterMs: 1000 });
  }
  if (info.type === 'invalid_request_error') return new SkylarkError('invalid_request', clip(info.message ?? 'The upstream rejected the request as invalid.'));
  return new SkylarkError('upstream_error', `The upstream reported an error${detail}`);
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
