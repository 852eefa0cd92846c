/**
 * The engine for upstreams that speak Anthropic's Messages API (Anthropic itself, Ark's
 * and other providers' Anthropic-compatible endpoints). One keep-alive undici Pool per
 * engine; each generation is one POST {baseUrl}/messages whose events become parts as
 * they arrive. The client's `anthropic-version` / `anthropic-beta` headers pass through.
 */
import { Pool } from 'undici';
import { SkylarkError } from '../../core/errors.js';
import { zeroUsage } from '../../core/usage.js';
import type {
  ChatGeneration,
  CompletionGeneration,
  EmbeddingRequest,
  EmbeddingResult,
  Engine,
  EngineCapacity,
  EngineHealth,
  GenerationPart,
} from '../engine.js';
import { ChunkReader } from '../openai-compatible/body-reader.js';
import { SseParser } from '../openai-compatible/sse-reader.js';
import { badResponse, errorFromTransport, type TransportTimeouts } from '../openai-compatible/upstream-errors.js';
import { AnthropicStreamState } from './event-parts.js';
import { messagesBody, promptText } from './request-body.js';
import { errorFromAnthropicStatus } from './upstream-errors.js';

export interface AnthropicEngineOptions {
  id: string;
  /** Including the version prefix, e.g. https://api.anthropic.com/v1 */
  baseUrl: string;
  apiKey?: string;
  /** Sent when the client sent none (default 2023-06-01). */
  anthropicVersion?: string;
  /** Sent on every upstream request (lower-cased; the key's x-api-key and the client's anthropic-* win). */
  headers?: Record<string, string>;
  maxConnections?: number;
  connectTimeoutMs?: number;
  firstByteTimeoutMs?: number;
  idleTimeoutMs?: number;
}

const errorBodyLimit = 64 * 1024;

export class AnthropicEngine implements Engine {
  readonly kind = 'anthropic';
  readonly id: string;
  private readonly origin: string;
  private readonly basePath: string;
  private readonly headers: Record<string, string>;
  private readonly maxConnections: number;
  private readonly connectTimeoutMs: number;
  private readonly timeouts: TransportTimeouts;
  private pool: Pool | undefined;
  private state: 'new' | 'ready' | 'closed' = 'new';
  private readonly inFlight = new Set<AbortController>();
  private busy = 0;

