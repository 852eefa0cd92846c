/**
 * One simulated GPU replica running a vLLM-like engine, in virtual time and without
 * timers: the caller drives it as a discrete-event loop (enqueue, nextEventTime, advance).
 *
 * Each step (continuous batching, as vLLM V1 schedules it):
 *  1. running sequences, oldest first, get one decode token or a prefill chunk, within a
 *     per-step token budget shared by all; when KV blocks run out, the newest running
 *     sequence is preempted (blocks freed, back to the front of the queue, recomputed
 *     later);
 *  2. if nothing was preempted, waiting sequences are admitted in FCFS order while there
 *     are slots, budget and blocks, first taking what the prefix cache holds;
 *  3. the step lasts overhead + max(memory, compute) (hardware.ts); at its end every
 *     sequence whose known tokens are all computed samples one token.
 * Sequences scheduled in a step see requests enqueued during it only at the next one.
 */
import { gpuPresets, stepTimeMs, type GpuProfile } from './hardware.js';
import { KvBlockPool, blockTokens } from './kv-cache.js';
import { Sequence, type SimRequest } from './sequence.js';
import type { SimAbortResult, SimCounters, SimEvent, SimLoad, SimReplicaOptions } from './types.js';

export type { SimAbortResult, SimCounters, SimEvent, SimLoad, SimReplicaOptions } from './types.js';

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
  private readonly pool: KvBlockPool;
  /** Oldest first: preemption takes from the end. */
  private readonly running: Sequence[] = [];
  /**
   * The engine's queue: preempted sequences first (most recent on top, as vLLM puts each
   * back at the front), then new ones in arrival order. Aborted ones are skipped lazily,
   * since a queue thousands long under overload must not be searched per abort.
   */
  private readonly preempted: Sequence[] = [];
  private waiting: Sequence[] = [];
  private waitingHead = 0;
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
  }

  /** Joins the engine's queue at time `now` (the next step picks it up). */
  enqueue(request: SimRequest, now: number): void {
    const sequence = new Sequence(request);
    if (this.byId.has(request.id)) throw new Error(`Request ${request.id} is already in the engine.`);
    if (sequence.promptTokens < 1 || request.outputTokens < 1) throw new RangeError('A request needs a prompt and at least one output token.');
    if (sequence.promptTokens + request.outputTokens > this.maxModelLen) {
      throw new RangeError(`Request ${request.id} needs ${sequence.promptTokens + request.outputTokens} tokens; the engine holds ${this.maxModelLen}.`);
    }
    if (this.step === undefined) this.time = Math.max(this.time, now);
    this.byId.set(request.id, sequence);
    this.waiting.push(sequence);
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

  /** The front of the engine's queue, dropping aborted entries on the way. */
  private front(): Sequence | undefined {
    while (this.preempted.length > 0) {
      const top = this.preempted.at(-1)!;
      if (!top.aborted) return top;
      this.preempted.pop();
    }
    while (this.waitingHead < this.waiting.length) {
      const head = this.waiting[this.waitingHead]!;
      if (!head.aborted) return head;
      this.waitingHead++;
    }
    return undefined;
  }

  private dequeueFront(): void {
    if (this.preempted.length > 0) this.preempted.pop();
    else this.waitingHead++;
    if (this.waitingHead > 1024 || (this.waitingHead > 0 && this.waitingHead === this.waiting.length)) {
      this.waiting = this.waiting.slice(this.waitingHead);
      this.waitingHead = 0;
    }
  }

  private planStep(start: number): Step {
    const scheduled: Sequence[] = [];
    let budget = this.tokenBudget;
    let preempted = false;
    for (let i = 0; i < this.running.length && budget > 0; i++) {
      const sequence = this.running[i]!;
      const tokens = Math.min(sequence.known - sequence.computed, budget);
      while (!sequence.reserve(this.pool, tokens)) {
        const victim = this.running.pop()!;
        this.preempt(victim, start);
        preempted = true;
        if (victim === sequence) break;
      }
      if (!sequence.admitted) continue;
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

  private admit(start: number, budget: number, scheduled: Sequence[]): void {
    for (let sequence = this.front(); sequence !== undefined && budget > 0 && this.running.length < this.slots; sequence = this.front()) {
      const cached = sequence.takeCachedPrefix(this.pool);
      const tokens = Math.min(sequence.known - sequence.computed, budget);
      if (!sequence.reserve(this.pool, tokens)) {
        // FCFS: the head waits for blocks and nobody overtakes it.
        sequence.releaseAll(this.pool);
        sequence.computed = 0;
        return;
      }
      this.dequeueFront();
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
    this.preempted.push(sequence);
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
