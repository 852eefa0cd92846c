import type { FastifyInstance, FastifyReply } from 'fastify';
import { mediaModels, webImage, webSpeech } from '../../consumer/app-media.js';
import type { ConsumerDeps } from '../../consumer/consumer-deps.js';
import { endUserOf } from '../end-user-session.js';
import { sendBytes } from '../send-bytes.js';

/** Aborted when the page's request goes away, so the engine stops. */
function signalOf(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort(new Error('client disconnected'));
  });
  return controller.signal;
}

/** The web app's images and "play": what models offer them, and the calls themselves. */
export function registerAppMediaRoutes(app: FastifyInstance, deps: ConsumerDeps): void {
  app.get('/api/media/models', async () => mediaModels(deps));

  app.post('/api/media/images', async (request, reply) => webImage(deps, endUserOf(request), request.body, signalOf(reply)));

  app.post('/api/media/speech', async (request, reply) => {
    const answer = await webSpeech(deps, endUserOf(request), request.body, signalOf(reply));
    await sendBytes(reply, answer.contentType, answer.audio, { 'cache-control': 'no-store' });
  });
}
