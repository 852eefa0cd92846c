/**
 * What lets a web-app reply be followed from any gateway, not only the one writing it.
 * ChatRuns keeps the runs of this process; a relay makes them visible to the others:
 * it claims a conversation for one reply across gateways, mirrors a run's events where
 * other gateways can read them, reads a reply another gateway writes, and carries a stop
 * to the gateway running the reply.
 *
 * `localReplies` is one gateway alone (no REDIS_URL): every claim succeeds (ChatRuns
 * refuses a second reply in process) and no other gateway writes anything.
 * `redis-reply-relay.ts` is the shared one.
 */
import type { ChatRun, RunEnd, RunEvent } from './chat-runs.js';
import type { EtaRange } from '../gateway/queue-notice.js';

/** `lost`: the gateway writing the reply went away before its end; the stored message answers. */
export type RemoteEvent = RunEvent | { type: 'lost' };

/** A reply another gateway is writing, read from its beginning. */
export interface RemoteReply {
  messageId: number;
  /** The text so far. */
  text: string;
  /** Where it waits for compute, when it has not started yet. */
  queue?: { position: number; etaMs: number; range?: EtaRange };
  /** Set when it had already ended: `live` is then not to be read. */
  end?: RunEnd;
  /** Everything after `text`, live, ending with an `end` or `lost` event. */
  live: AsyncIterable<RemoteEvent>;
}

export interface ReplyRelay {
  /** Claims the conversation for a new reply on this gateway; false while any gateway has one. */
  claim(conversationId: string): Promise<boolean>;
  /** Gives back a claim that never became a run (sending failed); a no-op after mirror(). */
  unclaim(conversationId: string): Promise<void>;
  /** Publishes a run of this gateway, from its start to its end. */
  mirror(run: ChatRun): void;
  /** Whether another gateway is writing a reply in this conversation. */
  writing(conversationId: string): Promise<boolean>;
  /** The reply another gateway is writing in this conversation; undefined when none. */
  follow(conversationId: string, signal: AbortSignal): Promise<RemoteReply | undefined>;
  /** Asks the gateway writing this conversation's reply to stop it; false when none is. */
  stop(conversationId: string): Promise<boolean>;
  close(): Promise<void>;
}

export const localReplies: ReplyRelay = {
  claim: async () => true,
  unclaim: async () => {},
  mirror: () => {},
  writing: async () => false,
  follow: async () => undefined,
  stop: async () => false,
  close: async () => {},
};
