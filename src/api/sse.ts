import { once } from 'node:events';
import type { FastifyReply } from 'fastify';
import { errorBody } from './error-reply.js';
import { toSkylarkError, type SkylarkError } from '../core/errors.js';
import { QueueNotice } from '../gateway/queue-notice.js';

/** How one protocol's events are written: OpenAI's `data:` lines, or Anthropic's named events. */
export interface EventFormat {
  event(event: unknown): string;
  queue(notice: QueueNotice): string;
  /** Written after the last event, when the stream ended well. */
  done: string;
  error(error: SkylarkError): string;
}

export const openAIFormat: EventFormat = {
  event: (event) => `data: ${JSON.stringify(event)}\n\n`,
  queue: (notice) => notice.toComment(),
  done: 'data: [DONE]\n\n',
  error: (error) => `data: ${JSON.stringify(errorBody(error))}\n\n`,
};

/** The Responses API: each event named by its `type`, and no `[DONE]`. */
export const responsesFormat: EventFormat = {
  ...openAIFormat,
  event: (event) => `event: ${(event as { type: string }).type}\ndata: ${JSON.stringify(event)}\n\n`,
  done: '',
};

/**
 * Writes an async iterable of JSON events as Server-Sent Events, one `data:` line per
 * event as it comes (no buffering, Nagle off), then `data: [DONE]`. Honours backpressure.
 * An error mid-stream becomes a final `data: {"error": …}` event, as OpenAI does.
 */
export interface EventStreamOptions {
  /** Names each event with an `event:` line (the Responses API names events by their `type`). */
  eventName?: (event: unknown) => string | undefined;
  /** Whether `data: [DONE]` ends the stream (chat and completions; default true). */
  done?: boolean;
}

export async function sendEventStream(
  reply: FastifyReply,
  events: AsyncIterable<unknown>,
  headers: Record<string, string>,
  format: EventFormat = openAIFormat,
): Promise<void> {
  const raw = reply.raw;
  reply.hijack();
  raw.socket?.setNoDelay(true);
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    ...headers,
  });
  // Events produced in the same tick (an upstream read holding several chunks) leave in one
  // write; nothing waits for a later tick, so no event is held back in time.
  let corked = false;
  // One function for the whole stream, not a closure per tick.
  const uncork = (): void => {
    corked = false;
    raw.uncork();
  };
  const write = (text: string): boolean => {
    if (!corked) {
      corked = true;
      raw.cork();
      process.nextTick(uncork);
    }
    return raw.write(text);
  };
  try {
    for await (const event of events) {
      if (raw.destroyed) {
        // Let the 'close' event abort the request first, so metering drains the engine's
        // abort ending and bills the tokens actually produced instead of none.
        if (!raw.closed) await once(raw, 'close');
        break;
      }
      const text = event instanceof QueueNotice ? format.queue(event) : format.event(event);
      if (!write(text)) await drained(raw);
    }
    if (!raw.destroyed && format.done !== '') write(format.done);
  } catch (error) {
    if (!raw.destroyed) write(format.error(toSkylarkError(error)));
  } finally {
    raw.end();
  }
}

function drained(raw: FastifyReply['raw']): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      raw.off('drain', done);
      raw.off('close', done);
      resolve();
    };
    raw.on('drain', done);
    raw.on('close', done);
  });
}
