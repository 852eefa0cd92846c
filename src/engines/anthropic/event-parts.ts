/**
 * An Anthropic upstream's stream events (and JSON answers) → GenerationParts. One state
 * per generation remembers the usage reported so far, the stop reason, and which content
 * block is which tool call, so every ending (normal, abort, disconnect) can report usage.
 */
import { SkylarkError } from '../../core/errors.js';
import { estimateTokens } from '../../core/tokens.js';
import { zeroUsage, type Usage } from '../../core/usage.js';
import type { FinishReason, GenerationPart } from '../engine.js';
import { badResponse } from '../openai-compatible/upstream-errors.js';
import { errorFromEvent } from './upstream-errors.js';

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}

export function mapStopReason(value: unknown): FinishReason | undefined {
  switch (value) {
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'refusal':
      return 'content_filter';
    case 'end_turn':
    case 'stop_sequence':
    case 'pause_turn':
      return 'stop';
    default:
      return undefined;
  }
}

export class AnthropicStreamState {
  finishReason: FinishReason | undefined;
  stopSequence: string | undefined;
  done = false;
  private input: { input: number; cacheRead: number; cacheCreation: number } | undefined;
  private outputTokens: number | undefined;
  /** Characters generated, to estimate completion tokens when the upstream never said. */
  private generated = 0;
  /** Content block index → tool call index, for the blocks that are tool_use. */
  private readonly toolCalls = new Map<number, number>();

  constructor(private readonly promptText: string) {}

  get complete(): boolean {
    return this.finishReason !== undefined;
  }

  /** One SSE `data:` payload → the parts it carries. Throws SkylarkError on bad input. */
  event(data: string): GenerationPart[] {
    let event: unknown;
    try {
      event = JSON.parse(data);
    } catch (error) {
      throw badResponse('The upstream sent an event that is not valid JSON.', error);
    }
    if (!isObject(event) || typeof event.type !== 'string') throw badResponse('The upstream sent an event without a type.');
    switch (event.type) {
      case 'message_start':
        if (isObject(event.message)) this.usage(event.message.usage);
        return [];
      case 'content_block_start':
        return this.blockStart(Number(event.index), event.content_block);
      case 'content_block_delta':
        return this.blockDelta(Number(event.index), event.delta);
      case 'message_delta':
        this.usage(event.usage);
        if (isObject(event.delta)) this.stop(event.delta);
        return [];
      case 'message_stop':
        this.done = true;
        return [];
      case 'error':
        throw errorFromEvent(event, this.generated > 0);
      default:
        // ping, content_block_stop, and event types newer than this code.
        return [];
    }
  }

  /** A whole JSON answer → its parts, the terminal one included. */
  response(body: unknown): GenerationPart[] {
    if (!isObject(body)) throw badResponse('The upstream response is not a JSON object.');
    if (body.type === 'error') throw errorFromEvent(body, false);
    if (!Array.isArray(body.content)) throw badResponse('The upstream response has no content.');
    this.usage(body.usage);
    const parts: GenerationPart[] = [];
    body.content.forEach((block, index) => {
      if (!isObject(block)) throw badResponse('The upstream sent a content block that is not an object.');
      if (block.type === 'text' && typeof block.text === 'string') parts.push(...this.text(block.text));
      else if (block.type === 'thinking' && typeof block.thinking === 'string') parts.push(...this.reasoning(block.thinking));
      else if (block.type === 'tool_use') parts.push(...this.blockStart(index, block), ...this.json(index, JSON.stringify(block.input ?? {})));
    });
    this.stop(body);
    parts.push(this.finish(this.finishReason ?? 'stop'));
    return parts;
  }

  /** `sent`: whether the request reached the upstream (nothing is billed when it did not). */
  finish(reason: FinishReason, sent = true): GenerationPart {
    return {
      type: 'finish',
      finishReason: reason,
      usage: sent ? this.currentUsage() : { ...zeroUsage },
      ...(reason === 'stop' && this.stopSequence !== undefined ? { stopSequence: this.stopSequence } : {}),
    };
  }

  error(error: SkylarkError, sent = true): GenerationPart {
    return { type: 'error', error, usage: sent ? this.currentUsage() : { ...zeroUsage } };
  }

  private blockStart(index: number, block: unknown): GenerationPart[] {
    if (!isObject(block)) throw badResponse('The upstream sent a content block that is not an object.');
    // Text and thinking arrive in the deltas; a start block's text is empty when streaming.
    if (block.type === 'text' && typeof block.text === 'string' && block.text !== '') return this.text(block.text);
    if (block.type !== 'tool_use') return [];
    const call = this.toolCalls.size;
    this.toolCalls.set(index, call);
    return [{ type: 'tool-call-delta', index: call, id: String(block.id ?? `toolu_${call}`), name: String(block.name ?? ''), argumentsDelta: '' }];
  }

  private blockDelta(index: number, delta: unknown): GenerationPart[] {
    if (!isObject(delta)) throw badResponse('The upstream sent a delta that is not an object.');
    switch (delta.type) {
      case 'text_delta':
        return this.text(String(delta.text ?? ''));
      case 'thinking_delta':
        return this.reasoning(String(delta.thinking ?? ''));
      case 'input_json_delta':
        return this.json(index, String(delta.partial_json ?? ''));
      default:
        // signature_delta and citations_delta carry nothing Skylark's parts can hold.
        return [];
    }
  }

  private text(text: string): GenerationPart[] {
    this.generated += text.length;
    return text === '' ? [] : [{ type: 'text-delta', text }];
  }

  private reasoning(text: string): GenerationPart[] {
    this.generated += text.length;
    return text === '' ? [] : [{ type: 'reasoning-delta', text }];
  }

  private json(index: number, partial: string): GenerationPart[] {
    const call = this.toolCalls.get(index);
    if (call === undefined) throw badResponse('The upstream sent tool input for a block that is not a tool call.');
    this.generated += partial.length;
    return partial === '' ? [] : [{ type: 'tool-call-delta', index: call, argumentsDelta: partial }];
  }

  private stop(source: Json): void {
    const reason = mapStopReason(source.stop_reason);
    if (reason !== undefined) this.finishReason = reason;
    if (typeof source.stop_sequence === 'string') this.stopSequence = source.stop_sequence;
  }

  /** Anthropic's usage counts are cumulative: the latest report of each wins. */
  private usage(value: unknown): void {
    if (!isObject(value)) return;
    const input = count(value.input_tokens);
    if (input !== undefined) {
      this.input = {
        input,
        cacheRead: count(value.cache_read_input_tokens) ?? this.input?.cacheRead ?? 0,
        cacheCreation: count(value.cache_creation_input_tokens) ?? this.input?.cacheCreation ?? 0,
      };
    }
    const output = count(value.output_tokens);
    if (output !== undefined) this.outputTokens = output;
  }

  private currentUsage(): Usage {
    // Anthropic's input_tokens leave out the tokens read from and written to the cache.
    const input = this.input;
    const promptTokens = input ? input.input + input.cacheRead + input.cacheCreation : estimateTokens(this.promptText);
    // Until message_delta, the count is message_start's (1, say): estimate what was streamed instead.
    const estimate = Math.ceil(this.generated / 3);
    const completionTokens = this.complete && this.outputTokens !== undefined ? this.outputTokens : Math.max(this.outputTokens ?? 0, estimate);
    return { promptTokens, completionTokens, cachedPromptTokens: input?.cacheRead ?? 0 };
  }
}