  constructor(options: AnthropicEngineOptions) {
    this.id = options.id;
    const url = new URL(options.baseUrl);
    this.origin = url.origin;
    this.basePath = url.pathname.replace(/\/+$/, '');
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(options.headers ?? {})) headers[name.toLowerCase()] = value;
    headers['anthropic-version'] ??= options.anthropicVersion ?? '2023-06-01';
    if (options.apiKey !== undefined && options.apiKey !== '') headers['x-api-key'] = options.apiKey;
    this.headers = headers;
    this.maxConnections = options.maxConnections ?? 64;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 5000;
    this.timeouts = { firstByteTimeoutMs: options.firstByteTimeoutMs ?? 60_000, idleTimeoutMs: options.idleTimeoutMs ?? 60_000 };
  }

  /** Opens no connection: an upstream that is down at boot may come up later. */
  async start(): Promise<void> {
    if (this.state === 'closed') throw new SkylarkError('engine_unavailable', 'The engine has been closed.');
    this.pool ??= new Pool(this.origin, {
      connections: this.maxConnections,
      pipelining: 1,
      connectTimeout: this.connectTimeoutMs,
      headersTimeout: this.timeouts.firstByteTimeoutMs,
      bodyTimeout: this.timeouts.idleTimeoutMs,
    });
    this.state = 'ready';
  }

  complete(_request: CompletionGeneration): AsyncIterable<GenerationPart> {
    return single({
      type: 'error',
      error: new SkylarkError('invalid_request', "Anthropic's API has no text completions; use chat.", { param: 'model' }),
      usage: { ...zeroUsage },
    });
  }

  async embed(_request: EmbeddingRequest): Promise<EmbeddingResult> {
    throw new SkylarkError('invalid_request', "Anthropic's API has no embeddings.", { param: 'model' });
  }

  /** The upstream's own count (POST /messages/count_tokens): its tokenizer, not an estimate. */
  async countChatTokens(request: ChatGeneration): Promise<number> {
    const pool = this.requirePool();
    const { controller, untrack } = this.track(request.signal);
    let gotHeaders = false;
    try {
      const response = await pool.request({
        path: `${this.basePath}/messages/count_tokens`,
        method: 'POST',
        headers: this.requestHeaders(request, false),
        body: JSON.stringify(messagesBody(request, { countOnly: true })),
        signal: controller.signal,
      });
      gotHeaders = true;
      const text = await new ChunkReader(response.body).text(errorBodyLimit);
      if (response.statusCode < 200 || response.statusCode >= 300) throw errorFromAnthropicStatus(response.statusCode, response.headers, text, request.model);
      const count = (JSON.parse(text) as { input_tokens?: unknown }).input_tokens;
      if (typeof count !== 'number') throw badResponse('The upstream count_tokens answer has no input_tokens.');
      return count;
    } catch (error) {
      if (error instanceof SyntaxError) throw badResponse('The upstream count_tokens answer is not JSON.', error);
      throw errorFromTransport(error, gotHeaders, this.timeouts);
    } finally {
      untrack();
    }
  }

  capacity(): EngineCapacity {
    return { slots: this.maxConnections, busy: this.busy };
  }

  health(): EngineHealth {
    if (this.state === 'new') return { state: 'loading' };
    if (this.state === 'closed') return { state: 'failed', reason: 'The engine has been closed.' };
    return { state: 'ready' };
  }

  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    for (const controller of this.inFlight) controller.abort();
    const pool = this.pool;
    this.pool = undefined;
    if (pool !== undefined) await pool.destroy();
  }

  /**
   * Never throws: every outcome ends in exactly one terminal part, and resources are
   * released before it is yielded.
   */
  async *chat(request: ChatGeneration): AsyncGenerator<GenerationPart> {
    const state = new AnthropicStreamState(promptText(request));
    let payload: string;
    let pool: Pool;
    try {
      payload = JSON.stringify(messagesBody(request));
      pool = this.requirePool();
    } catch (error) {
      yield state.error(error instanceof SkylarkError ? error : new SkylarkError('invalid_request', 'The request could not be encoded for the upstream.', { cause: error }));
      return;
    }
    if (request.signal.aborted) {
      yield state.finish('abort');
      return;
    }
    const { controller, untrack } = this.track(request.signal);
    this.busy++;
    let reader: ChunkReader | undefined;
    let released = false;
    const release = (completed: boolean): void => {
      if (released) return;
      released = true;
      if (completed) reader?.release();
      else reader?.destroy();
      untrack();
      this.busy--;
    };
    let terminal: GenerationPart;
    let gotHeaders = false;
    try {
      const response = await pool.request({
        path: `${this.basePath}/messages`,
        method: 'POST',
        headers: this.requestHeaders(request, request.stream),
        body: payload,
        signal: controller.signal,
      });
      gotHeaders = true;
      reader = new ChunkReader(response.body);
      if (response.statusCode < 200 || response.statusCode >= 300) {
        throw errorFromAnthropicStatus(response.statusCode, response.headers, await reader.text(errorBodyLimit), request.model);
      }
      if (!request.stream || String(response.headers['content-type'] ?? '').includes('json')) {
        let json: unknown;
        try {
          json = JSON.parse(await reader.text(Number.MAX_SAFE_INTEGER));
        } catch (error) {
          throw badResponse('The upstream response is not valid JSON.', error);
        }
        const parts = state.response(json);
        const last = parts.pop()!;
        for (const part of parts) yield part;
        release(true);
        yield last;
        return;
      }
      const parser = new SseParser();
      for (let chunk = await reader.read(); ; chunk = await reader.read()) {
        const events = chunk === null ? parser.end() : parser.push(chunk);
        for (const data of events) {
          if (controller.signal.aborted) throw new Error('aborted');
          for (const part of state.event(data)) yield part;
          if (state.done) break;
        }
        if (chunk === null || state.done) break;
      }
      if (controller.signal.aborted) throw new Error('aborted');
      terminal = state.complete
        ? state.finish(state.finishReason ?? 'stop')
        : state.error(new SkylarkError('upstream_error', 'The upstream closed the stream before it finished.'));
      release(true);
    } catch (error) {
      terminal = this.failure(state, error, gotHeaders, request.signal);
      release(false);
    } finally {
      release(false);
    }
    yield terminal;
  }

  private failure(state: AnthropicStreamState, error: unknown, gotHeaders: boolean, signal: AbortSignal): GenerationPart {
    if (signal.aborted) return state.finish('abort');
    if (this.state === 'closed') return state.error(new SkylarkError('engine_unavailable', 'The engine was closed.', { cause: error }));
    if (state.complete && !(error instanceof SkylarkError)) return state.finish(state.finishReason ?? 'stop');
    return state.error(errorFromTransport(error, gotHeaders, this.timeouts));
  }

  private requirePool(): Pool {
    if (this.pool === undefined || this.state !== 'ready') {
      throw new SkylarkError('engine_unavailable', this.state === 'closed' ? 'The engine has been closed.' : 'The engine has not been started.');
    }
    return this.pool;
  }

  private requestHeaders(request: ChatGeneration, stream: boolean): Record<string, string> {
    return {
      'content-type': 'application/json',
      accept: stream ? 'text/event-stream' : 'application/json',
      'x-request-id': request.requestId,
      ...this.headers,
      // The client's protocol version and betas are what its request was written for.
      ...pick(request.clientHeaders, ['anthropic-version', 'anthropic-beta']),
    };
  }

  private track(signal: AbortSignal): { controller: AbortController; untrack: () => void } {
    const controller = new AbortController();
    const onAbort = (): void => controller.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    this.inFlight.add(controller);
    return {
      controller,
      untrack: () => {
        signal.removeEventListener('abort', onAbort);
        this.inFlight.delete(controller);
      },
    };
  }
}

function pick(headers: Record<string, string> | undefined, names: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) {
    const value = headers?.[name];
    if (value !== undefined) out[name] = value;
  }
  return out;
}

async function* single(part: GenerationPart): AsyncGenerator<GenerationPart> {
  yield part;
}
