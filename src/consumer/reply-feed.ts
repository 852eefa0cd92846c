/**
 * What GET /api/conversations/{id}/stream sends: the reply's text so far in one `start`
 * event, then live deltas and waits, then its end. Reading the text and subscribing
 * happen in the same tick, so no delta falls between them. A reply another gateway writes
 * is read through the relay, from its beginning and then live. Without a run anywhere the
 * stored message answers.
 */
import { AsyncQueue } from '../core/async-queue.js';
import type { ReplyEvent, WireMessage } from '../contracts/apps-api.js';
import type { EndUser } from '../apps/end-users.js';
import type { ChatRun, RunEnd, RunEvent } from './chat-runs.js';
import type { ConsumerDeps } from './consumer-deps.js';
import { toWireMessage } from './consumer-wire.js';
import { ownConversation } from './conversation-book.js';
import type { EtaRange } from '../gateway/queue-notice.js';
import { requireUser } from './end-user-auth.js';
import type { RemoteReply } from './reply-relay.js';

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
  const remote = await deps.relay.follow(conversation.id, signal);
  if (remote !== undefined) return remoteFeed(deps, conversation.id, remote);
  const stored = await deps.conversations.lastReply(conversation.id);
  if (stored === undefined) return [];
  const message = toWireMessage(stored);
  return [{ kind: 'event', event: { type: 'start', message_id: message.id, text: message.content } }, storedEnd(message)];
}

const notHere = 'This reply is not being written on this server; reload to see where it got to.';
const writerGone = 'The server writing this reply stopped before it ended.';

/** The end a stored message tells; one left 'streaming' has nobody writing it any more. */
function storedEnd(message: WireMessage, interrupted = notHere): FeedItem {
  if (message.status !== 'streaming') return endItem({ message });
  // Another replica writes it (without a relay), or the process writing it stopped.
  return endItem({ message, error: { code: 'interrupted', message: interrupted, retryAfterMs: 2000 } });
}

async function* remoteFeed(deps: ConsumerDeps, conversationId: string, remote: RemoteReply): AsyncGenerator<FeedItem> {
  yield { kind: 'event', event: { type: 'start', message_id: remote.messageId, text: remote.text } };
  if (remote.end !== undefined) {
    yield endItem(remote.end);
    return;
  }
  if (remote.queue !== undefined) yield { kind: 'queue', ...remote.queue };
  for await (const event of remote.live) {
    if (event.type === 'lost') {
      // Its gateway went away mid-reply: the stored message says what is left of it.
      const stored = await deps.conversations.message(remote.messageId);
      if (stored !== undefined) yield storedEnd(toWireMessage(stored), writerGone);
      return;
    }
    yield liveItem(event);
    if (event.type === 'end') return;
  }
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
      yield liveItem(event);
      if (event.type === 'end') return;
    }
  } finally {
    signal.removeEventListener('abort', leave);
    unfollow();
    events.close();
  }
}

function liveItem(event: RunEvent): FeedItem {
  if (event.type === 'delta') return { kind: 'event', event: { type: 'delta', text: event.text } };
  if (event.type === 'queue') return { kind: 'queue', position: event.position, etaMs: event.etaMs, ...(event.range && { range: event.range }) };
  return endItem(event.end);
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
