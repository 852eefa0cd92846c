/**
 * The one interface every engine implements. It speaks in Skylark's terms, not HTTP and
 * not OpenAI's wire format: the gateway translates both ways.
 *
 * A generation is an async iterable of typed parts. Exactly one terminal part ends it:
 * `finish` (with exact usage) or `error`. Billing listens to the terminal part only;
 * when the caller aborts (signal), the engine stops at once and still ends with `finish`
 * carrying the tokens actually produced (finishReason 'abort').
 */
import type { SkylarkError } from '../core/errors.js';
import type { Usage } from '../core/usage.js';

export type JsonSchema = Record<string, unknown>;

export type ChatRole = 'system' | 'user' | 'assistant' | 'tool';

export interface ToolCall {
  id: string;
  name: string;
  /** JSON text, as OpenAI carries it. */
  arguments: string;
}

export type ContentPart =
  | { type: 'text'; text: string }
  | { type: 'image_url'; image_url: { url: string; detail?: 'auto' | 'low' | 'high' } };

export interface ChatMessage {
  role: ChatRole;
  /** The message's text; multi-part content is flattened to its text parts. */
  content: string;
  /** The original parts, present only when a user message carries images (vision models). */
  contentParts?: ContentPart[];
  name?: string;
  /** Assistant messages: the calls the model made. */
  toolCalls?: ToolCall[];
  /** Tool messages: which call this is the result of. */
  toolCallId?: string;
}

export interface ToolDefinition {
  name: string;
  description?: string;
  parameters?: JsonSchema;
  strict?: boolean;
}

export type ToolChoice = 'auto' | 'none' | 'required' | { name: string };

export type ResponseFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | { type: 'json_schema'; name: string; schema: JsonSchema; strict?: boolean };

export interface SamplingOptions {
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  /** Sample among the k likeliest tokens only; engines that cannot (OpenAI's API) ignore it. */
  topK?: number;
  stop?: string[];
  seed?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
  /** Token id (as a decimal string, OpenAI's form) → bias in [-100, 100]. */
  logitBias?: Record<string, number>;
}

interface GenerationBase extends SamplingOptions {
  /** The engine's own model name (after the config's mapping). */
  model: string;
  signal: AbortSignal;
  user?: string;
  /** Request id, for logs and for upstreams that accept one. */
  requestId: string;
  /**
   * Whether the client reads parts as they come. Remote engines use it to pick the
   * upstream's streaming or JSON mode; the parts yielded have the same meaning either way.
   */
  stream: boolean;
  /**
   * Headers of the client's request that an upstream speaking the same protocol should see
   * (lower-case names: `anthropic-version`, `anthropic-beta`); other engines ignore them.
   */
  clientHeaders?: Record<string, string>;
  /**
   * The request's scheduling priority inside the engine, vLLM's `priority` (lower is served
   * first): the gateway sets it from the scheduler tier (priority 0, standard 1, free 2,
   * batch 3). The sim engine's priority policy honours it; an openai-compatible engine sends
   * it only when configured to (`sendPriority`); other engines ignore it.
   */
  priority?: number;
}

export interface ChatGeneration extends GenerationBase {
  messages: ChatMessage[];
  tools?: ToolDefinition[];
  toolChoice?: ToolChoice;
  responseFormat?: ResponseFormat;
  parallelToolCalls?: boolean;
}

export interface CompletionGeneration extends GenerationBase {
  prompt: string;
  echo?: boolean;
  suffix?: string;
}

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'abort';

export type GenerationPart =
  | { type: 'text-delta'; text: string }
  /** Reasoning text some upstreams stream separately (DeepSeek's reasoning_content). */
  | { type: 'reasoning-delta'; text: string }
  /**
   * A piece of a tool call. The first delta of a call carries id and name; later ones
   * append to its arguments. `index` is the call's position in the message.
   */
  | { type: 'tool-call-delta'; index: number; id?: string; name?: string; argumentsDelta: string }
  /** `stopSequence`: which of the request's stop sequences ended it, where the engine knows. */
  | { type: 'finish'; finishReason: FinishReason; usage: Usage; stopSequence?: string }
  | { type: 'error'; error: SkylarkError; usage: Usage };

export interface EmbeddingRequest {
  model: string;
  input: string[];
  dimensions?: number;
  signal: AbortSignal;
  requestId: string;
}

export interface EmbeddingResult {
  embeddings: number[][];
  promptTokens: number;
}

