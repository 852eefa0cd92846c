import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../src/core/random.js';
import type { GenerationPart } from '../src/engines/engine.js';
import { LlamaCppEngine } from '../src/engines/llama-cpp/engine.js';
import { llamaRuntime } from '../src/engines/llama-cpp/llama-runtime.js';
import { tinyModelPath } from './support/paths.js';
import { tinyTokenId } from './support/tiny-vocab.js';

/**
 * Many concurrent generations on few llama.cpp sequences, some aborted at random points, with
 * prompts that share prefixes so leased sequences are reused. The tiny model is deterministic
 * under greedy decoding, so every answer that completes must be exactly the text it gives alone:
 * any other text means state leaked between sequences — stale KV cells (checked directly after
 * each round) or, the cause once seen here, one sequence sampling another's logits (see
 * docs/engines.md, llama-cpp).
 */

const slots = 4;
const rounds = 6;
const jobsPerRound = 40;

let engine: LlamaCppEngine;
let dotToken: number;
let sampling: SamplingWatch;

beforeAll(async () => {
  sampling = watchNativeSampling(await llamaRuntime('auto'));
  engine = new LlamaCppEngine({ id: 'stress', modelPath: tinyModelPath, parallel: slots, contextSize: 1024, threads: 1 });
  await engine.start();
  dotToken = await tinyTokenId('.');
});

afterAll(async () => {
  await engine?.close();
});

const digits = '0123456789';
const lower = 'abcdefghijklmnopqrstuvwxyz';
const upper = lower.toUpperCase();

/** What the tiny model writes after text ending in `last` (see src/engines/gguf/tiny-model.ts). */
function continuation(last: string): string {
  for (const run of [digits, lower, upper]) {
    const index = run.indexOf(last);
    if (index >= 0) return run.slice(index + 1) + '.';
  }
  return '.';
}

// Shared openings of different lengths, so a new prompt often extends (or diverges from) what a
// free sequence already holds. No "as", "us" or "sy": the tokenizer merges those.
const openings = [
  '',
  'Count: ',
  'Here we go. Count: ',
  'Here we go. Here we go. Here we go. Count: ',
  'The long preamble that many requests share, then a number. '.repeat(6) + 'Count: ',
  'Letters follow: ',
];
const endings = ['0', '3', '5', '7', '8', 'b', 'k', 'q', 'F', 'M', '12', '345', 'abc', 'wxy'];

type Kind = 'complete' | 'chat';
type Abort = { at: 'never' } | { at: 'before-start' } | { at: 'after-parts'; parts: number } | { at: 'after-ms'; ms: number } | { at: 'stop-reading'; parts: number };

interface Job {
  kind: Kind;
  prompt: string;
  /** '.' banned: runs to maxTokens, filling far KV positions. */
  endless: boolean;
  maxTokens: number;
  abort: Abort;
}

function planRound(random: () => number): Job[] {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  return Array.from({ length: jobsPerRound }, () => {
    const prompt = pick(openings) + pick(endings);
    const endless = random() < 0.25;
    const roll = random();
    const abort: Abort =
      roll < 0.45
        ? { at: 'never' }
        : roll < 0.55
          ? { at: 'before-start' }
          : roll < 0.75
            ? { at: 'after-parts', parts: Math.floor(random() * 40) }
            : roll < 0.9
              ? { at: 'after-ms', ms: Math.floor(random() * 30) }
              : { at: 'stop-reading', parts: Math.floor(random() * 20) };
    return { kind: random() < 0.5 ? 'complete' : 'chat', prompt, endless, maxTokens: endless ? 100 + Math.floor(random() * 400) : 64, abort };
  });
}

interface Outcome {
  job: Job;
  text: string;
  finish: GenerationPart | undefined;
}

async function run(job: Job): Promise<Outcome> {
  const controller = new AbortController();
  const common = {
    model: 'skylark-tiny',
    signal: controller.signal,
    requestId: 'stress',
    stream: true,
    temperature: 0,
    maxTokens: job.maxTokens,
    ...(job.endless ? { logitBias: { [String(dotToken)]: -100 } } : {}),
  };
  if (job.abort.at === 'before-start') controller.abort();
  if (job.abort.at === 'after-ms') setTimeout(() => controller.abort(), job.abort.ms);
  const parts =
    job.kind === 'complete'
      ? engine.complete({ ...common, prompt: job.prompt })
      : engine.chat({ ...common, messages: [{ role: 'user', content: job.prompt }] });
  let text = '';
  let finish: GenerationPart | undefined;
  let seen = 0;
  for await (const part of parts) {
    if (part.type === 'text-delta') text += part.text;
    if (part.type === 'finish' || part.type === 'error') finish = part;
    seen++;
    if (job.abort.at === 'after-parts' && seen === job.abort.parts) controller.abort();
    if (job.abort.at === 'stop-reading' && seen === job.abort.parts) break;
  }
  return { job, text, finish };
}

