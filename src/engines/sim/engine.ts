/**
 * The `sim` engine: the simulated GPU of replica.ts run in scaled real time behind the
 * Engine interface, for load tests through HTTP without a GPU. It is a simulator, never a
 * model: answers are filler words; only their timing and token counts are meaningful.
 * Its media (media.ts) are simulator output too: gradient PNGs, sine tones, fixed text.
 *
 * One timer follows the replica's next step end; at each tick the replica advances to
 * the current (scaled) time and every generation receives the tokens it gained.
 */
import { AsyncQueue } from '../../core/async-queue.js';
import { SkylarkError } from '../../core/errors.js';
import type { Usage } from '../../core/usage.js';
import type {
  ChatGeneration,
  CompletionGeneration,
  EmbeddingResult,
  Engine,
  EngineCapacity,
  EngineHealth,
  FinishReason,
  GenerationPart,
  ImageRequest,
  ImageResult,
  SpeechRequest,
  SpeechResult,
  TranscriptionRequest,
  TranscriptionResult,
} from '../engine.js';
import { simImages, simSpeech, simTranscription } from './media.js';
import { gpuPresets, type GpuPresetName } from './hardware.js';
import { SimReplica, type BackgroundPrefill, type SimEvent, type SimLoad } from './replica.js';
import type { SimPrefixSegment } from './sequence.js';
import type { SchedulingPolicy } from './waiting-queue.js';
import { answerHash, chatPrefix, completionPrefix, fillerText, seedOf } from './text.js';

export interface SimEngineOptions {
  id: string;
  preset?: GpuPresetName;
  slots?: number;
  kvTokens?: number;
  tokenBudget?: number;
  /** Real milliseconds per simulated millisecond: 1 = real time, 0.1 = ten times faster. */
  timeScale?: number;
  /** Length of an answer when max_tokens does not cut it short. */
  answerTokens?: number;
  /** vLLM's --scheduling-policy (replica.ts): 'priority' serves each generation's `priority` first. */
  schedulingPolicy?: SchedulingPolicy;
  longPrefillTokenThreshold?: number;
  backgroundPrefill?: BackgroundPrefill;
}

interface Live {
  queue: AsyncQueue<GenerationPart>;
  usage: Usage;
  seed: number;
  finishReason: FinishReason;
  done: boolean;
}

export class SimEngine implements Engine {
  readonly kind = 'sim';
  readonly id: string;
  private readonly replica: SimReplica;
  private readonly timeScale: number;
  private readonly answerTokens: number;
  private readonly live = new Map<string, Live>();
  private state: 'new' | 'ready' | 'closed' = 'new';
  private origin = performance.now();
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private nextId = 0;
  /** Generations held at once (running or queued in the replica), at most: what a gateway over-admitting shows. */
  private peakBusy = 0;

  constructor(options: SimEngineOptions) {
    this.id = options.id;
    this.replica = new SimReplica({
      gpu: gpuPresets[options.preset ?? '8b-h100'],
      ...(options.slots === undefined ? {} : { slots: options.slots }),
      ...(options.kvTokens === undefined ? {} : { kvTokens: options.kvTokens }),
      ...(options.tokenBudget === undefined ? {} : { tokenBudget: options.tokenBudget }),
      ...(options.schedulingPolicy === undefined ? {} : { schedulingPolicy: options.schedulingPolicy }),
      ...(options.longPrefillTokenThreshold === undefined ? {} : { longPrefillTokenThreshold: options.longPrefillTokenThreshold }),
      ...(options.backgroundPrefill === undefined ? {} : { backgroundPrefill: options.backgroundPrefill }),
    });
    this.timeScale = options.timeScale ?? 1;
    this.answerTokens = options.answerTokens ?? 256;
    if (!(this.timeScale > 0)) throw new RangeError('timeScale must be above 0.');
  }

  async start(): Promise<void> {
    if (this.state === 'closed') throw new SkylarkError('engine_unavailable', 'The engine has been closed.');
    if (this.state === 'new') this.origin = performance.now();
    this.state = 'ready';
  }

  chat(request: ChatGeneration): AsyncIterable<GenerationPart> {
    return this.generate(chatPrefix(request.messages), request.maxTokens, request.signal, request.priority);
  }

  complete(request: CompletionGeneration): AsyncIterable<GenerationPart> {
    return this.generate(completionPrefix(request.prompt), request.maxTokens, request.signal, request.priority);
  }

  /** Simulator output, never a model's (media.ts): a gradient PNG per image. */
  async images(request: ImageRequest): Promise<ImageResult> {
    this.assertReady();
    return simImages(request);
  }

  /** A sine tone as long as the text would take to say, as WAV or raw PCM. */
  async speech(request: SpeechRequest): Promise<SpeechResult> {
    this.assertReady();
    return simSpeech(request);
  }

  /** A fixed sentence stating the WAV file's duration. */
  async transcribe(request: TranscriptionRequest): Promise<TranscriptionResult> {
    this.assertReady();
    return simTranscription(request);
  }

