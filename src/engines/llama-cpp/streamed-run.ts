import { AsyncQueue } from '../../core/async-queue.js';
import { toSkylarkError } from '../../core/errors.js';
import type { Usage } from '../../core/usage.js';
import type { FinishReason, GenerationPart } from '../engine.js';
import type { SequenceLease } from './sequence-pool.js';

export type StopReason =
  | 'eogToken'
  | 'stopGenerationTrigger'
  | 'customStopTrigger'
  | 'functionCalls'
  | 'maxTokens'
  | 'abort';

export function toFinishReason(stopReason: StopReason): FinishReason {
  switch (stopReason) {
    case 'maxTokens':
      return 'length';
    case 'functionCalls':
      return 'tool_calls';
    case 'abort':
      return 'abort';
    default:
      return 'stop';
  }
}

export interface RunContext {
  /** Push a streaming part (text, tool call) to the consumer. */
  emit(part: GenerationPart): void;
  /** Count generated tokens as node-llama-cpp hands them out. */
  countTokens(count: number): void;
  signal: AbortSignal;
}

/**
 * Runs one callback-style node-llama-cpp generation on a leased sequence and exposes it as
 * parts. Guarantees: exactly one terminal part; the sequence is released only after the
 * native generation has fully stopped (so the next lease never races the old one); a
 * consumer that stops reading (client gone) aborts the generation at once.
 */
export async function* streamedRun(
  lease: SequenceLease,
  usage: Usage,
  outerSignal: AbortSignal,
  generate: (run: RunContext) => Promise<{ stopReason: StopReason; finishReason?: FinishReason; stopSequence?: string }>,
): AsyncGenerator<GenerationPart> {
  const queue = new AsyncQueue<GenerationPart>();
  const controller = new AbortController();
  const onOuterAbort = () => controller.abort(outerSignal.reason);
  if (outerSignal.aborted) controller.abort(outerSignal.reason);
  else outerSignal.addEventListener('abort', onOuterAbort, { once: true });

  const run: RunContext = {
    emit: (part) => queue.push(part),
    countTokens: (count) => {
      usage.completionTokens += count;
    },
    signal: controller.signal,
  };

  let settled = false;
  const finished = generate(run)
    .then(({ stopReason, finishReason, stopSequence }) => {
      const reason = controller.signal.aborted ? 'abort' : (finishReason ?? toFinishReason(stopReason));
      queue.push({ type: 'finish', finishReason: reason, usage: { ...usage }, ...(reason === 'stop' && stopSequence !== undefined ? { stopSequence } : {}) });
    })
    .catch((error: unknown) => {
      if (controller.signal.aborted) queue.push({ type: 'finish', finishReason: 'abort', usage: { ...usage } });
      else queue.push({ type: 'error', error: toSkylarkError(error), usage: { ...usage } });
    })
    .finally(async () => {
      // An interrupted generation may leave the sequence's KV cells out of step with its
      // token list; forget its cache rather than let the next lease reuse a stale prefix.
      if (controller.signal.aborted) await lease.sequence.clearHistory().catch(() => undefined);
      settled = true;
      outerSignal.removeEventListener('abort', onOuterAbort);
      lease.release();
      queue.close();
    });

  try {
    yield* queue;
  } finally {
    if (!settled) controller.abort(new Error('consumer stopped reading'));
    await finished;
  }
}
