/**
 * Follows a reply being written on the server. The stream starts with everything written
 * so far, so calling this again after a dropped connection or a reload loses nothing.
 */
import type { ReplyEvent, WireMessage } from '../../../src/contracts/apps-api.js';
import { api, NetworkError } from './client.js';
import { readSse, type QueueReport } from './stream-reader.js';

export type ReplyEnd = Extract<ReplyEvent, { type: 'done' | 'error' }>;

export interface ReplyHandlers {
  onStart(messageId: number, text: string): void;
  onDelta(text: string): void;
  onQueue(report: QueueReport): void;
  onEnd(end: ReplyEnd): void;
}

/**
 * Resolves once the reply has ended (or the conversation has no reply); rejects with
 * NetworkError when the connection dropped first, and with AbortError when `signal` fired.
 */
export async function followReply(conversationId: string, handlers: ReplyHandlers, signal: AbortSignal): Promise<void> {
  const response = await api.stream(conversationId, signal);
  let started = false;
  try {
    for await (const item of readSse(response.body!)) {
      if (item.type === 'done') return;
      if (item.type === 'queue') {
        const { type: _type, ...report } = item;
        handlers.onQueue(report);
        continue;
      }
      const event = JSON.parse(item.data) as ReplyEvent;
      switch (event.type) {
        case 'start':
          started = true;
          handlers.onStart(event.message_id, event.text);
          break;
        case 'delta':
          handlers.onDelta(event.text);
          break;
        case 'done':
        case 'error':
          handlers.onEnd(event);
          return;
      }
    }
  } catch (error) {
    if (signal.aborted) throw error;
    throw new NetworkError(error);
  }
  // [DONE] without an end is a conversation with no reply; no [DONE] is a cut connection.
  if (started) throw new NetworkError(new Error('the reply stream ended early'));
}

export function isFinal(message: WireMessage): boolean {
  return message.status !== 'streaming';
}
