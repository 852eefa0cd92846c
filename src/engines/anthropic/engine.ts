/**
 * The engine for upstreams that speak Anthropic's Messages API (Anthropic itself, Ark's
 * and other providers' Anthropic-compatible endpoints). One keep-alive undici Pool per
 * engine (UpstreamConnection, shared with the openai-compatible engine); each generation
 * is one POST {baseUrl}/messages whose events become parts as
 * they arrive. The client's `anthropic-version` / `anthropic-beta` headers pass through.
 */
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
import { UpstreamConnection, errorBodyLimit } from '../openai-compatible/upstream-connection.js';
import { badResponse } from '../openai-compatible/upstream-errors.js';
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

export class AnthropicEngine implements Engine {
  readonly kind = 'anthropic';
  readonly id: string;
  private readonly basePath: string;
  private readonly headers: Record<string, string>;
  private readonly maxConnections: number;
  private readonly connection: UpstreamConnection;

  constructor(options: AnthropicEngineOptions) {
    this.id = options.id;
    const url = new URL(options.baseUrl);
    this.basePath = url.pathname.replace(/\/+$/, '');
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(options.headers ?? {})) headers[name.toLowerCase()] = value;
    headers['anthropic-version'] ??= options.anthropicVersion ?? '2023-06-01';
    if (options.apiKey !== undefined && options.apiKey !== '') headers['x-api-key'] = options.apiKey;
    this.headers = headers;
    this.maxConnections = options.maxConnections ?? 64;
    this.connection = new UpstreamConnection({
      origin: url.origin,
      maxConnections: this.maxConnections,
      connectTimeoutMs: options.connectTimeoutMs ?? 5000,
      timeouts: { firstByteTimeoutMs: options.firstByteTimeoutMs ?? 60_000, idleTimeoutMs: options.idleTimeoutMs ?? 60_000 },
    });
  }

  /** Opens no connection: an upstream that is down at boot may come up later. */
  async start(): Promise<void> {
    this.connection.start();
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
    const pool = this.connection.requirePool();
    const { controller, untrack } = this.connection.track(request.signal);
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
      throw this.connection.failure(error, gotHeaders);
    } finally {
      untrack();
    }
  }

  capacity(): EngineCapacity {
    return { slots: this.maxConnections, busy: this.connection.busy };
  }

  health(): EngineHealth {
    return this.connection.health();
  }

  async close(): Promise<void> {
    await this.connection.close();
  }

  /**
   * Never throws: every outcome ends in exactly one terminal part, and resources are
   * released before it is yielded.
   */
  async *chat(request: ChatGeneration): AsyncGenerator<GenerationPart> {
    const state = new AnthropicStreamState(promptText(request));
    let payload: string;
    try {
      payload = JSON.stringify(messagesBody(request));
    } catch (error) {
      yield state.error(
        error instanceof SkylarkError ? error : new SkylarkError('invalid_request', 'The request could not be encoded for the upstream.', { cause: error }),
        false,
      );
      return;
    }
    yield* this.connection.generate(
      {
        path: `${this.basePath}/messages`,
        headers: this.requestHeaders(request, request.stream),
        body: payload,
        signal: request.signal,
        stream: request.stream,
        model: request.model,
      },
      state,
      errorFromAnthropicStatus,
    );
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
