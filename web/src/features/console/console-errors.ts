/**
 * The API's OpenAI-shaped errors, as what the person at the console can do about them.
 * The server's own message is kept (it names the value at fault); the words around it say
 * what to do next, in the chosen language.
 */
import { ApiError, NetworkError } from '../../api/client.js';
import type { MessageKey } from '../../i18n/dictionary.js';

export interface ConsoleProblem {
  key: MessageKey;
  values: Record<string, string | number>;
  /** Worth trying again as it is (now, or once `retryAt` has passed). */
  retryable: boolean;
  /** ms since epoch, from Retry-After. */
  retryAt?: number;
  /** The pasted key itself is no good: offer to paste another. */
  badKey?: boolean;
}

export function describeError(error: unknown, now = Date.now()): ConsoleProblem {
  if (error instanceof NetworkError || error instanceof TypeError) return { key: 'console.error.network', values: {}, retryable: true };
  if (!(error instanceof ApiError)) {
    return { key: 'console.error.other', values: { message: error instanceof Error ? error.message : String(error), code: 'client' }, retryable: false };
  }
  const { code, message } = error;
  switch (code) {
    case 'invalid_api_key':
      return { key: 'console.error.invalidKey', values: { message }, retryable: false, badKey: true };
    case 'permission_denied':
      return { key: 'console.error.permission', values: { message }, retryable: false };
    case 'not_found':
    case 'model_not_found':
      return { key: 'console.error.notFound', values: { message }, retryable: false };
    case 'insufficient_quota':
      return { key: 'console.error.balance', values: { message }, retryable: false };
    case 'rate_limit_exceeded':
    case 'server_overloaded':
      return { key: 'console.error.busy', values: { message }, retryable: true, retryAt: now + (error.retryAfterMs ?? 5000) };
  }
  if (error.status === 400 || error.status === 422) {
    return error.param
      ? { key: 'console.error.field', values: { param: error.param, message }, retryable: false }
      : { key: 'console.error.invalid', values: { message }, retryable: false };
  }
  if (error.status >= 500) return { key: 'console.error.server', values: { code, message }, retryable: true };
  return { key: 'console.error.other', values: { code, message }, retryable: false };
}
