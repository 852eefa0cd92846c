/**
 * Decoding throughput of the built-in tiny model through the real LlamaCppEngine, in
 * process: aggregate tokens/s with 1, 4, 8 and 16 concurrent streams against one stream
 * (the baseline), and time to first token. Run: npm run bench:engine [-- --quick]
 *
 * The tiny model ends every answer at "…z." (greedy). Banning "." and the end-of-generation
 * tokens with logit_bias makes it cycle through the alphabet instead, so every request
 * generates exactly --tokens tokens.
 *
 * Two ways of loading it, because they answer different questions:
 *  - rounds: the N streams start together, each generates --tokens, the next round starts
 *    when all are done. Every step decodes a full batch: what batching itself delivers.
 *  - sustained: each stream starts its next request the moment its last one ends, as
 *    independent clients do. A new request then joins a batch that is already decoding,
 *    which is where time to first token under load shows.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildTinyVocab, writeTinyModel } from '../src/engines/gguf/tiny-model.js';
import { LlamaCppEngine } from '../src/engines/llama-cpp/engine.js';
import { benchArgs } from './lib/args.js';
import { describeMachine } from './lib/machine.js';
import { machineBusyMs, selfCpuMs } from './lib/processes.js';
import { fixed, Samples, table, thousands } from './lib/stats.js';

const args = benchArgs({ duration: 8, warmup: 2, quickDuration: 2, quickWarmup: 1 }, ['tokens', 'streams', 'parallel', 'modes', 'flash-attention', 'threads']);
const tokensPerRequest = Number(args.values.tokens ?? 128);
const levels = String(args.values.streams ?? '1,4,8,16').split(',').map(Number);
const modes = String(args.values.modes ?? 'rounds,sustained').split(',') as Mode[];
const parallel = Number(args.values.parallel ?? Math.max(...levels));
const flashAttention = args.values['flash-attention'] === undefined ? 'auto' : args.values['flash-attention'] === 'true';
const threads = Number(args.values.threads ?? 1);
const goal = { streams: 8, speedup: 3 };

type Mode = 'rounds' | 'sustained';
const vocab = buildTinyVocab();
const banEnd = { '46': -100, [String(vocab.imEndId)]: -100, [String(vocab.endOfTextId)]: -100 }; // 46 = "."

interface Level {
  mode: Mode;
  streams: number;
  tokens: number;
  requests: number;
  failed: number;
  seconds: number;
  ttft: Samples;
  /** Mean gap between a request's tokens after its first (ms). */
  interToken: Samples;
  /** CPU time of this whole process (JS thread + llama.cpp threads) per generated token. */
  cpuMsPerToken: number;
  /** Cores' worth of CPU other processes on the machine used meanwhile (noise, if > ~0.1). */
  otherLoad: number;
}

let nextId = 0;

async function generate(engine: LlamaCppEngine, level: Level): Promise<void> {
  const start = performance.now();
  let ttft = Number.NaN;
  let tokens = 0;
  let ok = false;
  for await (const part of engine.complete({
    model: 'skylark-tiny', prompt: 'a', maxTokens: tokensPerRequest, temperature: 0, logitBias: banEnd,
    signal: new AbortController().signal, requestId: `bench-${nextId++}`, stream: true,
  })) {
    if (part.type === 'text-delta' && Number.isNaN(ttft)) ttft = performance.now() - start;
    if (part.type === 'finish') {
      tokens = part.usage.completionTokens;
      ok = part.finishReason === 'length';
    }
    if (part.type === 'error') process.stderr.write(`generation failed: ${part.error.message}\n`);
  }
  level.requests++;
  level.tokens += tokens;
  if (!ok) level.failed++;
  level.ttft.add(ttft);
  if (tokens > 1) level.interToken.add((performance.now() - start - ttft) / (tokens - 1));
}

