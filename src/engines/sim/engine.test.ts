import { afterEach, describe, expect, it } from 'vitest';
import { estimateTokens } from '../../core/tokens.js';
import type { ChatGeneration, ChatMessage, GenerationPart } from '../engine.js';
import { createEngine, engineConfigSchema } from '../registry.js';
import { SimEngine, type SimEngineOptions } from './engine.js';

const engines: SimEngine[] = [];

async function started(options: Partial<SimEngineOptions> = {}): Promise<SimEngine> {
  const engine = new SimEngine({ id: 'sim-a', timeScale: 0.01, ...options });
  engines.push(engine);
  await engine.start();
  return engine;
}

afterEach(async () => {
  await Promise.all(engines.splice(0).map((engine) => engine.close()));
});

function chat(messages: ChatMessage[], overrides: Partial<ChatGeneration> = {}): ChatGeneration {
  return { model: 'sim-8b', messages, signal: new AbortController().signal, requestId: 'req-1', stream: true, ...overrides };
}

async function collect(parts: AsyncIterable<GenerationPart>): Promise<{ text: string; deltas: number; last: GenerationPart }> {
  let text = '';
  let deltas = 0;
  let last: GenerationPart | undefined;
  for await (const part of parts) {
    if (part.type === 'text-delta') {
      text += part.text;
      deltas++;
    }
    last = part;
  }
  return { text, deltas, last: last! };
}

const system: ChatMessage = { role: 'system', content: 'You are a helpful assistant for a travel agency. '.repeat(40) };

describe('SimEngine', () => {
  it("serves each generation's priority first under schedulingPolicy 'priority', as vLLM does", async () => {
    for (const schedulingPolicy of ['fcfs', 'priority'] as const) {
      const engine = await started({ slots: 1, schedulingPolicy, answerTokens: 10 });
      const done: string[] = [];
      const run = (name: string, priority: number) =>
        collect(engine.chat(chat([{ role: 'user', content: name }], { priority }))).then(() => done.push(name));
      // The occupier is admitted at once (its step is planned as it is enqueued); the other two wait for its slot.
      await Promise.all([run('occupier', 3), run('batch', 3), run('interactive', 1)]);
      expect(done).toEqual(schedulingPolicy === 'fcfs' ? ['occupier', 'batch', 'interactive'] : ['occupier', 'interactive', 'batch']);
    }
  });

  it('streams filler tokens as steps end and finishes with exact usage', async () => {
    // Half real time: 20 steps of ≈ 4 ms, slow enough that tokens arrive over several ticks.
    const engine = await started({ timeScale: 0.5 });
    const { text, deltas, last } = await collect(engine.chat(chat([system, { role: 'user', content: 'Hello?' }], { maxTokens: 20 })));
    expect(deltas).toBeGreaterThan(1);
    expect(text.trim().split(' ')).toHaveLength(20);
    expect(estimateTokens(text)).toBe(20);
    const promptTokens = estimateTokens(system.content) + 4 + estimateTokens('Hello?') + 4;
    expect(last).toEqual({ type: 'finish', finishReason: 'length', usage: { promptTokens, completionTokens: 20, cachedPromptTokens: 0 } });
    expect(engine.capacity()).toMatchObject({ slots: 256, busy: 0 });
  });

  it('stops on its own at answerTokens, deterministically', async () => {
    const engine = await started({ answerTokens: 12 });
    const request = chat([{ role: 'user', content: 'Tell me.' }]);
    const first = await collect(engine.chat(request));
    const second = await collect(engine.complete({ ...request, prompt: 'Tell me.' }));
    expect(first.last).toMatchObject({ type: 'finish', finishReason: 'stop', usage: { completionTokens: 12 } });
    expect(second.last).toMatchObject({ type: 'finish', finishReason: 'stop', usage: { completionTokens: 12 } });
    expect(first.text).toBe((await collect(engine.chat(request))).text);
  });

  it('serves the next turn of a conversation from the prefix cache', async () => {
    const engine = await started({ answerTokens: 64 });
    const turn1: ChatMessage[] = [system, { role: 'user', content: 'Where should I go in May?' }];
    const answer = await collect(engine.chat(chat(turn1)));
    const turn2 = [...turn1, { role: 'assistant' as const, content: answer.text }, { role: 'user' as const, content: 'And in June?' }];
    const { last } = await collect(engine.chat(chat(turn2)));
    if (last.type !== 'finish') throw new Error('expected a finish part');
    const firstTurnTokens = estimateTokens(system.content) + 4 + estimateTokens('Where should I go in May?') + 4 + 64;
    expect(last.usage.cachedPromptTokens).toBeGreaterThan(firstTurnTokens - 32);
    expect(last.usage.cachedPromptTokens).toBeLessThan(last.usage.promptTokens);
  });

  it('stops at once on abort and bills exactly the tokens streamed', async () => {
    const engine = await started({ answerTokens: 4000, timeScale: 0.05 });
    const controller = new AbortController();
    let text = '';
    let last: GenerationPart | undefined;
    for await (const part of engine.chat(chat([{ role: 'user', content: 'Go on.' }], { signal: controller.signal }))) {
      if (part.type === 'text-delta') {
        text += part.text;
        controller.abort();
      }
      last = part;
    }
    expect(last).toMatchObject({ type: 'finish', finishReason: 'abort' });
    if (last?.type !== 'finish') throw new Error('expected a finish part');
    expect(last.usage.completionTokens).toBe(estimateTokens(text));
    expect(last.usage.completionTokens).toBeLessThan(4000);
    expect(engine.load()).toMatchObject({ busy: 0, kvUsed: 0 });
  });

  it('frees the slot when the consumer stops reading', async () => {
    const engine = await started({ answerTokens: 4000, timeScale: 0.05 });
    for await (const part of engine.chat(chat([{ role: 'user', content: 'Go on.' }]))) {
      if (part.type === 'text-delta') break;
    }
    expect(engine.capacity().busy).toBe(0);
  });

  it('ends with error parts for prompts it cannot hold and before start', async () => {
    const engine = await started({ kvTokens: 2048 });
    const huge = await collect(engine.chat(chat([{ role: 'user', content: 'x'.repeat(9000) }])));
    expect(huge.last).toMatchObject({ type: 'error', error: { code: 'context_length_exceeded' } });
    const idle = new SimEngine({ id: 'sim-b' });
    const early = await collect(idle.chat(chat([{ role: 'user', content: 'Hi' }])));
    expect(early.last).toMatchObject({ type: 'error', error: { code: 'engine_unavailable' } });
    await expect(engine.embed()).rejects.toMatchObject({ code: 'invalid_request' });
  });

  it('is registered as kind sim, with checked options', async () => {
    const context = { resolvePath: (path: string) => path, env: {} };
    const engine = await createEngine('s1', engineConfigSchema.parse({ kind: 'sim', preset: '70b-4xh100', slots: 64, timeScale: 0.1 }), context);
    expect(engine).toBeInstanceOf(SimEngine);
    expect(engine.kind).toBe('sim');
    expect(engine.capacity()).toMatchObject({ slots: 64, busy: 0 });
    expect(engineConfigSchema.safeParse({ kind: 'sim', timeScale: 0 }).success).toBe(false);
    expect(engineConfigSchema.safeParse({ kind: 'sim', preset: 'gpt-5' }).success).toBe(false);
  });
});
