/** The state of one open conversation, changed only through these actions. */
import type { ConversationDetail, PostMessageResult, WireConversation, WireMessage } from '../../../../src/contracts/apps-api.js';
import type { Problem } from '../../api/problems.js';
import type { QueueWait } from './queue-status.js';

export interface ChatState {
  conversation: WireConversation | null;
  messages: WireMessage[];
  /** The reply being followed now. */
  streamingId: number | null;
  queue: QueueWait | null;
  problem: Problem | null;
  loading: boolean;
  notFound: boolean;
}

export const emptyChat: ChatState = {
  conversation: null,
  messages: [],
  streamingId: null,
  queue: null,
  problem: null,
  loading: false,
  notFound: false,
};

export type ChatAction =
  | { type: 'reset'; loading: boolean }
  | { type: 'not-found' }
  | { type: 'loaded'; detail: ConversationDetail }
  | { type: 'conversation'; conversation: WireConversation }
  | { type: 'sent'; result: PostMessageResult }
  | { type: 'start'; messageId: number; text: string }
  | { type: 'delta'; text: string }
  | { type: 'end'; message: WireMessage }
  | { type: 'queue'; wait: QueueWait | null }
  | { type: 'problem'; problem: Problem | null };

export function chatReducer(state: ChatState, action: ChatAction): ChatState {
  switch (action.type) {
    case 'reset':
      return { ...emptyChat, loading: action.loading };
    case 'not-found':
      return { ...emptyChat, notFound: true };
    case 'loaded':
      return { ...state, loading: false, conversation: action.detail.conversation, messages: action.detail.messages };
    case 'conversation':
      return { ...state, conversation: action.conversation };
    case 'sent': {
      // Everything from the user message on is replaced (a plain send appends, an edit or
      // regenerate cuts back first).
      const { user_message: user, assistant_message: assistant } = action.result;
      const kept = state.messages.filter((m) => m.id < user.id);
      return { ...state, messages: [...kept, user, assistant], streamingId: assistant.id, problem: null, queue: null };
    }
    case 'start':
      return {
        ...state,
        streamingId: action.messageId,
        messages: upsert(state.messages, action.messageId, (m) => ({ ...m, content: action.text })),
      };
    case 'delta':
      if (state.streamingId === null) return state;
      return {
        ...state,
        queue: null,
        messages: upsert(state.messages, state.streamingId, (m) => ({ ...m, content: m.content + action.text })),
      };
    case 'end':
      return {
        ...state,
        streamingId: null,
        queue: null,
        messages: upsert(state.messages, action.message.id, () => action.message),
      };
    case 'queue':
      return { ...state, queue: action.wait };
    case 'problem':
      return { ...state, problem: action.problem };
  }
}

/** Changes the message with this id; a reply the page has not seen yet is added. */
function upsert(messages: WireMessage[], id: number, change: (message: WireMessage) => WireMessage): WireMessage[] {
  const index = messages.findIndex((m) => m.id === id);
  if (index < 0) {
    const fresh: WireMessage = { id, role: 'assistant', content: '', status: 'streaming', error_code: null, model: null, created_at: Date.now() };
    return [...messages, change(fresh)];
  }
  const next = messages.slice();
  next[index] = change(messages[index]!);
  return next;
}
