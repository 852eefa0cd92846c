/**
 * What a chat request running on a cached context (context-cache.ts) changes in the chat
 * path: its usage counts the context's tokens as cached input — Ark's contract: the
 * customer pays storage for them, so they are billed at the cached-input rate whatever the
 * engine reused (docs/engines.md says what each engine really keeps) — and, in session
 * mode, the answer is handed back to be appended before the client sees the end of it.
 */
import type { Usage } from '../core/usage.js';
import type { GenerationPart, ToolCall } from '../engines/engine.js';
import { QueueNotice, type StreamPart } from './queue-notice.js';

export interface ContextPrefix {
  /** Tokens of the cached prefix (the context's messages, as counted at creation or after the last turn). */
  tokens: number;
  /**
   * Called once the request's funds are held, before it is scheduled: the context's use
   * (storage charged, TTL reset), which a request refused for funds must not make.
   */
  onHeld?(): Promise<void>;
  /** Session mode: called with a finished turn's answer before its terminal part goes out. */
  onAnswer?(answer: { text: string; toolCalls: ToolCall[]; usage: Usage }): Promise<void>;
}

/** The context's tokens are cached input; never more than the prompt, never fewer than the engine reused. */
export function cachedPrefixUsage(usage: Usage, prefixTokens: number): Usage {
  if (usage.media !== undefined || usage.promptTokens === 0) return usage;
  const cached = Math.min(usage.promptTokens, Math.max(usage.cachedPromptTokens, prefixTokens));
  return { ...usage, cachedPromptTokens: cached };
}

/** Passes parts on; a turn that finished (not aborted, not failed) is handed to onAnswer first. */
export async function* withAnswer(
  parts: AsyncIterable<StreamPart>,
  onAnswer: NonNullable<ContextPrefix['onAnswer']>,
): AsyncGenerator<StreamPart> {
  let text = '';
  const calls: ToolCall[] = [];
  for await (const part of parts) {
    if (!(part instanceof QueueNotice)) collect(part);
    if (!(part instanceof QueueNotice) && part.type === 'finish' && part.finishReason !== 'abort') {
      await onAnswer({ text, toolCalls: calls.filter((call) => call !== undefined), usage: part.usage });
    }
    yield part;
  }

  function collect(part: GenerationPart): void {
    if (part.type === 'text-delta') text += part.text;
    else if (part.type === 'tool-call-delta') {
      const call = (calls[part.index] ??= { id: part.id ?? '', name: part.name ?? '', arguments: '' });
      if (part.id !== undefined) call.id = part.id;
      if (part.name !== undefined) call.name = part.name;
      call.arguments += part.argumentsDelta;
    }
  }
}
