/**
 * What llama.cpp really keeps for a cached context (docs/engines.md): prefillChat evaluates
 * the context's prompt into a free sequence, and the next request that starts with it is
 * leased that sequence and reuses its KV cache — reported as the engine's cachedPromptTokens.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ChatGeneration, GenerationPart } from '../src/engines/engine.js';
import { LlamaCppEngine } from '../src/engines/llama-cpp/engine.js';
import { tinyModelPath } from './support/paths.js';

let engine: LlamaCppEngine;
beforeAll(async () => {
  engine = new LlamaCppEngine({ id: 'prefill', modelPath: tinyModelPath, parallel: 4, contextSize: 2048, threads: 1 });
  await engine.start();
});
afterAll(async () => {
  await engine?.close();
});

const system = Array.from({ length: 12 }, (_, i) => `Rule ${i}: answer with digits only.`).join(' ');
const request = (messages: ChatGeneration['messages']): ChatGeneration => ({
  model: 'tiny', messages, signal: new AbortController().signal, requestId: 'r', stream: false, maxTokens: 3, temperature: 0,
});

async function finish(parts: AsyncIterable<GenerationPart>) {
  let last: GenerationPart | undefined;
  for await (const part of parts) last = part;
  if (last?.type !== 'finish') throw new Error(`ended with ${JSON.stringify(last)}`);
  return last.usage;
}

it('keeps a prefilled context in a sequence: the next request on it reuses all but the diverging tail', async () => {
  const context = [{ role: 'system' as const, content: system }];
  const prefilled = await engine.prefillChat(request(context));
  expect(prefilled).toEqual({ promptTokens: await engine.countChatTokens(request(context)), cachedTokens: 0 });

  const usage = await finish(engine.chat(request([...context, { role: 'user', content: 'Count: 7' }])));
  // Everything up to where the context's render (ending in the assistant's turn) and the
  // request's (a user turn next) part ways: a handful of tokens short of the whole context.
  expect(usage.cachedPromptTokens).toBeGreaterThan(prefilled.promptTokens - 10);
  expect(usage.cachedPromptTokens).toBeLessThanOrEqual(prefilled.promptTokens);

  // A prefill of the same context again finds it cached.
  expect((await engine.prefillChat(request(context))).cachedTokens).toBeGreaterThan(prefilled.promptTokens - 10);
});