/** Load the engine with `streams` streams for about `seconds` (requests in flight then finish and count). */
async function run(engine: LlamaCppEngine, mode: Mode, streams: number, seconds: number): Promise<Level> {
  const level: Level = { mode, streams, tokens: 0, requests: 0, failed: 0, seconds: 0, ttft: new Samples(), interToken: new Samples(), cpuMsPerToken: 0, otherLoad: 0 };
  const cpuBefore = selfCpuMs();
  const machineBefore = machineBusyMs();
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const all = () => Promise.all(Array.from({ length: streams }, () => generate(engine, level)));
  if (mode === 'rounds') {
    do await all();
    while (performance.now() < deadline);
  } else {
    await Promise.all(Array.from({ length: streams }, async () => {
      while (performance.now() < deadline) await generate(engine, level);
    }));
  }
  level.seconds = (performance.now() - started) / 1000;
  const ownMs = selfCpuMs() - cpuBefore;
  level.cpuMsPerToken = ownMs / level.tokens;
  level.otherLoad = Math.max(0, machineBusyMs() - machineBefore - ownMs) / (level.seconds * 1000);
  return level;
}

function report(results: Level[]): void {
  const rate = (r: Level) => r.tokens / r.seconds;
  for (const mode of modes) {
    const rows = results.filter((r) => r.mode === mode);
    const baseline = rows.find((r) => r.streams === 1);
    console.log(`\n${mode === 'rounds' ? 'Rounds (streams start together; full batches)' : 'Sustained (each stream starts its next request at once)'}\n`);
    console.log(table(
      ['streams', 'tokens/s (all)', 'per stream', 'speedup vs 1', 'TTFT p50 ms', 'TTFT p99 ms', 'inter-token p50 ms', 'CPU ms/token', 'other procs', 'requests', 'errors'],
      rows.map((r) => [
        String(r.streams), thousands(rate(r)), thousands(rate(r) / r.streams),
        baseline ? `${fixed(rate(r) / rate(baseline))}×` : '–',
        fixed(r.ttft.percentile(50)), fixed(r.ttft.percentile(99)), fixed(r.interToken.percentile(50), 3),
        fixed(r.cpuMsPerToken, 3), `${fixed(r.otherLoad * 100, 0)}%`, String(r.requests), String(r.failed),
      ]),
    ));
  }
  const noisy = Math.max(...results.map((r) => r.otherLoad));
  if (noisy > 0.1) console.log(`\nWARNING: other processes used up to ${fixed(noisy * 100, 0)}% of a core during a row; figures are pessimistic.`);
  console.log('\nGoal');
  for (const mode of modes) {
    const baseline = results.find((r) => r.mode === mode && r.streams === 1);
    const target = results.find((r) => r.mode === mode && r.streams === goal.streams);
    if (!baseline || !target) continue;
    const speedup = rate(target) / rate(baseline);
    console.log(`  [${speedup >= goal.speedup ? 'met   ' : 'MISSED'}] ${mode}: ${goal.streams} concurrent streams ≥ ${goal.speedup}× the tokens/s of one: ${fixed(speedup)}×`);
  }
}

async function main(): Promise<void> {
  console.log(`bench:engine — ${describeMachine()}`);
  console.log(`LlamaCppEngine(parallel ${parallel}, threads ${threads}, flash attention ${flashAttention}), skylark-tiny; ${tokensPerRequest} tokens per request;` +
    ` ${args.duration} s per row after ${args.warmup} s warm-up`);
  const dir = await mkdtemp(join(tmpdir(), 'skylark-bench-engine-'));
  const modelPath = join(dir, 'skylark-tiny.gguf');
  await writeTinyModel(modelPath);
  const engine = new LlamaCppEngine({ id: 'bench', modelPath, parallel, threads, flashAttention, contextSize: Math.max(512, tokensPerRequest + 64) });
  try {
    const loadStart = performance.now();
    await engine.start();
    console.log(`engine loaded in ${fixed(performance.now() - loadStart, 0)} ms`);
    // Warm the single-stream and the fully batched paths before anything is measured.
    await run(engine, 'rounds', 1, args.warmup / 2);
    await run(engine, 'rounds', Math.max(...levels), args.warmup / 2);
    const results: Level[] = [];
    for (const mode of modes) {
      for (const streams of levels) {
        const level = await run(engine, mode, streams, args.duration);
        results.push(level);
        process.stderr.write(`  ${mode.padEnd(9)} ${String(streams).padStart(2)} streams: ${thousands(level.tokens / level.seconds)} tokens/s\n`);
      }
    }
    report(results);
  } finally {
    await engine.close();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
