import { once } from 'node:events';
import type { FastifyReply } from 'fastify';

/**
 * Writes bytes as they come, honouring backpressure. An error midway cuts the connection
 * (the status has gone out): the client sees a truncated body, not a wrong file.
 */
export async function sendBytes(reply: FastifyReply, contentType: string, chunks: AsyncIterable<Uint8Array>, headers: Record<string, string>): Promise<void> {
  const raw = reply.raw;
  reply.hijack();
  raw.writeHead(200, { 'content-type': contentType, 'transfer-encoding': 'chunked', ...headers });
  try {
    for await (const chunk of chunks) {
      if (raw.destroyed) {
        // Let 'close' abort the request first, so metering bills it as aborted.
        if (!raw.closed) await once(raw, 'close');
        break;
      }
      if (!raw.write(chunk)) await Promise.race([once(raw, 'drain'), once(raw, 'close')]);
    }
    raw.end();
  } catch {
    raw.destroy();
  }
}
