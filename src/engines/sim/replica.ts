/**
 * One simulated GPU replica running a vLLM-like engine, in virtual time and without
 * timers: the caller drives it as a discrete-event loop (enqueue, nextEventTime, advance).
 *
 * Each step (continuous batching, as vLLM V1's scheduler.py schedules it):
 *  1. running sequences, in the order they were admitted, get one decode token or a
 *     prefill chunk, within a per-step token budget shared by all; when KV blocks run out a
 *     running sequence is preempted (blocks freed, back to the waiting queue, recomputed
 *     later): under FCFS the newest, under the priority policy the one served last
 *     (highest priority value, then newest) — even one already scheduled in this step,
 *     whose tokens go back to the budget; when the victim is the sequence being scheduled,
 *     the running pass stops;
 *  2. if nothing was preempted, waiting sequences are admitted in the queue's order
 *     (waiting-queue.ts: FCFS, or by priority then arrival) while there are slots, budget
 *     and blocks, first taking what the prefix cache holds; the head waits for blocks and
 *     nobody overtakes it;
 *  3. the step lasts overhead + max(memory, compute) (hardware.ts); at its end every
 *     sequence whose known tokens are all computed samples one token.
 * Sequences scheduled in a step see requests enqueued during it only at the next one.
 *
 * So under the priority policy a high-priority prompt never waits behind lower-priority
 * waiting prompts for the step's budget, slots or blocks, and lower-priority sequences
 * lose their KV first; but, as in vLLM, running sequences keep their place in the step
 * whatever their priority (their decodes and unfinished prefill chunks go first), and
 * nothing running is preempted merely because a higher-priority request waits.
 *
 * `backgroundPrefill` (off by default) is not a vLLM option: it caps the prompt tokens that
 * background sequences (batch: priority ≥ fromPriority) compute per step, all together. A
 * step cannot be interrupted, so an interactive prompt that arrives mid-step waits for its
 * end; with batch prompts of thousands of tokens in it (compute-bound: ≈ 33 ms per 1,000
 * tokens on an H100 for 8B) that wait dominates interactive TTFT beside batch, and
 * priority order cannot shorten it. vLLM's own --long-prefill-token-threshold
 * (`longPrefillTokenThreshold`) caps every sequence's chunk, interactive ones too.
 */
import { gpuPresets, stepTimeMs, type GpuProfile } from './hardware.js';
import { KvBlockPool, blockTokens } from './kv-cache.js';
import { Sequence, type SimRequest } from './sequence.js';
import { servedBefore, waitingQueue, type SchedulingPolicy, type WaitingQueue } from './waiting-queue.js';
import type { BackgroundPrefill, SimAbortResult, SimCounters, SimEvent, SimLoad, SimReplicaOptions } from './types.js';

export type { BackgroundPrefill, SimAbortResult, SimCounters, SimEvent, SimLoad, SimReplicaOptions } from './types.js';

interface Step {
  end: number;
  /** Each with its tokens of this step in `inFlight`. */
  scheduled: Sequence[];
}

export class SimReplica {
  readonly gpu: GpuProfile;
  readonly slots: number;
  readonly tokenBudget: number;
  readonly maxModelLen: number;
  readonly counters: SimCounters = {
    steps: 0, busyMs: 0, tokensComputed: 0, promptTokensAdmitted: 0, cachedTokens: 0,
    preemptions: 0, recomputedTokens: 0, abortedRequests: 0, wastedTokens: 0,
  };
  readonly schedulingPolicy: SchedulingPolicy;
  readonly backgroundPrefill: BackgroundPrefill | undefined;
  readonly longPrefillTokenThreshold: number;
  private readonly pool: KvBlockPool;
  /** In admission order: FCFS preemption takes from the end. */
  private readonly running: Sequence[] = [];
  private readonly queue: WaitingQueue;
  private arrivals = 0;
  /** Prompt tokens background sequences may still compute in the step being planned (backgroundPrefill). */
  private backgroundLeft = Number.POSITIVE_INFINITY;
  /** backgroundPrefill.pauseDecodes: background decodes skip the step being planned. */
  private backgroundPaused = false;
  private readonly byId = new Map<string, Sequence>();
  private step: Step | undefined;
  private time = 0;
  private events: SimEvent[] = [];

  constructor(options: SimReplicaOptions = {}) {
    this.gpu = options.gpu ?? gpuPresets['8b-h100'];
    this.slots = options.slots ?? 256;
    this.tokenBudget = options.tokenBudget ?? 8192;
    this.pool = new KvBlockPool(options.kvTokens ?? this.gpu.defaultKvTokens);
    this.maxModelLen = Math.min(this.gpu.maxModelLen, this.pool.totalBlocks * blockTokens);
    this.schedulingPolicy = options.schedulingPolicy ?? 'fcfs';
    this.backgroundPrefill = this.schedulingPolicy === 'priority' ? options.backgroundPrefill : undefined;
    this.queue = waitingQueue(this.schedulingPolicy);
    this.longPrefillTokenThreshold = options.longPrefillTokenThreshold ?? 0;
  }

