/**
 * What GET /api/conversations/{id}/stream sends: the reply's text so far in one `start`
 * event, then live deltas and waits, then its end. Reading the text and subscribing
 * happen in the same tick, so no delta falls between them. Without a run in this process
 * the stored message answers.
 */
import { AsyncQueue } from '../core/async-queue.js';
import type { ReplyEvent } from '../contracts/apps-api.js';
import type { EndUser } from '../apps/end-users.js';
import type { ChatRun, RunEnd, RunEvent } from './chat-runs.js';
import type { ConsumerDeps } from './consumer-deps.js';
import { toWireMessage } from './consumer-wire.js';
import { ownConversation } from './conversation-book.js';
import type { EtaRange } from '../gateway/queue-notice.js';
import { requireUser } from './end-user-auth.js';

export type FeedItem = { kind: 'event'; event: ReplyEvent } | { kind: 'queue'; position: number; etaMs: number; range?: EtaRange };

/** `signal`: the follower left; the feed ends (the reply goes on). */
export async function followReply(
  deps: ConsumerDeps,
  viewer: EndUser | undefined,
  conversationId: string,
  signal: AbortSignal,
): Promise<AsyncIterable<FeedItem> | Iterable<FeedItem>> {
  const conversation = await ownConversation(deps, requireUser(viewer), conversationId);
  const run = deps.runs.get(conversation.id);
  if (run !== undefined) return runFeed(run, signal);
  const stored = await deps.conversations.lastReply(conversation.id);
  if (stored === undefined) return [];
  const message = toWireMessage(stored);
  const start: FeedItem = { kind: 'event', event: { type: 'start', message_id: message.id, text: message.content } };
  if (message.status !== 'streaming') return [start, endItem({ message })];
  // Left 'streaming' with no run here: another replica writes it, or its process stopped.
  return [
    start,
    endItem({
      message,
      error: { code: 'interrupted', message: 'This reply is not being written on this server; reload to see where it got to.', retryAfterMs: 2000 },
    }),
  ];
}

async function* runFeed(run: ChatRun, signal: AbortSignal): AsyncGenerator<FeedItem> {
  const events = new AsyncQueue<RunEvent>();
  const unfollow = run.follow((event) => events.push(event));
  const leave = () => events.close();
  signal.addEventListener('abort', leave, { once: true });
  try {
    yield { kind: 'event', event: { type: 'start', message_id: run.messageId, text: run.text } };
    if (run.ended !== undefined) {
      yield endItem(run.ended);
      return;
    }
    if (run.queue !== undefined) yield { kind: 'queue', ...run.queue };
    for await (const event of events) {
      if (event.type === 'delta') yield { kind: 'event', event: { type: 'delta', text: event.text } };
      else if (event.type === 'queue') yield { kind: 'queue', position: event.position, etaMs: event.etaMs, ...(event.range && { range: event.range }) };
      else {
        yield endItem(event.end);
        return;
      }
    }
  } finally {
    signal.removeEventListener('abort', leave);
    unfollow();
    events.close();
  }
}

function endItem(end: RunEnd): FeedItem {
  if (end.error === undefined) return { kind: 'event', event: { type: 'done', message: end.message } };
  return {
    kind: 'event',
    event: {
      type: 'error',
      message: end.message,
      error: { code: end.error.code, message: end.error.message },
      retry_after_ms: end.error.retryAfterMs,
    },
  };
}
