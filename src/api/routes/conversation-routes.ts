import type { FastifyInstance } from 'fastify';
import { regenerate, sendMessage, stopReply } from '../../consumer/app-chat.js';
import type { ConsumerDeps } from '../../consumer/consumer-deps.js';
import {
  createConversation,
  deleteConversation,
  listConversations,
  openConversation,
  renameConversation,
  searchConversations,
} from '../../consumer/conversation-book.js';
import { followReply } from '../../consumer/reply-feed.js';
import { endUserOf } from '../end-user-session.js';
import { sendReplyStream } from '../reply-stream.js';

type IdParams = { Params: { id: string } };

/**
 * Conversations and replies. Sending a message answers 202 at once: the reply is written
 * on the server and followed (or resumed after a reload) on /stream.
 */
export function registerConversationRoutes(app: FastifyInstance, deps: ConsumerDeps): void {
  app.get<{ Querystring: { app?: string } }>('/api/conversations', async (request) => ({
    data: await listConversations(deps, endUserOf(request), request.query.app),
  }));

  app.post('/api/conversations', async (request, reply) =>
    reply.code(201).send(await createConversation(deps, endUserOf(request), request.body)),
  );

  app.get<IdParams>('/api/conversations/:id', async (request, reply) =>
    reply.header('cache-control', 'no-store').send(await openConversation(deps, endUserOf(request), request.params.id)),
  );

  app.patch<IdParams>('/api/conversations/:id', async (request) =>
    renameConversation(deps, endUserOf(request), request.params.id, request.body),
  );

  app.delete<IdParams>('/api/conversations/:id', async (request, reply) => {
    await deleteConversation(deps, endUserOf(request), request.params.id);
    return reply.code(204).send();
  });

  app.get<{ Querystring: { q?: string } }>('/api/search', async (request) => ({
    data: await searchConversations(deps, endUserOf(request), request.query.q ?? ''),
  }));

  app.post<IdParams>('/api/conversations/:id/messages', async (request, reply) =>
    reply.code(202).send(await sendMessage(deps, endUserOf(request), request.params.id, request.body)),
  );

  app.post<IdParams>('/api/conversations/:id/regenerate', async (request, reply) =>
    reply.code(202).send(await regenerate(deps, endUserOf(request), request.params.id)),
  );

  app.post<IdParams>('/api/conversations/:id/stop', async (request) => stopReply(deps, endUserOf(request), request.params.id));

  app.get<IdParams>('/api/conversations/:id/stream', async (request, reply) => {
    await sendReplyStream(reply, (signal) => followReply(deps, endUserOf(request), request.params.id, signal));
    return reply;
  });
}
