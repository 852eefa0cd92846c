/** What the simulated replica (replica.ts) is told and reports. */
import type { GpuProfile } from './hardware.js';
import type { SchedulingPolicy } from './waiting-queue.js';

export interface SimReplicaOptions {
  gpu?: GpuProfile;
  /** Sequences that may run at once (vLLM's max_num_seqs). */
  slots?: number;
  kvTokens?: number;
  /** Tokens computed per step, decodes and prefill chunks together (max_num_batched_tokens). */
  tokenBudget?: number;
  /** vLLM's --scheduling-policy: 'fcfs' (vLLM's default and this one's) or 'priority' (each request's `priority`, lower first). */
  schedulingPolicy?: SchedulingPolicy;
  /**
   * Priority policy only, and not a vLLM option (replica.ts): sequences of priority ≥
   * `fromPriority` compute at most `tokensPerStep` prompt tokens per step, all of them
   * together; their decodes are not limited. `exclusive`: none at all in a step that carries
   * a prefill of a better priority. Off by default.
   */
  backgroundPrefill?: BackgroundPrefill;
  /**
   * vLLM's --long-prefill-token-threshold: no sequence computes more than this many prompt
   * tokens in one step (0 or unset: only the token budget limits it). Shorter steps mean a
   * prompt that arrives mid-step waits less for the step to end.
   */
  longPrefillTokenThreshold?: number;
}

/** See SimReplicaOptions.backgroundPrefill. */
export interface BackgroundPrefill {
  fromPriority: number;
  tokensPerStep: number;
  exclusive?: boolean;
  /** With exclusive: background decodes too skip a step that carries a better prefill. */
  pauseDecodes?: boolean;
}

export type SimEvent =
  | { type: 'started'; id: string; at: number; cachedTokens: number }
  | { type: 'preempted'; id: string; at: number }
  | { type: 'firstToken'; id: string; at: number }
  | {
      type: 'finished';
      id: string;
      at: number;
      promptTokens: number;
      cachedTokens: number;
      completionTokens: number;
      /** Tokens the GPU computed for it, recomputation after preemption included. */
      computedTokens: number;
    };

export interface SimLoad {
  slots: number;
  /** Running plus waiting in the engine's own queue. */
  busy: number;
  kvTokens: number;
  kvUsed: number;
}

export interface SimAbortResult {
  promptTokens: number;
  cachedTokens: number;
  completionTokens: number;
  /** Work spent on it: all of it is wasted. */
  computedTokens: number;
}

export interface SimCounters {
  steps: number;
  busyMs: number;
  tokensComputed: number;
  /** Prompt tokens at first admission, and how many of those the prefix cache held. */
  promptTokensAdmitted: number;
  cachedTokens: number;
  preemptions: number;
  /** Prefill done again after a preemption. */
  recomputedTokens: number;
  abortedRequests: number;
  wastedTokens: number;
}
