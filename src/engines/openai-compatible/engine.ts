/**
 * The engine for remote OpenAI-compatible upstreams (vLLM, SGLang, Ollama, llama.cpp
 * server, Volcano Ark, DeepSeek, OpenAI). One keep-alive undici Pool per engine; each
 * generation is one upstream request whose SSE events become parts as they arrive.
 */
import type { FormData } from 'undici';
import { SkylarkError } from '../../core/errors.js';
import { estimateTokens } from '../../core/tokens.js';
import type {
  ChatGeneration,
  CompletionGeneration,
  EmbeddingRequest,
  EmbeddingResult,
  Engine,
  EngineCapacity,
  EngineHealth,
  GenerationPart,
  ImageRequest,
  ImageResult,
  SpeechRequest,
  SpeechResult,
  TranscriptionRequest,
  TranscriptionResult,
} from '../engine.js';
import { imagesBody, parseImages, parseTranscription, speechBody, speechContentTypes, transcriptionForm } from './media.js';
import { ChunkReader } from './body-reader.js';
import { StreamState, type GenerationKind } from './chunk-parts.js';
import { parseEmbeddings } from './embeddings.js';
import { chatBody, chatPromptText, completionBody, completionPromptText, embeddingBody, type BodyOptions } from './request-body.js';
import { LoadScraper } from './load-scraper.js';
import { errorFromStatus } from './upstream-errors.js';
import { UpstreamConnection, errorBodyLimit } from './upstream-connection.js';

export interface OpenAICompatibleEngineOptions {
  id: string;
  /** Including the version prefix, e.g. http://127.0.0.1:8000/v1 */
  baseUrl: string;
  apiKey?: string;
  /** Sent on every upstream request (lower-cased; the API key's Authorization wins). */
  headers?: Record<string, string>;
  maxConnections?: number;
  connectTimeoutMs?: number;
  /** Time from sending the request to the response headers. */
  firstByteTimeoutMs?: number;
  /** Longest allowed gap between body bytes. */
  idleTimeoutMs?: number;
  /** Requests the server runs at once (vLLM's max_num_seqs); default maxConnections. */
  slots?: number;
  /**
   * Scrape the server's Prometheus metrics (vLLM, SGLang) for its own load: true for
   * `{origin}/metrics`, or a URL; every `intervalMs` (default 1000).
   */
  loadMetrics?: boolean | string | { url?: string; intervalMs?: number };
  /**
   * Send each request's `priority` (vLLM's field, lower served first). Only for a vLLM run
   * with `--scheduling-policy priority`: under its default FCFS policy vLLM rejects a
   * request with a non-zero priority, and other servers may reject the unknown field.
   */
  sendPriority?: boolean;
}

/** A server reporting this share of its KV cache in use starts nothing new without preempting. */
const kvFullAt = 0.98;

function loadScraperFor(option: OpenAICompatibleEngineOptions['loadMetrics'], origin: string, ownBusy: () => number): LoadScraper | undefined {
  if (option === undefined || option === false) return undefined;
  const settings = typeof option === 'object' ? option : {};
  const url = typeof option === 'string' ? option : (settings.url ?? `${origin}/metrics`);
  return new LoadScraper({ url, intervalMs: settings.intervalMs ?? 1000, ownBusy });
}

type Request = ChatGeneration | CompletionGeneration;
type MediaRequest = ImageRequest | SpeechRequest | TranscriptionRequest;

interface MediaResponse {
  contentType: string;
  text(): Promise<string>;
  chunks(): AsyncGenerator<Uint8Array>;
}

export class OpenAICompatibleEngine implements Engine {
  readonly kind = 'openai-compatible';
  readonly id: string;
  private readonly origin: string;
  private readonly basePath: string;
  private readonly headers: Record<string, string>;
  private readonly slots: number;
  private readonly scraper: LoadScraper | undefined;
  private readonly connection: UpstreamConnection;
  private readonly bodyOptions: BodyOptions;