  /** Joins the engine's queue at time `now` (the next step picks it up). */
  enqueue(request: SimRequest, now: number): void {
    const sequence = new Sequence(request, this.arrivals++);
    if (this.byId.has(request.id)) throw new Error(`Request ${request.id} is already in the engine.`);
    if (sequence.promptTokens < 1 || request.outputTokens < 1) throw new RangeError('A request needs a prompt and at least one output token.');
    if (sequence.promptTokens + request.outputTokens > this.maxModelLen) {
      throw new RangeError(`Request ${request.id} needs ${sequence.promptTokens + request.outputTokens} tokens; the engine holds ${this.maxModelLen}.`);
    }
    if (this.step === undefined) this.time = Math.max(this.time, now);
    this.byId.set(request.id, sequence);
    this.queue.push(sequence);
  }

  /** When the step now running ends (starting one if there is work); Infinity when idle. */
  nextEventTime(): number {
    if (this.step === undefined && this.byId.size > 0) this.step = this.planStep(this.time);
    return this.step?.end ?? Number.POSITIVE_INFINITY;
  }

  /** Completes every step that ends by `toTime` and returns what happened, in time order. */
  advance(toTime: number): SimEvent[] {
    while (true) {
      if (this.step === undefined && this.byId.size > 0 && this.time < toTime) this.step = this.planStep(this.time);
      if (this.step === undefined || this.step.end > toTime) break;
      this.finishStep(this.step);
      this.step = undefined;
    }
    if (this.step === undefined) this.time = Math.max(this.time, toTime);
    const events = this.events;
    this.events = [];
    return events;
  }

  load(): SimLoad {
    return {
      slots: this.slots,
      busy: this.byId.size,
      kvTokens: this.pool.totalBlocks * blockTokens,
      kvUsed: this.pool.usedBlocks * blockTokens,
    };
  }

  /** Tokens generated so far for a request in the engine (for streaming adapters). */
  generated(id: string): number | undefined {
    return this.byId.get(id)?.generated;
  }

  /** Drops a request (the client went away); its KV is freed and its work counted as wasted. */
  abort(id: string): SimAbortResult | undefined {
    const sequence = this.byId.get(id);
    if (sequence === undefined) return undefined;
    this.byId.delete(id);
    sequence.aborted = true;
    this.unqueue(sequence);
    sequence.releaseAll(this.pool);
    // The step in flight computes its share anyway; the GPU cannot take it back.
    const computedTokens = sequence.work + sequence.inFlight;
    this.counters.abortedRequests++;
    this.counters.wastedTokens += computedTokens;
    return {
      promptTokens: sequence.promptTokens,
      cachedTokens: sequence.cachedTokens,
      completionTokens: sequence.generated,
      computedTokens,
    };
  }

  private unqueue(sequence: Sequence): void {
    if (sequence.admitted) this.running.splice(this.running.indexOf(sequence), 1);
  }

  private planStep(start: number): Step {
    const scheduled: Sequence[] = [];
    let budget = this.tokenBudget;
    let preempted = false;
    this.backgroundLeft = this.backgroundShare();
    this.backgroundPaused = this.backgroundLeft === 0 && this.backgroundPrefill?.pauseDecodes === true;
    running: for (let i = 0; i < this.running.length && budget > 0; i++) {
      const sequence = this.running[i]!;
      const tokens = this.chunk(sequence, budget);
      // A background prefill over its step's share waits for the next step (it keeps its KV).
      if (tokens === 0) continue;
      while (!sequence.reserve(this.pool, tokens)) {
        const at = this.victimIndex();
        const victim = this.running[at]!;
        this.running.splice(at, 1);
        if (at < i) {
          // Scheduled earlier in this step: its tokens go back to the budget (vLLM does the same).
          i--;
          budget += victim.inFlight;
          victim.inFlight = 0;
          scheduled.splice(scheduled.indexOf(victim), 1);
        }
        this.preempt(victim, start);
        preempted = true;
        if (victim === sequence) break running;
      }
      sequence.inFlight = tokens;
      scheduled.push(sequence);
      budget -= tokens;
    }
    if (!preempted) this.admit(start, budget, scheduled);
    let tokens = 0;
    let context = 0;
    for (const sequence of scheduled) {
      tokens += sequence.inFlight;
      context += sequence.computed + sequence.inFlight;
    }
    const duration = stepTimeMs(this.gpu, tokens, context);
    this.counters.steps++;
    this.counters.busyMs += duration;
    this.counters.tokensComputed += tokens;
    return { end: start + duration, scheduled };
  }

