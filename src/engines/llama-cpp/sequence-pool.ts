import type { LlamaContext, LlamaContextSequence, Token } from 'node-llama-cpp';
import { SkylarkError } from '../../core/errors.js';

interface Waiter {
  prompt: readonly Token[];
  resolve: (lease: SequenceLease) => void;
  reject: (error: unknown) => void;
}

export interface SequenceLease {
  sequence: LlamaContextSequence;
  /** Prompt tokens already in this sequence's KV cache, reusable without evaluation. */
  cachedTokens: number;
  release(): void;
}

/**
 * The sequences of one llama.cpp context, leased one generation at a time. A lease goes
 * to the free sequence whose KV cache shares the longest prefix with the prompt, so a
 * conversation's next turn or an app's system prompt is not evaluated again.
 * Requests beyond the slot count wait here in arrival order; the scheduler (later) keeps
 * this queue short by dispatching only what can start.
 */
export class SequencePool {
  private readonly free: LlamaContextSequence[] = [];
  private readonly waiters: Waiter[] = [];
  private leased = 0;

  constructor(context: LlamaContext) {
    while (context.sequencesLeft > 0) this.free.push(context.getSequence());
  }

  get slots(): number {
    return this.free.length + this.leased;
  }

  get busy(): number {
    return this.leased;
  }

  acquire(prompt: readonly Token[], signal: AbortSignal): Promise<SequenceLease> {
    if (signal.aborted) return Promise.reject(abortError());
    if (this.free.length > 0) return Promise.resolve(this.lease(prompt));
    return new Promise<SequenceLease>((resolve, reject) => {
      const waiter: Waiter = { prompt, resolve, reject };
      this.waiters.push(waiter);
      signal.addEventListener(
        'abort',
        () => {
          const index = this.waiters.indexOf(waiter);
          if (index >= 0) {
            this.waiters.splice(index, 1);
            reject(abortError());
          }
        },
        { once: true },
      );
    });
  }

  /** Fail every waiter (on shutdown); leased sequences are returned by their holders. */
  rejectWaiters(error: SkylarkError): void {
    for (const waiter of this.waiters.splice(0)) waiter.reject(error);
  }

  private lease(prompt: readonly Token[]): SequenceLease {
    let bestIndex = 0;
    let bestPrefix = -1;
    for (let i = 0; i < this.free.length; i++) {
      const prefix = commonPrefix(this.free[i]!.contextTokens, prompt);
      if (prefix > bestPrefix) {
        bestPrefix = prefix;
        bestIndex = i;
      }
    }
    const [sequence] = this.free.splice(bestIndex, 1) as [LlamaContextSequence];
    this.leased++;
    let released = false;
    // llama.cpp must evaluate at least the last prompt token to get logits for the next one.
    const cachedTokens = Math.max(0, Math.min(bestPrefix, prompt.length - 1));
    return {
      sequence,
      cachedTokens,
      release: () => {
        if (released) return;
        released = true;
        this.leased--;
        // Most recently used last: ties in prefix length go to the least recently used sequence.
        this.free.push(sequence);
        const next = this.waiters.shift();
        if (next) next.resolve(this.lease(next.prompt));
      },
    };
  }
}

function commonPrefix(a: readonly Token[], b: readonly Token[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

function abortError(): SkylarkError {
  return new SkylarkError('invalid_request', 'The request was cancelled before it started.');
}
