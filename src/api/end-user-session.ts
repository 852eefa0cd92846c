/**
 * Cookies for the web app: who the end user is (an httpOnly session cookie, SameSite=Lax,
 * Secure over https, scoped to /api) and CSRF protection by double submit — a readable
 * `sky_csrf` cookie the page copies into the `x-skylark-csrf` header of every
 * state-changing /api request. A cross-site form can make the browser send cookies but
 * cannot read one or add a custom header; this server sends no CORS headers, so no other
 * origin's script may either.
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SkylarkError } from '../core/errors.js';
import { randomString } from '../core/ids.js';
import type { EndUser } from '../apps/end-users.js';
import type { ConsumerDeps } from '../consumer/consumer-deps.js';
import { sessionUser } from '../consumer/end-user-auth.js';

export const sessionCookie = 'sky_session';
export const csrfCookie = 'sky_csrf';
export const csrfHeader = 'x-skylark-csrf';
const safeMethods = new Set(['GET', 'HEAD', 'OPTIONS']);

const users = new WeakMap<FastifyRequest, EndUser>();

/** For routes of the /api plugin only: their requests are the ones with cookies to read. */
export function attachEndUser(scope: FastifyInstance, deps: ConsumerDeps): void {
  scope.addHook('onRequest', async (request, reply) => {
    if (!safeMethods.has(request.method)) checkCsrf(request);
    else if (!request.cookies[csrfCookie]) issueCsrf(request, reply);
    const user = await sessionUser(deps, request.cookies[sessionCookie]);
    if (user !== undefined) users.set(request, user);
  });
}

export function endUserOf(request: FastifyRequest): EndUser | undefined {
  return users.get(request);
}

export function sessionTokenOf(request: FastifyRequest): string | undefined {
  return request.cookies[sessionCookie];
}

export function setSession(request: FastifyRequest, reply: FastifyReply, token: string, expiresAt: number): void {
  reply.setCookie(sessionCookie, token, {
    path: '/api',
    httpOnly: true,
    sameSite: 'lax',
    secure: request.protocol === 'https',
    expires: new Date(expiresAt),
  });
  // A new session gets a new CSRF token: one learnt before sign-in is worth nothing after.
  issueCsrf(request, reply);
}

export function clearSession(request: FastifyRequest, reply: FastifyReply): void {
  reply.clearCookie(sessionCookie, { path: '/api', httpOnly: true, sameSite: 'lax', secure: request.protocol === 'https' });
}

function issueCsrf(request: FastifyRequest, reply: FastifyReply): void {
  reply.setCookie(csrfCookie, randomString(32), { path: '/', sameSite: 'strict', secure: request.protocol === 'https' });
}

function checkCsrf(request: FastifyRequest): void {
  const cookie = Buffer.from(request.cookies[csrfCookie] ?? '');
  const header = request.headers[csrfHeader];
  const sent = Buffer.from(typeof header === 'string' ? header : '');
  const ok = cookie.length >= 16 && cookie.length === sent.length && timingSafeEqual(cookie, sent);
  if (!ok) {
    throw new SkylarkError(
      'permission_denied',
      `Missing or wrong CSRF token: send the ${csrfCookie} cookie's value in the ${csrfHeader} header (reload the page to get one).`,
    );
  }
}
