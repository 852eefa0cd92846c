import type { FastifyInstance } from 'fastify';
import type { ConsumerDeps } from '../../consumer/consumer-deps.js';
import { toWireEndUser } from '../../consumer/consumer-wire.js';
import { continueAsGuest, signIn, signOut, signUp, type OpenedSession } from '../../consumer/end-user-auth.js';
import { clearSession, endUserOf, sessionTokenOf, setSession } from '../end-user-session.js';

/** Accounts and sessions of the web app's end users. */
export function registerAuthRoutes(app: FastifyInstance, deps: ConsumerDeps): void {
  /** Who is signed in (null: nobody); also where a page first gets its CSRF cookie. */
  app.get('/api/session', async (request, reply) => {
    const user = endUserOf(request);
    return reply.header('cache-control', 'no-store').send({ user: user === undefined ? null : toWireEndUser(user) });
  });

  const opened = (session: OpenedSession) => ({ user: toWireEndUser(session.user) });

  app.post('/api/auth/signup', async (request, reply) => {
    const session = await signUp(deps, request.body, request.ip, endUserOf(request));
    setSession(request, reply, session.token, session.expiresAt);
    return reply.code(201).send(opened(session));
  });

  app.post('/api/auth/signin', async (request, reply) => {
    const session = await signIn(deps, request.body, request.ip);
    setSession(request, reply, session.token, session.expiresAt);
    return opened(session);
  });

  app.post('/api/auth/guest', async (request, reply) => {
    const session = await continueAsGuest(deps, request.ip);
    setSession(request, reply, session.token, session.expiresAt);
    return reply.code(201).send(opened(session));
  });

  app.post('/api/auth/signout', async (request, reply) => {
    await signOut(deps, sessionTokenOf(request));
    clearSession(request, reply);
    return reply.code(204).send();
  });
}
