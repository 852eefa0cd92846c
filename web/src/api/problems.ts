/**
 * What went wrong, as the person at the keyboard can act on it. Each kind has its own
 * message in both languages (ui/problem-banner.tsx).
 */
import { ApiError, NetworkError } from './client.js';

export type Problem =
  | { kind: 'quota'; resetsAt: number }
  | { kind: 'overloaded'; retryAt: number }
  | { kind: 'network' }
  | { kind: 'model'; code: string }
  | { kind: 'signin' }
  | { kind: 'other'; message: string };

const modelCodes = new Set([
  'upstream_error',
  'upstream_bad_response',
  'upstream_timeout',
  'engine_unavailable',
  'internal_error',
  'model_not_found',
  'context_length_exceeded',
  'interrupted',
]);

export function problemOf(code: string, message: string, retryAfterMs: number | null, status = 0, now = Date.now()): Problem {
  if (code === 'quota_exhausted') return { kind: 'quota', resetsAt: now + (retryAfterMs ?? 0) };
  if (code === 'server_overloaded' || code === 'rate_limit_exceeded' || status === 429) {
    return { kind: 'overloaded', retryAt: now + (retryAfterMs ?? 5000) };
  }
  if (code === 'authentication_required') return { kind: 'signin' };
  if (modelCodes.has(code) || status >= 500) return { kind: 'model', code };
  return { kind: 'other', message };
}

export function toProblem(error: unknown, now = Date.now()): Problem {
  if (error instanceof NetworkError) return { kind: 'network' };
  if (error instanceof ApiError) return problemOf(error.code, error.message, error.retryAfterMs, error.status, now);
  if (error instanceof TypeError) return { kind: 'network' };
  return { kind: 'other', message: error instanceof Error ? error.message : String(error) };
}
