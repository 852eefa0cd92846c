/**
 * Engine parts → Anthropic's stream events, in the order Anthropic sends them:
 * message_start, then for each content block content_block_start, its deltas and
 * content_block_stop (a thinking block only ever carries thinking_delta, a text block
 * only text_delta, a tool_use block only input_json_delta), then message_delta with the
 * stop reason and the whole message's usage, then message_stop. The JSON answer is the
 * same events folded into one message, so both forms always agree.
 */
import type { Usage } from '../core/usage.js';
import type {
  AnthropicContentBlock,
  AnthropicMessage,
  AnthropicStopReason,
  AnthropicStreamEvent,
  AnthropicUsage,
} from '../contracts/anthropic-messages.js';
import type { FinishReason } from '../engines/engine.js';
import { stoppedEarly } from './generation.js';
import { QueueNotice, type StreamPart } from './queue-notice.js';

export interface MessageIdentity {
  id: string;
  /** Read when the message starts: a request that waited learns its model (maybe a fallback) when granted. */
  model: string;
  /** An estimate of the prompt's tokens for message_start; message_delta carries the exact count. */
  inputTokensEstimate: number;
}

export function toAnthropicUsage(usage: Usage): AnthropicUsage {
  return {
    input_tokens: usage.promptTokens - usage.cachedPromptTokens,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: usage.cachedPromptTokens,
    output_tokens: usage.completionTokens,
    service_tier: 'standard',
  };
}

export function toStopReason(reason: Exclude<FinishReason, 'abort'>, stopSequence: string | undefined): AnthropicStopReason {
  switch (reason) {
    case 'length':
      return 'max_tokens';
    case 'tool_calls':
      return 'tool_use';
    case 'content_filter':
      return 'refusal';
    case 'stop':
      return stopSequence === undefined ? 'end_turn' : 'stop_sequence';
  }
}

type Open = { kind: 'text' } | { kind: 'thinking' } | { kind: 'tool'; call: number } | undefined;

/**
 * Places in line pass through (the HTTP layer writes them as pings); everything else
 * becomes Anthropic events. An engine error or a stopped generation is thrown, and the HTTP
 * layer ends the stream with an `error` event.
 */
export async function* anthropicEvents(
  parts: AsyncIterable<StreamPart>,
  identity: MessageIdentity,
): AsyncGenerator<AnthropicStreamEvent | QueueNotice> {
  let started = false;
  let index = -1;
  let open: Open;
  const close = function* (): Generator<AnthropicStreamEvent> {
    if (open !== undefined) yield { type: 'content_block_stop', index };
    open = undefined;
  };
  for await (const part of parts) {
    if (part instanceof QueueNotice) {
      yield part;
      continue;
    }
    if (!started) {
      started = true;
      yield {
        type: 'message_start',
        message: {
          id: identity.id,
          type: 'message',
          role: 'assistant',
          model: identity.model,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { input_tokens: identity.inputTokensEstimate, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 0, service_tier: 'standard' },
        },
      };
    }
    switch (part.type) {
      case 'text-delta':
        if (part.text === '') break;
        if (open?.kind !== 'text') {
          yield* close();
          open = { kind: 'text' };
          yield { type: 'content_block_start', index: ++index, content_block: { type: 'text', text: '' } };
        }
        yield { type: 'content_block_delta', index, delta: { type: 'text_delta', text: part.text } };
        break;
      case 'reasoning-delta':
        if (part.text === '') break;
        if (open?.kind !== 'thinking') {
          yield* close();
          open = { kind: 'thinking' };
          yield { type: 'content_block_start', index: ++index, content_block: { type: 'thinking', thinking: '', signature: '' } };
        }
        yield { type: 'content_block_delta', index, delta: { type: 'thinking_delta', thinking: part.text } };
        break;
      case 'tool-call-delta':
        if (open?.kind !== 'tool' || open.call !== part.index) {
          yield* close();
          open = { kind: 'tool', call: part.index };
          yield {
            type: 'content_block_start',
            index: ++index,
            content_block: { type: 'tool_use', id: part.id ?? `toolu_${part.index}`, name: part.name ?? '', input: {} },
          };
        }
        if (part.argumentsDelta !== '') {
          yield { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: part.argumentsDelta } };
        }
        break;
      case 'finish': {
        if (part.finishReason === 'abort') throw stoppedEarly();
        yield* close();
        yield {
          type: 'message_delta',
          delta: { stop_reason: toStopReason(part.finishReason, part.stopSequence), stop_sequence: part.stopSequence ?? null },
          usage: toAnthropicUsage(part.usage),
        };
        yield { type: 'message_stop' };
        return;
      }
      case 'error':
        throw part.error;
    }
  }
}

/** The events of one message folded into the message, as Anthropic's JSON answer gives it. */
export async function collectMessage(events: AsyncIterable<AnthropicStreamEvent | QueueNotice>): Promise<AnthropicMessage> {
  let message: AnthropicMessage | undefined;
  const json = new Map<number, string>();
  for await (const event of events) {
    if (event instanceof QueueNotice) continue;
    switch (event.type) {
      case 'message_start':
        message = { ...event.message, content: [] };
        break;
      case 'content_block_start':
        message!.content[event.index] = { ...event.content_block } as AnthropicContentBlock;
        break;
      case 'content_block_delta': {
        const block = message!.content[event.index]!;
        const { delta } = event;
        if (delta.type === 'text_delta' && block.type === 'text') block.text += delta.text;
        else if (delta.type === 'thinking_delta' && block.type === 'thinking') block.thinking += delta.thinking;
        else if (delta.type === 'input_json_delta') json.set(event.index, (json.get(event.index) ?? '') + delta.partial_json);
        break;
      }
      case 'content_block_stop': {
        const block = message!.content[event.index]!;
        if (block.type === 'tool_use') block.input = parseToolInput(json.get(event.index) ?? '');
        break;
      }
      case 'message_delta':
        message!.stop_reason = event.delta.stop_reason;
        message!.stop_sequence = event.delta.stop_sequence;
        message!.usage = event.usage;
        break;
      case 'message_stop':
        return message!;
    }
  }
  throw new Error('The message ended without message_stop.');
}

/** A call's arguments as the model wrote them; text that is not a JSON object is kept, not lost. */
function parseToolInput(text: string): Record<string, unknown> {
  if (text.trim() === '') return {};
  try {
    const value = JSON.parse(text) as unknown;
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
    return { value };
  } catch {
    return { _raw: text };
  }
}