describe('llama.cpp sequences under concurrent, aborted and prefix-sharing load', () => {
  it('gives every completed generation exactly its deterministic answer', async () => {
    const random = mulberry32(0x57e55);
    const wrong: string[] = [];
    let completed = 0;
    for (let round = 0; round < rounds; round++) {
      const outcomes = await Promise.all(planRound(random).map(run));
      for (const { job, text, finish } of outcomes) {
        const expected = continuation(job.prompt.at(-1)!);
        if (finish?.type === 'finish' && finish.finishReason === 'stop' && !job.endless) {
          completed++;
          if (text !== expected) wrong.push(`${job.kind} ${JSON.stringify(job.prompt)}: ${JSON.stringify(text)} ≠ ${JSON.stringify(expected)}`);
        } else if (!job.endless) {
          // Cut short (abort, stop reading): what came is still the start of the answer.
          if (!expected.startsWith(text)) wrong.push(`${job.kind} ${JSON.stringify(job.prompt)} (cut): ${JSON.stringify(text)} ⊄ ${JSON.stringify(expected)}`);
        } else {
          // Endless: the known answer up to the banned '.', whatever the model picks after it.
          const known = expected.slice(0, -1);
          const head = text.slice(0, known.length);
          if (!known.startsWith(head)) wrong.push(`${job.kind} ${JSON.stringify(job.prompt)} (endless): ${JSON.stringify(text.slice(0, 40))} ⊄ ${JSON.stringify(known)}`);
        }
      }
      expect(engine.capacity()).toEqual({ slots, busy: 0 });
      wrong.push(...kvOutOfStep());
    }
    expect(wrong).toEqual([]);
    expect(completed).toBeGreaterThan(rounds * 10);
  }, 180_000);

  it('never lets a sample read the logits while another may still be reordering them', async () => {
    const before = sampling.samples;
    const jobs = Array.from({ length: 3 * slots }, (_, i): Job => ({
      kind: 'complete',
      // Different lengths, so batches mix prompt chunks with generated tokens (llama.cpp reorders those).
      prompt: openings[i % openings.length]! + endings[i % endings.length]!,
      endless: false,
      maxTokens: 64,
      abort: { at: 'never' },
    }));
    const outcomes = await Promise.all(jobs.map(run));
    for (const { job, text } of outcomes) expect(text).toBe(continuation(job.prompt.at(-1)!));
    expect(sampling.samples - before).toBeGreaterThan(jobs.length);
    expect(sampling.overlapping).toBe(0);
  });
});

interface SamplingWatch {
  samples: number;
  /** Native samples that ran while the first sample after a decode (the one that reorders) ran. */
  overlapping: number;
}

/**
 * Counts, at the native binding, samples that run alongside the first sample after a decode:
 * llama.cpp applies its pending output reorder in whichever logits read comes first, in place
 * and without a lock, so nothing else may read the logits until that one is done. Installed on
 * the binding's prototype before the engine starts, so it sees what the engine's guard lets through.
 */
function watchNativeSampling(llama: unknown): SamplingWatch {
  type Native = { decodeBatch(...args: unknown[]): Promise<unknown>; sampleToken(...args: unknown[]): Promise<unknown> };
  type NativeClass = new (...args: never[]) => Native;
  const bindings = (llama as { _bindings: { AddonContext: NativeClass } })._bindings;
  const watch: SamplingWatch = { samples: 0, overlapping: 0 };
  // The binding's prototype methods are read-only: watch through a subclass the contexts are built from.
  bindings.AddonContext = class WatchedContext extends bindings.AddonContext {
    private afterDecode = false;
    private firstRunning = false;
    private running = 0;

    override async decodeBatch(...args: unknown[]): Promise<unknown> {
      const result = await super.decodeBatch(...args);
      this.afterDecode = true;
      return result;
    }

    override sampleToken(...args: unknown[]): Promise<unknown> {
      const first = this.afterDecode;
      this.afterDecode = false;
      watch.samples++;
      if (this.firstRunning || (first && this.running > 0)) watch.overlapping++;
      this.running++;
      if (first) this.firstRunning = true;
      return super.sampleToken(...args).finally(() => {
        this.running--;
        if (first) this.firstRunning = false;
      });
    }
  };
  return watch;
}

/** Free sequences whose KV cells do not span exactly the tokens node-llama-cpp records for them. */
function kvOutOfStep(): string[] {
  type Sequence = { nextTokenIndex: number; _sequenceId: number; context: { _ctx: { getSequenceKvCacheMaxPosition(id: number): number; getSequenceKvCacheMinPosition(id: number): number } } };
  const free = (engine as unknown as { loaded: { pool: { free: Sequence[] } } }).loaded.pool.free;
  return free.flatMap((sequence) => {
    const native = sequence.context._ctx;
    const min = native.getSequenceKvCacheMinPosition(sequence._sequenceId);
    const max = native.getSequenceKvCacheMaxPosition(sequence._sequenceId);
    const expected = sequence.nextTokenIndex === 0 ? [-1, -1] : [0, sequence.nextTokenIndex - 1];
    return min === expected[0] && max === expected[1]
      ? []
      : [`sequence ${sequence._sequenceId}: KV cells [${min}, ${max}], recorded tokens ${sequence.nextTokenIndex}`];
  });
}