  /**
   * Tokens a sequence computes in this step: what it has not computed, within the budget, the
   * long-prefill threshold and, for a background prefill, what is left of the background
   * share (taken from it here; a background victim preempted later in the step does not
   * give its share back, which errs on the short side).
   */
  private chunk(sequence: Sequence, budget: number): number {
    const threshold = this.longPrefillTokenThreshold;
    const left = sequence.known - sequence.computed;
    let tokens = Math.min(left, budget);
    if (threshold > 0) tokens = Math.min(tokens, threshold);
    if (this.backgroundPaused && this.isBackground(sequence)) return 0;
    if (left > 1 && this.isBackground(sequence)) {
      tokens = Math.min(tokens, this.backgroundLeft);
      this.backgroundLeft -= tokens;
    }
    return tokens;
  }

  /** Prompt tokens background sequences may compute in the step about to be planned. */
  private backgroundShare(): number {
    const background = this.backgroundPrefill;
    if (background === undefined) return Number.POSITIVE_INFINITY;
    if (background.exclusive !== true) return background.tokensPerStep;
    // Exclusive: none beside a better prefill, running or about to be admitted (the queue's
    // front, if a slot is free; blocks may still stop it, which errs on the short side).
    const front = this.running.length < this.slots ? this.queue.front() : undefined;
    if (front !== undefined && !this.isBackground(front)) return 0;
    for (const sequence of this.running) if (sequence.known - sequence.computed > 1 && !this.isBackground(sequence)) return 0;
    return background.tokensPerStep;
  }

  private isBackground(sequence: Sequence): boolean {
    return this.backgroundPrefill !== undefined && sequence.priority >= this.backgroundPrefill.fromPriority;
  }

  /** The running sequence to preempt when KV runs short: FCFS the newest, priority the one served last. */
  private victimIndex(): number {
    let at = this.running.length - 1;
    if (this.schedulingPolicy === 'fcfs') return at;
    for (let i = at - 1; i >= 0; i--) if (servedBefore(this.running[at]!, this.running[i]!)) at = i;
    return at;
  }

  private admit(start: number, budget: number, scheduled: Sequence[]): void {
    const queue = this.queue;
    for (let sequence = queue.front(); sequence !== undefined && budget > 0 && this.running.length < this.slots; sequence = queue.front()) {
      // The queue is in priority order: behind a background head everything is background.
      if (this.backgroundLeft <= 0 && this.isBackground(sequence)) return;
      const cached = sequence.takeCachedPrefix(this.pool);
      const tokens = this.chunk(sequence, budget);
      if (!sequence.reserve(this.pool, tokens)) {
        // The head waits for blocks and nobody overtakes it (both policies).
        sequence.releaseAll(this.pool);
        sequence.computed = 0;
        return;
      }
      queue.dequeueFront();
      if (sequence.preemptions === 0) {
        sequence.cachedTokens = cached;
        this.counters.promptTokensAdmitted += sequence.promptTokens;
        this.counters.cachedTokens += cached;
        this.events.push({ type: 'started', id: sequence.request.id, at: start, cachedTokens: cached });
      } else {
        this.counters.recomputedTokens += sequence.known - cached;
      }
      sequence.admitted = true;
      sequence.inFlight = tokens;
      this.running.push(sequence);
      scheduled.push(sequence);
      budget -= tokens;
    }
  }

  private preempt(sequence: Sequence, at: number): void {
    sequence.releaseAll(this.pool);
    sequence.computed = 0;
    sequence.admitted = false;
    sequence.preemptions++;
    this.counters.preemptions++;
    this.queue.pushPreempted(sequence);
    this.events.push({ type: 'preempted', id: sequence.request.id, at });
  }

  private finishStep(step: Step): void {
    this.time = step.end;
    for (const sequence of step.scheduled) {
      const tokens = sequence.inFlight;
      sequence.inFlight = 0;
      // Aborted while the step ran: the work is done but nobody takes it.
      if (sequence.aborted) continue;
      sequence.advance(this.pool, tokens);
      if (sequence.computed < sequence.known) continue;
      sequence.generated++;
      sequence.known++;
      const id = sequence.request.id;
      if (sequence.generated === 1) this.events.push({ type: 'firstToken', id, at: step.end });
      if (sequence.finished) this.finish(sequence, step.end);
    }
  }

  private finish(sequence: Sequence, at: number): void {
    const id = sequence.request.id;
    this.byId.delete(id);
    this.running.splice(this.running.indexOf(sequence), 1);
    sequence.releaseAll(this.pool);
    this.events.push({
      type: 'finished',
      id,
      at,
      promptTokens: sequence.promptTokens,
      cachedTokens: sequence.cachedTokens,
      completionTokens: sequence.generated,
      computedTokens: sequence.work,
    });
  }
}
