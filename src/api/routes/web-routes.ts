/**
 * The web app (dist/web, built by Vite) at `/`, with the single-page fallback: any other
 * GET outside the API's prefixes gets index.html and the app routes it (`/a/{slug}`,
 * `/c/{id}`…). Hashed assets are cached forever; index.html never, so a deploy shows at
 * once. The Content-Security-Policy allows only this origin's scripts: even markup that
 * slipped past the markdown sanitiser could not run.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';

const reserved = /^\/(v1|api|admin|docs|assets)(\/|$)|^\/(healthz|readyz)$/;

export const contentSecurityPolicy = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  // Answers read aloud are played from a Blob of the WAV the server sent.
  "media-src 'self' blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'self'",
].join('; ');

function pageHeaders(reply: FastifyReply): void {
  reply.header('content-security-policy', contentSecurityPolicy);
  reply.header('x-content-type-options', 'nosniff');
  reply.header('referrer-policy', 'same-origin');
  reply.header('cache-control', 'no-cache');
}

/** Without a built web app (`npm run build:web`), `/` says how to build one. */
export function registerWebApp(app: FastifyInstance, root: string | undefined): void {
  if (root === undefined || !existsSync(join(root, 'index.html'))) {
    app.get('/', { schema: { hide: true } }, async (_request, reply) =>
      reply.type('text/plain; charset=utf-8').send('Skylark is running. The web app is not built: run `npm run build:web`.\n'),
    );
    return;
  }
  app.register(fastifyStatic, {
    root,
    wildcard: false,
    setHeaders: (reply, path) => {
      if (path.endsWith('.html')) pageHeaders(reply);
      else if (path.includes('/assets/')) reply.header('cache-control', 'public, max-age=31536000, immutable');
    },
  });
  // Pages, not API: kept out of the OpenAPI document.
  app.get('/*', { schema: { hide: true } }, async (request, reply) => {
    const path = request.url.split('?')[0]!;
    if (reserved.test(path)) return reply.callNotFound();
    pageHeaders(reply);
    return reply.sendFile('index.html');
  });
}