  private assertReady(): void {
    if (this.state !== 'ready') {
      throw new SkylarkError('engine_unavailable', `The engine ${this.state === 'new' ? 'has not been started' : 'has been closed'}.`);
    }
  }

  async embed(): Promise<EmbeddingResult> {
    throw new SkylarkError('invalid_request', 'The sim engine simulates text generation only; it has no embeddings.', { param: 'model' });
  }

  capacity(): EngineCapacity {
    return { slots: this.replica.slots, busy: this.replica.load().busy, peakBusy: this.peakBusy };
  }

  /** Slots, queue and KV occupancy, in the shape the scheduler's ReplicaHandle reports. */
  load(): SimLoad {
    return this.replica.load();
  }

  health(): EngineHealth {
    if (this.state === 'new') return { state: 'loading' };
    if (this.state === 'closed') return { state: 'failed', reason: 'The engine has been closed.' };
    return { state: 'ready' };
  }

  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    for (const id of [...this.live.keys()]) this.abort(id);
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async *generate(prefix: SimPrefixSegment[], maxTokens: number | undefined, signal: AbortSignal, priority: number | undefined): AsyncGenerator<GenerationPart> {
    const promptTokens = prefix.reduce((sum, segment) => sum + segment.tokens, 0);
    const usage: Usage = { promptTokens, completionTokens: 0, cachedPromptTokens: 0 };
    if (this.state !== 'ready') {
      yield { type: 'error', error: new SkylarkError('engine_unavailable', `The engine ${this.state === 'new' ? 'has not been started' : 'has been closed'}.`), usage };
      return;
    }
    const room = this.replica.maxModelLen - promptTokens;
    if (room < 1) {
      const error = new SkylarkError('context_length_exceeded', `The prompt has ${promptTokens} tokens; this engine holds ${this.replica.maxModelLen} in all.`, { param: 'messages' });
      yield { type: 'error', error, usage };
      return;
    }
    if (signal.aborted) {
      yield { type: 'finish', finishReason: 'abort', usage };
      return;
    }
    const outputTokens = Math.min(maxTokens ?? this.answerTokens, this.answerTokens, room);
    const finishReason: FinishReason = outputTokens < this.answerTokens ? 'length' : 'stop';
    const seed = seedOf(prefix.at(-1)?.hash ?? '');
    const id = `${this.id}-${this.nextId++}`;
    const live: Live = { queue: new AsyncQueue(), usage, seed, finishReason, done: false };
    this.live.set(id, live);
    this.peakBusy = Math.max(this.peakBusy, this.live.size);
    const fullAnswer = fillerText(seed, 0, outputTokens).trimStart();
    this.replica.enqueue({ id, prefix, outputTokens, answerHash: answerHash(prefix, fullAnswer), ...(priority === undefined ? {} : { priority }) }, this.virtualNow());
    this.reschedule();
    const onAbort = (): void => this.abort(id);
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      for await (const part of live.queue) yield part;
    } finally {
      signal.removeEventListener('abort', onAbort);
      // A consumer that stops reading early is gone: free its place in the batch.
      if (!live.done) this.abort(id);
    }
  }

  private abort(id: string): void {
    const live = this.live.get(id);
    if (live === undefined || live.done) return;
    this.replica.abort(id);
    this.end(id, live, 'abort');
    this.reschedule();
  }

  private end(id: string, live: Live, reason: FinishReason): void {
    live.done = true;
    this.live.delete(id);
    live.queue.push({ type: 'finish', finishReason: reason, usage: { ...live.usage } });
    live.queue.close();
  }

  private virtualNow(): number {
    return (performance.now() - this.origin) / this.timeScale;
  }

  private reschedule(): void {
    const next = this.replica.nextEventTime();
    if (next === this.timerAt) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = next;
    if (!Number.isFinite(next) || this.state === 'closed') return;
    const delay = Math.max(0, next * this.timeScale - (performance.now() - this.origin));
    this.timer = setTimeout(() => this.tick(), delay);
  }

  private tick(): void {
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    const events = this.replica.advance(this.virtualNow());
    for (const event of events) this.apply(event);
    for (const [id, live] of this.live) this.stream(live, this.replica.generated(id) ?? live.usage.completionTokens);
    this.reschedule();
  }

  private apply(event: SimEvent): void {
    const live = this.live.get(event.id);
    if (live === undefined) return;
    if (event.type === 'started') live.usage.cachedPromptTokens = event.cachedTokens;
    if (event.type === 'finished') {
      this.stream(live, event.completionTokens);
      this.end(event.id, live, live.finishReason);
    }
  }

  /** Sends the tokens generated since the last tick as one text part. */
  private stream(live: Live, generated: number): void {
    const from = live.usage.completionTokens;
    if (generated <= from) return;
    const text = fillerText(live.seed, from, generated);
    live.usage.completionTokens = generated;
    live.queue.push({ type: 'text-delta', text: from === 0 ? text.trimStart() : text });
  }
}
