/**
 * One conversation as the page sees it: load it, send, stop, regenerate, edit, and follow
 * the reply — resuming it after a reload or a dropped connection, since the server keeps
 * writing it. Deltas are applied once per animation frame, so a fast model re-renders
 * the page at most at the display's rate.
 */
import { useCallback, useEffect, useReducer, useRef } from 'react';
import { api } from '../../api/client.js';
import { problemOf, toProblem } from '../../api/problems.js';
import { followReply, type ReplyEnd } from '../../api/reply-follower.js';
import { navigate } from '../../router.js';
import { chatReducer, emptyChat } from './chat-state.js';

export interface ChatTarget {
  conversationId: string | null;
  /** The app a new conversation is made in. */
  appSlug: string;
  /** The model picked, for apps that let the user pick. */
  model: string | null;
  onConversationsChanged(): void;
}

export function useChat(target: ChatTarget) {
  const [state, dispatch] = useReducer(chatReducer, emptyChat);
  const follower = useRef<AbortController | null>(null);
  const created = useRef<string | null>(null);
  const pending = useRef('');
  const frame = useRef<number | null>(null);
  const targetRef = useRef(target);
  targetRef.current = target;

  const flush = useCallback(() => {
    frame.current = null;
    if (pending.current === '') return;
    const text = pending.current;
    pending.current = '';
    dispatch({ type: 'delta', text });
  }, []);

  const follow = useCallback(
    async (conversationId: string, attempt = 0): Promise<void> => {
      follower.current?.abort();
      const controller = new AbortController();
      follower.current = controller;
      dispatch({ type: 'problem', problem: null });
      try {
        await followReply(
          conversationId,
          {
            onStart: (messageId, text) => {
              pending.current = '';
              dispatch({ type: 'start', messageId, text });
            },
            onDelta: (text) => {
              pending.current += text;
              frame.current ??= requestAnimationFrame(flush);
            },
            onQueue: (report) => dispatch({ type: 'queue', wait: { ...report, at: Date.now() } }),
            onEnd: (end: ReplyEnd) => {
              flush();
              dispatch({ type: 'end', message: end.message });
              if (end.type === 'error') {
                dispatch({ type: 'problem', problem: problemOf(end.error.code, end.error.message, end.retry_after_ms) });
              }
              targetRef.current.onConversationsChanged();
            },
          },
          controller.signal,
        );
      } catch (error) {
        if (controller.signal.aborted) return;
        flush();
        const problem = toProblem(error);
        dispatch({ type: 'problem', problem });
        // The reply goes on at the server: keep trying to rejoin it for a while on our own.
        if (problem.kind === 'network' && attempt < 6) {
          setTimeout(() => {
            if (follower.current === controller) void follow(conversationId, attempt + 1);
          }, 1000 * 2 ** Math.min(attempt, 4));
        }
      }
    },
    [flush],
  );

  useEffect(() => {
    const id = target.conversationId;
    if (id !== null && id === created.current) return; // made here a moment ago: already current
    follower.current?.abort();
    created.current = null;
    if (id === null) {
      dispatch({ type: 'reset', loading: false });
      return;
    }
    dispatch({ type: 'reset', loading: true });
    let cancelled = false;
    api.conversation(id).then(
      (detail) => {
        if (cancelled) return;
        dispatch({ type: 'loaded', detail });
        if (detail.generating) void follow(id);
      },
      (error: unknown) => {
        if (cancelled) return;
        const problem = toProblem(error);
        if (problem.kind === 'other') dispatch({ type: 'not-found' });
        else dispatch({ type: 'problem', problem });
      },
    );
    return () => {
      cancelled = true;
    };
  }, [target.conversationId, follow]);

  useEffect(() => () => follower.current?.abort(), []);

  /** True when sent; false leaves the text where it was, with the problem shown. */
  const send = useCallback(
    async (content: string, replaceFrom?: number): Promise<boolean> => {
      const { appSlug, model } = targetRef.current;
      dispatch({ type: 'problem', problem: null });
      try {
        let id = state.conversation?.id;
        if (id === undefined) {
          const conversation = await api.createConversation(appSlug, model ?? undefined);
          id = conversation.id;
          created.current = id;
          dispatch({ type: 'conversation', conversation });
          navigate(`/c/${id}`, { replace: true });
        }
        const result = await api.sendMessage(id, {
          content,
          ...(model === null ? {} : { model }),
          ...(replaceFrom === undefined ? {} : { replace_from: replaceFrom }),
        });
        dispatch({ type: 'sent', result });
        targetRef.current.onConversationsChanged();
        void follow(id);
        return true;
      } catch (error) {
        dispatch({ type: 'problem', problem: toProblem(error) });
        return false;
      }
    },
    [state.conversation?.id, follow],
  );

  const regenerate = useCallback(async () => {
    const id = state.conversation?.id;
    if (id === undefined) return;
    dispatch({ type: 'problem', problem: null });
    try {
      dispatch({ type: 'sent', result: await api.regenerate(id) });
      void follow(id);
    } catch (error) {
      dispatch({ type: 'problem', problem: toProblem(error) });
    }
  }, [state.conversation?.id, follow]);

  const stop = useCallback(async () => {
    const id = state.conversation?.id;
    if (id === undefined) return;
    try {
      await api.stop(id);
    } catch (error) {
      dispatch({ type: 'problem', problem: toProblem(error) });
    }
  }, [state.conversation?.id]);

  const resume = useCallback(() => {
    if (state.conversation) void follow(state.conversation.id);
  }, [state.conversation, follow]);

  const dismiss = useCallback(() => dispatch({ type: 'problem', problem: null }), []);
  /** A problem from beside the conversation (an image answer), shown the same way. */
  const fail = useCallback((error: unknown) => dispatch({ type: 'problem', problem: toProblem(error) }), []);

  return { state, send, regenerate, stop, resume, dismiss, fail };
}