  constructor(options: OpenAICompatibleEngineOptions) {
    this.id = options.id;
    this.bodyOptions = { sendPriority: options.sendPriority === true };
    const url = new URL(options.baseUrl);
    this.origin = url.origin;
    this.basePath = url.pathname.replace(/\/+$/, '');
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(options.headers ?? {})) headers[name.toLowerCase()] = value;
    if (options.apiKey !== undefined && options.apiKey !== '') headers.authorization = `Bearer ${options.apiKey}`;
    this.headers = headers;
    const maxConnections = options.maxConnections ?? 64;
    this.slots = options.slots ?? maxConnections;
    this.connection = new UpstreamConnection({
      origin: this.origin,
      maxConnections,
      connectTimeoutMs: options.connectTimeoutMs ?? 5000,
      timeouts: { firstByteTimeoutMs: options.firstByteTimeoutMs ?? 60_000, idleTimeoutMs: options.idleTimeoutMs ?? 60_000 },
    });
    this.scraper = loadScraperFor(options.loadMetrics, this.origin, () => this.connection.busy);
  }

  /** Opens no connection: an upstream that is down at boot may come up later. */
  async start(): Promise<void> {
    this.connection.start();
    this.scraper?.start();
  }

  chat(request: ChatGeneration): AsyncIterable<GenerationPart> {
    return this.generate('chat', request);
  }

  complete(request: CompletionGeneration): AsyncIterable<GenerationPart> {
    return this.generate('completion', request);
  }

  async embed(request: EmbeddingRequest): Promise<EmbeddingResult> {
    const pool = this.connection.requirePool();
    if (request.signal.aborted) throw request.signal.reason;
    const { controller, untrack } = this.connection.track(request.signal);
    let gotHeaders = false;
    try {
      const response = await pool.request({
        path: `${this.basePath}/embeddings`,
        method: 'POST',
        headers: this.requestHeaders(request.requestId, false),
        body: JSON.stringify(embeddingBody(request)),
        signal: controller.signal,
      });
      gotHeaders = true;
      const reader = new ChunkReader(response.body);
      if (response.statusCode < 200 || response.statusCode >= 300) {
        const text = await reader.text(errorBodyLimit);
        throw errorFromStatus(response.statusCode, response.headers, text, request.model);
      }
      const text = await reader.text(Number.MAX_SAFE_INTEGER);
      const result = parseEmbeddings(text, request.input.length);
      return {
        embeddings: result.embeddings,
        promptTokens: result.promptTokens ?? request.input.reduce((sum, s) => sum + estimateTokens(s), 0),
      };
    } catch (error) {
      if (request.signal.aborted) throw request.signal.reason;
      throw this.connection.failure(error, gotHeaders);
    } finally {
      untrack();
    }
  }

  async images(request: ImageRequest): Promise<ImageResult> {
    const upstream = await this.postMedia('images/generations', JSON.stringify(imagesBody(request)), request);
    return parseImages(await upstream.text());
  }

  /** The upstream's audio is passed on chunk by chunk as it arrives. */
  async speech(request: SpeechRequest): Promise<SpeechResult> {
    const upstream = await this.postMedia('audio/speech', JSON.stringify(speechBody(request)), request);
    return { contentType: upstream.contentType || speechContentTypes[request.format], audio: upstream.chunks() };
  }

  async transcribe(request: TranscriptionRequest): Promise<TranscriptionResult> {
    const upstream = await this.postMedia('audio/transcriptions', transcriptionForm(request), request);
    return parseTranscription(await upstream.text(), request.format);
  }

  /**
   * One media request to the upstream, resolved at its response headers (a non-2xx status
   * throws the mapped error). The body is read once, whole (`text`) or as it comes
   * (`chunks`); either frees the connection when it ends, fails or is abandoned.
   */
  private async postMedia(path: string, body: string | FormData, request: MediaRequest): Promise<MediaResponse> {
    const connection = this.connection;
    const pool = connection.requirePool();
    if (request.signal.aborted) throw request.signal.reason;
    const occupied = connection.occupy(request.signal);
    const { release } = occupied;
    let gotHeaders = false;
    const mapped = (error: unknown): unknown => {
      release(false);
      if (request.signal.aborted) return request.signal.reason;
      return connection.failure(error, gotHeaders);
    };
    try {
      const headers = this.requestHeaders(request.requestId, false);
      // undici sets a multipart body's own content type (with its boundary).
      if (typeof body !== 'string') delete headers['content-type'];
      const response = await pool.request({ path: `${this.basePath}/${path}`, method: 'POST', headers, body, signal: occupied.signal });
      gotHeaders = true;
      const open = (occupied.reader = new ChunkReader(response.body));
      if (response.statusCode < 200 || response.statusCode >= 300) {
        const text = await open.text(errorBodyLimit);
        throw errorFromStatus(response.statusCode, response.headers, text, request.model);
      }
      const contentType = String(response.headers['content-type'] ?? '');
      return {
        contentType,
        text: async () => {
          try {
            const text = await open.text(Number.MAX_SAFE_INTEGER);
            release(true);
            return text;
          } catch (error) {
            throw mapped(error);
          }
        },
        chunks: async function* () {
          try {
            for (let chunk = await open.read(); chunk !== null; chunk = await open.read()) yield chunk;
            release(true);
          } catch (error) {
            throw mapped(error);
          } finally {
            release(false); // the consumer stopped early: tear the upstream request down
          }
        },
      };
    } catch (error) {
      throw mapped(error);
    }
  }

  /**
   * Skylark's own in-flight count, plus — when the server's metrics are fresh — what it runs
   * or queues that Skylark did not send (another gateway, a batch job, a direct client).
   */
  capacity(): EngineCapacity {
    const capacity: EngineCapacity = { slots: this.slots, busy: this.connection.busy };
    if (this.scraper === undefined) return capacity;
    const status = this.scraper.status();
    const reading = status.reading;
    capacity.reported = {
      source: status.url,
      ageMs: status.ageMs,
      stale: status.stale,
      running: reading?.running ?? null,
      waiting: reading?.waiting ?? null,
      kvUsage: reading?.kvUsage ?? null,
      prefixCacheHitRate: reading?.prefixCacheHitRate ?? null,
      lastError: status.lastError,
    };
    const fresh = this.scraper.fresh();
    if (fresh === undefined) return capacity;
    const others = Math.max(0, fresh.load.running + fresh.load.waiting - fresh.ownBusyAtScrape);
    capacity.busy = this.connection.busy + others;
    if (fresh.load.kvTokens !== undefined && fresh.load.kvUsage !== undefined) {
      capacity.kvTokens = fresh.load.kvTokens;
      capacity.kvUsed = Math.round(fresh.load.kvUsage * fresh.load.kvTokens);
    } else if (fresh.load.kvUsage !== undefined && fresh.load.kvUsage >= kvFullAt) {
      // No budget in tokens to plan with, but a full cache means a new request would wait.
      capacity.busy = Math.max(capacity.busy, this.slots);
    }
    return capacity;
  }

  health(): EngineHealth {
    return this.connection.health();
  }

  async close(): Promise<void> {
    this.scraper?.stop();
    await this.connection.close();
  }


  private requestHeaders(requestId: string, stream: boolean): Record<string, string> {
    return {
      'content-type': 'application/json',
      accept: stream ? 'text/event-stream' : 'application/json',
      'x-request-id': requestId,
      ...this.headers,
    };
  }


  /**
   * Never throws: encoding failures too end in one terminal part (see UpstreamConnection.generate).
   * Returns the connection's own generator rather than delegating from one of its own: one
   * async-generator layer fewer per part on every request.
   */
  private generate(kind: GenerationKind, request: Request): AsyncIterable<GenerationPart> {
    let state: StreamState;
    let payload: string;
    try {
      state =
        kind === 'chat'
          ? new StreamState(kind, chatPromptText(request as ChatGeneration))
          : new StreamState(kind, completionPromptText(request as CompletionGeneration));
      payload = JSON.stringify(
        kind === 'chat' ? chatBody(request as ChatGeneration, this.bodyOptions) : completionBody(request as CompletionGeneration, this.bodyOptions),
      );
    } catch (error) {
      const err = new SkylarkError('invalid_request', 'The request could not be encoded for the upstream.', { cause: error });
      return encodingFailure(err);
    }
    return this.connection.generate(
      {
        path: `${this.basePath}/${kind === 'chat' ? 'chat/completions' : 'completions'}`,
        headers: this.requestHeaders(request.requestId, request.stream),
        body: payload,
        signal: request.signal,
        stream: request.stream,
        model: request.model,
      },
      state,
      errorFromStatus,
    );
  }
}

async function* encodingFailure(error: SkylarkError): AsyncGenerator<GenerationPart> {
  yield { type: 'error', error, usage: { promptTokens: 0, completionTokens: 0, cachedPromptTokens: 0 } };
}
