/**
 * Server-Sent Events for a web app reply: one `data:` JSON event per ReplyEvent, waits for
 * compute as `: queue position=N eta_ms=M [eta_range_ms=L-H]` comments (the form /v1 streams use), a
 * `: ping` comment every 15 s so proxies keep an idle wait open, and `data: [DONE]`.
 */
import type { FastifyReply } from 'fastify';
import { queueComment } from '../gateway/queue-notice.js';
import type { FeedItem } from '../consumer/reply-feed.js';

const heartbeatMs = 15_000;

export async function sendReplyStream(reply: FastifyReply, feed: (signal: AbortSignal) => Promise<AsyncIterable<FeedItem> | Iterable<FeedItem>>): Promise<void> {
  const left = new AbortController();
  const items = await feed(left.signal); // errors (not found, not signed in) are still plain HTTP errors here
  const raw = reply.raw;
  reply.hijack();
  raw.socket?.setNoDelay(true);
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-store',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  const onClose = () => left.abort();
  raw.once('close', onClose);
  const heartbeat = setInterval(() => raw.write(': ping\n\n'), heartbeatMs);
  try {
    for await (const item of items) {
      if (raw.destroyed) break;
      raw.write(item.kind === 'queue' ? queueComment(item.position, item.etaMs, item.range) : `data: ${JSON.stringify(item.event)}\n\n`);
    }
    if (!raw.destroyed) raw.write('data: [DONE]\n\n');
  } finally {
    clearInterval(heartbeat);
    raw.off('close', onClose);
    raw.end();
  }
}