/** The formats speech can be asked in (OpenAI's `response_format`). */
export type SpeechFormat = 'mp3' | 'opus' | 'aac' | 'flac' | 'wav' | 'pcm';
export type TranscriptionFormat = 'json' | 'text' | 'verbose_json';

interface MediaRequestBase {
  /** The engine's own model name. */
  model: string;
  signal: AbortSignal;
  requestId: string;
  user?: string;
}

export interface ImageRequest extends MediaRequestBase {
  prompt: string;
  n: number;
  /** `WIDTHxHEIGHT` or `auto`; absent = the model's default. */
  size?: string;
  quality?: string;
  style?: string;
  responseFormat?: 'url' | 'b64_json';
}

export interface GeneratedImage {
  /** One of the two, as asked (or as the model answers). */
  b64Json?: string;
  url?: string;
  revisedPrompt?: string;
}

export interface ImageResult {
  images: GeneratedImage[];
}

export interface SpeechRequest extends MediaRequestBase {
  input: string;
  voice: string;
  format: SpeechFormat;
  speed?: number;
  instructions?: string;
}

export interface SpeechResult {
  contentType: string;
  /** The audio as it arrives: an upstream's bytes are passed on without buffering the whole file. */
  audio: AsyncIterable<Uint8Array>;
}

export interface TranscriptionRequest extends MediaRequestBase {
  audio: Uint8Array;
  filename: string;
  mimeType?: string;
  format: TranscriptionFormat;
  language?: string;
  prompt?: string;
  temperature?: number;
}

export interface TranscriptionResult {
  text: string;
  language?: string;
  /** Audio length, when the engine knows it (billing measures WAV files itself otherwise). */
  durationSeconds?: number;
  /** verbose_json: OpenAI's segment objects, as the engine made them. */
  segments?: readonly Record<string, unknown>[];
}

export interface EngineCapacity {
  /** Generations the engine can run at once. */
  slots: number;
  /** Generations running now (or queued inside the engine), whoever sent them. */
  busy: number;
  /** KV-cache budget in tokens and how much is in use, when the engine knows. */
  kvTokens?: number;
  kvUsed?: number;
  /**
   * The engine server's own report of its load (remote engines that expose metrics), with
   * its age; `busy` above already counts the requests it runs that Skylark did not send.
   */
  reported?: {
    source: string;
    ageMs: number | null;
    stale: boolean;
    running: number | null;
    waiting: number | null;
    kvUsage: number | null;
    prefixCacheHitRate: number | null;
    lastError: string | null;
  };
  /** The most it has held at once since it started, where the engine counts it (sim). */
  peakBusy?: number;
}

export type EngineHealth = { state: 'loading' } | { state: 'ready' } | { state: 'failed'; reason: string };

export interface Engine {
  readonly id: string;
  readonly kind: string;
  /** Load weights or open connections. Resolves when the engine can serve. */
  start(): Promise<void>;
  chat(request: ChatGeneration): AsyncIterable<GenerationPart>;
  complete(request: CompletionGeneration): AsyncIterable<GenerationPart>;
  embed(request: EmbeddingRequest): Promise<EmbeddingResult>;
  /**
   * The prompt tokens this chat request would have, counted with the model's own tokenizer
   * and template (or the upstream's count). Absent where the engine cannot count exactly.
   */
  countChatTokens?(request: ChatGeneration): Promise<number>;
  /**
   * Evaluates the chat prompt into the engine's KV cache without generating (a cached
   * context's creation, so its first use finds the prefix evaluated). Returns the prompt's
   * token count and how many of them were already cached. Only engines holding KV state in
   * process have it (llama.cpp).
   */
  prefillChat?(request: ChatGeneration): Promise<{ promptTokens: number; cachedTokens: number }>;
  /**
   * Media, by capability: an engine has the method only when it can serve that kind of work,
   * and models declaring `images`, `speech` or `transcription` must be served by one that does.
   * Failures throw SkylarkError (retryable ones may be retried on another replica).
   */
  images?(request: ImageRequest): Promise<ImageResult>;
  speech?(request: SpeechRequest): Promise<SpeechResult>;
  transcribe?(request: TranscriptionRequest): Promise<TranscriptionResult>;
  capacity(): EngineCapacity;
  health(): EngineHealth;
  /** Abort running generations and free resources. */
  close(): Promise<void>;
}
