import { statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import {
  resolveChatWrapper,
  type ChatWrapper,
  type Llama,
  type LlamaContext,
  type LlamaEmbeddingContext,
  type LlamaModel,
  type Token,
} from 'node-llama-cpp';
import { SkylarkError, toSkylarkError } from '../../core/errors.js';
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
import { validateLlamaLoadable } from '../gguf/inspect.js';
import { countChatPromptTokens, generateChat, prefillChat } from './generate-chat.js';
import { generateCompletion } from './generate-completion.js';
import { llamaRuntime, type GpuSetting } from './llama-runtime.js';
import { guardSampling } from './sampling-guard.js';
import { SequencePool } from './sequence-pool.js';

export interface LlamaCppEngineOptions {
  id: string;
  modelPath: string;
  /** Tokens each sequence can hold (prompt + completion). Default: the model's own, at most 4096. */
  contextSize?: number;
  /** Sequences in the one context: generations batched into the same evaluation. Default 8. */
  parallel?: number;
  /** CPU threads. Default: 1 for tiny models (more only adds sync overhead), else every core. */
  threads?: number;
  gpu?: GpuSetting;
  batchSize?: number;
  /** llama.cpp's flash attention; 'auto' (default) lets it decide per backend. */
  flashAttention?: 'auto' | boolean;
}

/** What the generation functions need from a loaded engine. */
export interface LoadedLlama {
  llama: Llama;
  model: LlamaModel;
  chatWrapper: ChatWrapper;
  pool: SequencePool;
  contextSize: number;
  vocabularySize: number;
}

const tinyModelBytes = 64 * 1024 * 1024;

export class LlamaCppEngine implements Engine {
  readonly kind = 'llama-cpp';
  readonly id: string;
  private readonly options: LlamaCppEngineOptions;
  private state: EngineHealth = { state: 'loading' };
  private loaded: LoadedLlama | undefined;
  private context: LlamaContext | undefined;
  private embedding: Promise<LlamaEmbeddingContext> | undefined;
  private embedQueue: Promise<unknown> = Promise.resolve();
  private readonly running = new Set<AbortController>();

  constructor(options: LlamaCppEngineOptions) {
    this.id = options.id;
    this.options = options;
  }

  async start(): Promise<void> {
    try {
      // A malformed GGUF makes llama.cpp abort the process; read its metadata first.
      await validateLlamaLoadable(this.options.modelPath);
      const llama = await llamaRuntime(this.options.gpu ?? 'auto');
      const model = await llama.loadModel({ modelPath: this.options.modelPath });
      const trained = model.trainContextSize;
      const contextSize = this.options.contextSize ?? Math.min(trained, 4096);
      this.context = await model.createContext({
        contextSize,
        sequences: this.options.parallel ?? 8,
        threads: this.threads(),
        ...(this.options.batchSize === undefined ? {} : { batchSize: this.options.batchSize }),
        ...(this.options.flashAttention === undefined ? {} : { flashAttention: this.options.flashAttention }),
      });
      guardSampling(this.context);
      this.loaded = {
        llama,
        model,
        chatWrapper: resolveChatWrapper(model),
        pool: new SequencePool(this.context),
        contextSize: this.context.contextSize,
        vocabularySize: model.fileInfo.metadata.tokenizer?.ggml?.tokens?.length ?? 0,
      };
      this.state = { state: 'ready' };
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.state = { state: 'failed', reason };
      throw new Error(`Engine '${this.id}' could not load ${this.options.modelPath}: ${reason}`, { cause: error });
    }
  }

  chat(request: ChatGeneration): AsyncIterable<GenerationPart> {
    return this.tracked(request.signal, (signal) => generateChat(this.ready(), { ...request, signal }));
  }

  async countChatTokens(request: ChatGeneration): Promise<number> {
    return countChatPromptTokens(this.ready(), request);
  }

  prefillChat(request: ChatGeneration): Promise<{ promptTokens: number; cachedTokens: number }> {
    return prefillChat(this.ready(), request);
  }

  complete(request: CompletionGeneration): AsyncIterable<GenerationPart> {
    return this.tracked(request.signal, (signal) => generateCompletion(this.ready(), { ...request, signal }));
  }

  async embed(request: EmbeddingRequest): Promise<EmbeddingResult> {
    const { model } = this.ready();
    if (request.dimensions !== undefined && request.dimensions !== model.embeddingVectorSize) {
      throw new SkylarkError(
        'unsupported_parameter',
        `This model's embeddings have ${model.embeddingVectorSize} dimensions and cannot be shortened to ${request.dimensions}.`,
        { param: 'dimensions' },
      );
    }
    const contextSize = this.ready().contextSize;
    const tokenized = request.input.map((text) => model.tokenize(text));
    tokenized.forEach((tokens, index) => {
      if (tokens.length > contextSize) {
        throw new SkylarkError(
          'context_length_exceeded',
          `input[${index}] has ${tokens.length} tokens; this model embeds at most ${contextSize}.`,
          { param: 'input' },
        );
      }
    });
    this.embedding ??= model.createEmbeddingContext({ contextSize, threads: this.threads() });
    const context = await this.embedding;
    // One embedding context evaluates one input at a time; queue callers behind each other.
    const result = this.embedQueue.then(async () => {
      const embeddings: number[][] = [];
      for (const tokens of tokenized) {
        if (request.signal.aborted) throw new SkylarkError('invalid_request', 'The request was cancelled.');
        embeddings.push([...(await context.getEmbeddingFor(tokens as Token[])).vector]);
      }
      return embeddings;
    });
    this.embedQueue = result.catch(() => undefined);
    const embeddings = await result;
    return { embeddings, promptTokens: tokenized.reduce((sum, tokens) => sum + tokens.length, 0) };
  }

  capacity(): EngineCapacity {
    const pool = this.loaded?.pool;
    return { slots: pool?.slots ?? this.options.parallel ?? 8, busy: pool?.busy ?? 0 };
  }

  health(): EngineHealth {
    return this.state;
  }

  /** Information /v1/models shows about the engine's model. */
  describe(): { contextSize: number; embeddingSize: number } | undefined {
    if (!this.loaded) return undefined;
    return { contextSize: this.loaded.contextSize, embeddingSize: this.loaded.model.embeddingVectorSize };
  }

  async close(): Promise<void> {
    const closing = new SkylarkError('engine_unavailable', 'The engine is shutting down.');
    this.loaded?.pool.rejectWaiters(closing);
    for (const controller of this.running) controller.abort(closing);
    this.state = { state: 'failed', reason: 'closed' };
    const embedding = await this.embedding?.catch(() => undefined);
    await embedding?.dispose();
    await this.context?.dispose();
    await this.loaded?.model.dispose();
  }

  private ready(): LoadedLlama {
    if (!this.loaded || this.state.state !== 'ready') {
      throw new SkylarkError('engine_unavailable', `The engine '${this.id}' is not ready.`, { retryAfterMs: 1000 });
    }
    return this.loaded;
  }

  private threads(): number {
    if (this.options.threads !== undefined) return this.options.threads;
    const size = statSync(this.options.modelPath).size;
    return size < tinyModelBytes ? 1 : availableParallelism();
  }

  /** Lets close() abort every generation still running. */
  private async *tracked(
    signal: AbortSignal,
    start: (signal: AbortSignal) => AsyncIterable<GenerationPart>,
  ): AsyncGenerator<GenerationPart> {
    const controller = new AbortController();
    const forward = () => controller.abort(signal.reason);
    if (signal.aborted) controller.abort(signal.reason);
    else signal.addEventListener('abort', forward, { once: true });
    this.running.add(controller);
    try {
      yield* start(controller.signal);
    } catch (error) {
      // Failures before the first part (bad input, engine not ready) still end as a part.
      yield { type: 'error', error: toSkylarkError(error), usage: { ...zeroUsage } };
    } finally {
      this.running.delete(controller);
      signal.removeEventListener('abort', forward);
    }
  }
}
