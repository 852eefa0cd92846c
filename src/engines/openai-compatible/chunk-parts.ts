/**
 * Upstream chunks (streaming) and responses (JSON) → GenerationParts. One `StreamState`
 * lives per generation; it remembers the finish reason, the upstream's usage, and how much
 * text has been generated, so any ending (normal, abort, disconnect) can report usage.
 */
import { SkylarkError } from '../../core/errors.js';
import { estimateTokens } from '../../core/tokens.js';
import type { Usage } from '../../core/usage.js';
import type { FinishReason, GenerationPart } from '../engine.js';
import { badResponse, errorInfo } from './upstream-errors.js';

export type GenerationKind = 'chat' | 'completion';

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}

export function mapFinishReason(value: unknown): FinishReason | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  switch (value) {
    case 'length':
      return 'length';
    case 'tool_calls':
    case 'function_call':
      return 'tool_calls';
    case 'content_filter':
      return 'content_filter';
    default:
      // 'stop', 'eos', and upstream-specific reasons all mean the model ended its turn.
      return 'stop';
  }
}

/** `usage` as the upstream reports it; undefined when it carries no token counts. */
export function mapUsage(value: unknown): Usage | undefined {
  if (!isObject(value)) return undefined;
  const prompt = count(value.prompt_tokens);
  const completion = count(value.completion_tokens);
  if (prompt === undefined && completion === undefined) return undefined;
  const details = isObject(value.prompt_tokens_details) ? value.prompt_tokens_details : {};
  // DeepSeek reports its prefix-cache hits as prompt_cache_hit_tokens.
  const cached = count(details.cached_tokens) ?? count(value.prompt_cache_hit_tokens) ?? 0;
  const promptTokens = prompt ?? 0;
  return { promptTokens, completionTokens: completion ?? 0, cachedPromptTokens: Math.min(cached, promptTokens) };
}

function upstreamErrorFrom(value: unknown): SkylarkError {
  const info = errorInfo(value);
  const message = info.message === undefined ? 'The upstream reported an error.' : `The upstream reported an error: ${info.message}`;
  return new SkylarkError('upstream_error', message.length > 1000 ? `${message.slice(0, 1000)}…` : message);
}

export class StreamState {
  finishReason: FinishReason | undefined;
  usage: Usage | undefined;
  done = false;
  /** Characters of generated text, kept only as a count to estimate completion tokens. */
  private generated = '';

  constructor(
    private readonly kind: GenerationKind,
    private readonly promptText: string,
  ) {}

  /** One SSE `data:` payload → the parts it carries. Throws SkylarkError on bad input. */
  event(data: string): GenerationPart[] {
    if (data === '[DONE]') {
      this.done = true;
      return [];
    }
    let chunk: unknown;
    try {
      chunk = JSON.parse(data);
    } catch (error) {
      throw badResponse('The upstream sent an event that is not valid JSON.', error);
    }
    if (!isObject(chunk)) throw badResponse('The upstream sent an event that is not a JSON object.');
    if (chunk.error !== undefined && chunk.error !== null) throw upstreamErrorFrom(chunk);
    const usage = mapUsage(chunk.usage);
    // vLLM's continuous usage stats repeat usage on every chunk; the last one wins.
    if (usage !== undefined) this.usage = usage;
    const choices = chunk.choices;
    if (!Array.isArray(choices)) {
      if (usage !== undefined) return [];
      throw badResponse('The upstream sent a chunk without choices.');
    }
    // An empty choices array is tolerated: Azure sends one first to carry prompt filter results.
    const parts: GenerationPart[] = [];
    for (const choice of choices) {
      if (!isObject(choice) || (choice.index !== undefined && choice.index !== 0)) continue;
      if (this.kind === 'chat') this.delta(choice.delta, parts);
      else this.text(choice.text, parts);
      const reason = mapFinishReason(choice.finish_reason);
      if (reason !== undefined) this.finishReason = reason;
    }
    return parts;
  }

  /** A whole non-streaming response → its parts, finish included. */
  response(body: unknown): GenerationPart[] {
    if (!isObject(body)) throw badResponse('The upstream response is not a JSON object.');
    if (body.error !== undefined && body.error !== null) throw upstreamErrorFrom(body);
    const choices = body.choices;
    if (!Array.isArray(choices) || choices.length === 0) throw badResponse('The upstream response has no choices.');
    const choice = choices.find((c) => isObject(c) && (c.index === undefined || c.index === 0)) as Json | undefined;
    if (choice === undefined) throw badResponse('The upstream response has no first choice.');
    const parts: GenerationPart[] = [];
    if (this.kind === 'chat') {
      if (!isObject(choice.message)) throw badResponse('The upstream response choice has no message.');
      this.delta(choice.message, parts);
    } else {
      this.text(choice.text, parts);
    }
    this.usage = mapUsage(body.usage);
    this.finishReason = mapFinishReason(choice.finish_reason) ?? 'stop';
    parts.push(this.finish(this.finishReason));
    return parts;
  }

  /** Did the upstream end its answer, as opposed to the connection just closing? */
  get complete(): boolean {
    return this.done || this.finishReason !== undefined;
  }

  /**
   * The upstream's usage when it gave one; otherwise a local estimate (estimateTokens over
   * the prompt text and the text seen so far), which errs high.
   */
  currentUsage(sent = true): Usage {
    if (this.usage !== undefined) return this.usage;
    return {
      promptTokens: sent ? estimateTokens(this.promptText) : 0,
      completionTokens: estimateTokens(this.generated),
      cachedPromptTokens: 0,
    };
  }

  finish(reason: FinishReason, sent = true): GenerationPart {
    return { type: 'finish', finishReason: reason, usage: this.currentUsage(sent) };
  }

  error(error: SkylarkError, sent = true): GenerationPart {
    return { type: 'error', error, usage: this.currentUsage(sent) };
  }

  private text(text: unknown, parts: GenerationPart[]): void {
    if (typeof text === 'string' && text !== '') {
      this.generated += text;
      parts.push({ type: 'text-delta', text });
    }
  }

  private delta(delta: unknown, parts: GenerationPart[]): void {
    if (!isObject(delta)) return;
    const reasoning = delta.reasoning_content ?? delta.reasoning;
    if (typeof reasoning === 'string' && reasoning !== '') {
      this.generated += reasoning;
      parts.push({ type: 'reasoning-delta', text: reasoning });
    }
    this.text(delta.content, parts);
    const calls = delta.tool_calls;
    if (!Array.isArray(calls)) return;
    for (let i = 0; i < calls.length; i++) {
      const call: unknown = calls[i];
      if (!isObject(call)) continue;
      const fn = isObject(call.function) ? call.function : {};
      const args = typeof fn.arguments === 'string' ? fn.arguments : '';
      const part: GenerationPart & { type: 'tool-call-delta' } = {
        type: 'tool-call-delta',
        // Non-streaming messages carry no index; their position is the index.
        index: typeof call.index === 'number' ? call.index : i,
        argumentsDelta: args,
      };
      if (typeof call.id === 'string' && call.id !== '') part.id = call.id;
      if (typeof fn.name === 'string' && fn.name !== '') part.name = fn.name;
      this.generated += (part.name ?? '') + args;
      parts.push(part);
    }
  }
}
