/**
 * Sign up, sign in, guests and sessions for the web app. HTTP-free: the API layer moves
 * the session token in and out of cookies.
 */
import { SkylarkError } from '../core/errors.js';
import { credentialsSchema } from '../contracts/apps-api.js';
import { parseRequest } from '../contracts/parse.js';
import type { EndUser } from '../apps/end-users.js';
import { decoyHash, hashPassword, verifyPassword } from '../apps/passwords.js';
import type { AttemptLimiter } from '../apps/attempt-limiter.js';
import type { ConsumerDeps } from './consumer-deps.js';

export interface OpenedSession {
  user: EndUser;
  token: string;
  expiresAt: number;
}

/** A guest signing up keeps their conversations (`current` is the session's user, if any). */
export async function signUp(deps: ConsumerDeps, body: unknown, ip: string, current: EndUser | undefined): Promise<OpenedSession> {
  const { username, password } = parseRequest(credentialsSchema, body);
  admit(deps.signUpLimiter, ip, 'Too many new accounts from this address.');
  const hash = await hashPassword(password);
  const user =
    current?.kind === 'guest'
      ? await deps.users.promoteGuest(current.id, username, hash)
      : await deps.users.createMember(username, hash);
  if (user === undefined) {
    throw new SkylarkError('invalid_request', `The username '${username}' is taken.`, { param: 'username' });
  }
  deps.signUpLimiter.fail(ip); // counts creations, not failures
  return { user, ...(await deps.users.openSession(user)) };
}

export async function signIn(deps: ConsumerDeps, body: unknown, ip: string): Promise<OpenedSession> {
  const { username, password } = parseRequest(credentialsSchema, body);
  const key = `${ip}\u0000${username.toLowerCase()}`;
  admit(deps.signInLimiter, key, 'Too many failed sign-ins for this account from this address.');
  const found = await deps.users.credentials(username);
  const valid = await verifyPassword(password, found?.passwordHash ?? (await decoyHash()));
  if (found === undefined || !valid) {
    deps.signInLimiter.fail(key);
    throw new SkylarkError('authentication_required', 'Wrong username or password.');
  }
  deps.signInLimiter.reset(key);
  return { user: found.user, ...(await deps.users.openSession(found.user)) };
}

export async function continueAsGuest(deps: ConsumerDeps, ip: string): Promise<OpenedSession> {
  admit(deps.signUpLimiter, ip, 'Too many new guest sessions from this address.');
  deps.signUpLimiter.fail(ip);
  const user = await deps.users.createGuest();
  return { user, ...(await deps.users.openSession(user)) };
}

export async function signOut(deps: ConsumerDeps, token: string | undefined): Promise<void> {
  if (token) await deps.users.closeSession(token);
}

export async function sessionUser(deps: ConsumerDeps, token: string | undefined): Promise<EndUser | undefined> {
  if (!token || token.length > 100) return undefined;
  return deps.users.sessionUser(token);
}

export function requireUser(user: EndUser | undefined): EndUser {
  if (user === undefined) {
    throw new SkylarkError('authentication_required', 'Sign in or continue as a guest first.');
  }
  return user;
}

export function requireMember(user: EndUser | undefined): EndUser {
  const known = requireUser(user);
  if (known.kind !== 'member') {
    throw new SkylarkError('permission_denied', 'Guests cannot do this: create an account first.');
  }
  return known;
}

function admit(limiter: AttemptLimiter, key: string, why: string): void {
  const verdict = limiter.check(key);
  if (!verdict.ok) {
    const seconds = Math.ceil(verdict.retryAfterMs / 1000);
    throw new SkylarkError('rate_limit_exceeded', `${why} Try again in ${seconds}s.`, { retryAfterMs: verdict.retryAfterMs });
  }
}
