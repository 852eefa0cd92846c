import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { SkylarkError } from '../core/errors.js';

/**
 * Bearer-key check. Until tenants exist the admin key is the one key accepted.
 * Keys are compared as SHA-256 digests in constant time so neither length nor prefix leaks.
 */
export function bearerAuthenticator(adminKey: string): (request: FastifyRequest) => void {
  const expected = digest(adminKey);
  return (request) => {
    const header = request.headers.authorization;
    const key = header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
    if (!key) {
      throw new SkylarkError(
        'invalid_api_key',
        "You didn't provide an API key. Send it in the Authorization header as 'Bearer YOUR_KEY'.",
      );
    }
    if (!timingSafeEqual(digest(key), expected)) {
      throw new SkylarkError('invalid_api_key', `Incorrect API key provided: ${redact(key)}.`);
    }
  };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

function redact(key: string): string {
  return key.length <= 8 ? '****' : `${key.slice(0, 3)}****${key.slice(-4)}`;
}
