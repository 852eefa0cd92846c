import type { FastifyInstance } from 'fastify';
import {
  appUsage,
  chatModels,
  createApp,
  deleteApp,
  getApp,
  listApps,
  quotaOf,
  visibleApp,
} from '../../consumer/app-factory.js';
import type { ConsumerDeps } from '../../consumer/consumer-deps.js';
import { requireUser } from '../../consumer/end-user-auth.js';
import { updateApp } from '../../consumer/app-factory.js';
import { endUserOf } from '../end-user-session.js';

type SlugParams = { Params: { slug: string } };

/** The app factory: the gallery, an app's page, and its owner's edits and usage. */
export function registerAppRoutes(app: FastifyInstance, deps: ConsumerDeps): void {
  app.get('/api/models', async () => ({ data: chatModels(deps) }));

  app.get<{ Querystring: { scope?: string } }>('/api/apps', async (request) => ({
    data: await listApps(deps, endUserOf(request), request.query.scope === 'mine' ? 'mine' : 'public'),
  }));

  app.post('/api/apps', async (request, reply) => reply.code(201).send(await createApp(deps, endUserOf(request), request.body)));

  app.get<SlugParams>('/api/apps/:slug', async (request) => getApp(deps, endUserOf(request), request.params.slug));

  app.patch<SlugParams>('/api/apps/:slug', async (request) =>
    updateApp(deps, endUserOf(request), request.params.slug, request.body),
  );

  app.delete<SlugParams>('/api/apps/:slug', async (request, reply) => {
    await deleteApp(deps, endUserOf(request), request.params.slug);
    return reply.code(204).send();
  });

  app.get<SlugParams>('/api/apps/:slug/usage', async (request) => ({
    data: await appUsage(deps, endUserOf(request), request.params.slug),
  }));

  /** The asking user's tokens left today in this app. */
  app.get<SlugParams>('/api/apps/:slug/quota', async (request) => {
    const user = requireUser(endUserOf(request));
    return quotaOf(deps, await visibleApp(deps, user, request.params.slug), user);
  });
}
