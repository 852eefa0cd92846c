import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeUpstream, type FakeUpstream } from '../../../test/support/fake-upstream.js';
import { estimateTokens } from '../../core/tokens.js';
import type { ChatGeneration, CompletionGeneration, GenerationPart } from '../engine.js';
import { OpenAICompatibleEngine } from './engine.js';

let upstream: FakeUpstream;
let engine: OpenAICompatibleEngine;

beforeAll(async () => {
  upstream = await startFakeUpstream();
  engine = new OpenAICompatibleEngine({
    id: 'remote-a',
    baseUrl: upstream.url,
    apiKey: 'sk-upstream',
    headers: { 'X-Tenant-Route': 'blue' },
  });
  await engine.start();
});

afterAll(async () => {
  await engine.close();
  await upstream.close();
});

afterEach(() => {
  upstream.requests.length = 0;
});

function chat(overrides: Partial<ChatGeneration> = {}): ChatGeneration {
  return {
    model: 'fake-ok',
    messages: [{ role: 'user', content: 'Say hello.' }],
    signal: new AbortController().signal,
    requestId: 'req-1',
    stream: true,
    ...overrides,
  };
}

function completion(overrides: Partial<CompletionGeneration> = {}): CompletionGeneration {
  return { model: 'fake-ok', prompt: 'Once upon', signal: new AbortController().signal, requestId: 'req-2', stream: true, ...overrides };
}

async function collect(parts: AsyncIterable<GenerationPart>): Promise<GenerationPart[]> {
  const out: GenerationPart[] = [];
  for await (const part of parts) out.push(part);
  return out;
}

function text(parts: GenerationPart[], type: 'text-delta' | 'reasoning-delta' = 'text-delta'): string {
  return parts.map((p) => (p.type === type ? p.text : '')).join('');
}

describe('OpenAICompatibleEngine: streaming chat', () => {
  it('yields the upstream chunks in order, then one finish with the upstream usage', async () => {
    const parts = await collect(engine.chat(chat()));
    expect(parts.slice(0, -1)).toEqual(
      ['Hell', 'o fr', 'om u', 'pstr', 'eam.'].map((t) => ({ type: 'text-delta', text: t })),
    );
    expect(parts.at(-1)).toEqual({
      type: 'finish',
      finishReason: 'stop',
      usage: { promptTokens: 17, completionTokens: 5, cachedPromptTokens: 4 },
    });
  });

  it('yields parts before the upstream has finished (no buffering)', async () => {
    const controller = new AbortController();
    const iterator = engine.chat(chat({ model: 'fake-stall-mid-stream', signal: controller.signal }))[Symbol.asyncIterator]();
    // The fake sends two chunks and then nothing: both must arrive while the stream is open.
    expect((await iterator.next()).value).toEqual({ type: 'text-delta', text: 'Hell' });
    expect((await iterator.next()).value).toEqual({ type: 'text-delta', text: 'o fr' });
    controller.abort();
    expect((await iterator.next()).value).toMatchObject({ type: 'finish', finishReason: 'abort' });
    expect((await iterator.next()).done).toBe(true);
  });

  it('sends the mapped request body, stream_options, Authorization and extra headers', async () => {
    await collect(
      engine.chat(
        chat({
          messages: [
            { role: 'system', content: 'Be brief.' },
            { role: 'user', content: 'Weather?', name: 'alice' },
            { role: 'assistant', content: '', toolCalls: [{ id: 'call_1', name: 'get_weather', arguments: '{"city":"Oslo"}' }] },
            { role: 'tool', content: '{"temp":3}', toolCallId: 'call_1' },
          ],
          tools: [{ name: 'get_weather', description: 'Weather by city', parameters: { type: 'object' }, strict: true }],
          toolChoice: { name: 'get_weather' },
          parallelToolCalls: false,
          responseFormat: { type: 'json_schema', name: 'w', schema: { type: 'object' }, strict: true },
          maxTokens: 64,
          temperature: 0.2,
          topP: 0.9,
          stop: ['END'],
          seed: 42,
          presencePenalty: 0.1,
          frequencyPenalty: 0.3,
          logitBias: { '50256': -100 },
          user: 'tenant-9',
        }),
      ),
    );
    const [recorded] = upstream.requests;
    expect(recorded?.path).toBe('/v1/chat/completions');
    expect(recorded?.headers.authorization).toBe('Bearer sk-upstream');
    expect(recorded?.headers['x-tenant-route']).toBe('blue');
    expect(recorded?.headers['x-request-id']).toBe('req-1');
    expect(recorded?.body).toEqual({
      model: 'fake-ok',
      stream: true,
      stream_options: { include_usage: true },
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Weather?', name: 'alice' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }],
        },
        { role: 'tool', content: '{"temp":3}', tool_call_id: 'call_1' },
      ],
      tools: [
        {
          type: 'function',
          function: { name: 'get_weather', description: 'Weather by city', parameters: { type: 'object' }, strict: true },
        },
      ],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
      parallel_tool_calls: false,
      response_format: { type: 'json_schema', json_schema: { name: 'w', schema: { type: 'object' }, strict: true } },
      max_tokens: 64,
      temperature: 0.2,
      top_p: 0.9,
      stop: ['END'],
      seed: 42,
      presence_penalty: 0.1,
      frequency_penalty: 0.3,
      logit_bias: { '50256': -100 },
      user: 'tenant-9',
    });
  });

  it('omits undefined fields and stream_options on a non-streaming request', async () => {
    await collect(engine.chat(chat({ stream: false, toolChoice: 'none', responseFormat: { type: 'json_object' } })));
    expect(upstream.requests[0]?.body).toEqual({
      model: 'fake-ok',
      stream: false,
      messages: [{ role: 'user', content: 'Say hello.' }],
      tool_choice: 'none',
      response_format: { type: 'json_object' },
    });
  });

  it('passes image content parts through to the upstream', async () => {
    const contentParts = [
      { type: 'text' as const, text: 'What is this?' },
      { type: 'image_url' as const, image_url: { url: 'data:image/png;base64,AAAA' } },
    ];
    await collect(engine.chat(chat({ messages: [{ role: 'user', content: 'What is this?', contentParts }] })));
    expect((upstream.requests[0]?.body as { messages: unknown[] }).messages[0]).toEqual({ role: 'user', content: contentParts });
  });

  it('streams tool calls as tool-call-deltas with finish tool_calls', async () => {
    const parts = await collect(engine.chat(chat({ model: 'fake-tools' })));
    expect(parts).toEqual([
      { type: 'tool-call-delta', index: 0, id: 'call_fake_1', name: 'get_weather', argumentsDelta: '' },
      { type: 'tool-call-delta', index: 0, argumentsDelta: '{"city":' },
      { type: 'tool-call-delta', index: 0, argumentsDelta: '"Paris"}' },
      { type: 'finish', finishReason: 'tool_calls', usage: { promptTokens: 30, completionTokens: 9, cachedPromptTokens: 0 } },
    ]);
  });

  it("streams reasoning_content as reasoning-deltas and reads DeepSeek's cache-hit usage", async () => {
    const parts = await collect(engine.chat(chat({ model: 'fake-reasoning' })));
    expect(parts.map((p) => p.type)).toEqual([
      'reasoning-delta', 'reasoning-delta', 'text-delta', 'text-delta', 'finish',
    ]);
    expect(text(parts, 'reasoning-delta')).toBe('Thinking hard.');
    expect(text(parts)).toBe('The answer is 42.');
    expect(parts.at(-1)).toMatchObject({ usage: { promptTokens: 20, completionTokens: 12, cachedPromptTokens: 8 } });
  });

  it('estimates usage locally when the upstream reports none', async () => {
    const parts = await collect(engine.chat(chat({ model: 'fake-no-usage' })));
    expect(parts.at(-1)).toEqual({
      type: 'finish',
      finishReason: 'stop',
      usage: {
        promptTokens: estimateTokens('Say hello.'),
        completionTokens: estimateTokens('Hello from upstream.'),
        cachedPromptTokens: 0,
      },
    });
  });
});

describe('OpenAICompatibleEngine: non-streaming chat', () => {
  it('yields the same text and usage as the streamed answer', async () => {
    const streamed = await collect(engine.chat(chat()));
    const whole = await collect(engine.chat(chat({ stream: false })));
    expect(whole).toEqual([{ type: 'text-delta', text: 'Hello from upstream.' }, streamed.at(-1)]);
    expect(text(whole)).toBe(text(streamed));
  });

  it('yields tool calls and reasoning from the JSON response', async () => {
    const tools = await collect(engine.chat(chat({ model: 'fake-tools', stream: false })));
    expect(tools).toEqual([
      { type: 'tool-call-delta', index: 0, id: 'call_fake_1', name: 'get_weather', argumentsDelta: '{"city":"Paris"}' },
      { type: 'finish', finishReason: 'tool_calls', usage: { promptTokens: 30, completionTokens: 9, cachedPromptTokens: 0 } },
    ]);
    const reasoning = await collect(engine.chat(chat({ model: 'fake-reasoning', stream: false })));
    expect(reasoning.slice(0, 2)).toEqual([
      { type: 'reasoning-delta', text: 'Thinking hard.' },
      { type: 'text-delta', text: 'The answer is 42.' },
    ]);
  });

  it('estimates usage when the JSON response has none', async () => {
    const parts = await collect(engine.chat(chat({ model: 'fake-no-usage', stream: false })));
    expect(parts.at(-1)).toMatchObject({ usage: { promptTokens: estimateTokens('Say hello.'), completionTokens: estimateTokens('Hello from upstream.') } });
  });
});

describe('OpenAICompatibleEngine: completions', () => {
  it('streams /completions and maps prompt, echo and suffix', async () => {
    const parts = await collect(engine.complete(completion({ echo: false, suffix: 'the end', maxTokens: 8 })));
    expect(text(parts)).toBe('Hello from upstream.');
    expect(parts.at(-1)).toMatchObject({ type: 'finish', finishReason: 'stop', usage: { promptTokens: 17, completionTokens: 5 } });
    expect(upstream.requests[0]?.path).toBe('/v1/completions');
    expect(upstream.requests[0]?.body).toEqual({
      model: 'fake-ok', prompt: 'Once upon', stream: true, stream_options: { include_usage: true },
      echo: false, suffix: 'the end', max_tokens: 8,
    });
  });

  it('answers a non-streaming completion', async () => {
    const parts = await collect(engine.complete(completion({ stream: false })));
    expect(parts).toEqual([
      { type: 'text-delta', text: 'Hello from upstream.' },
      { type: 'finish', finishReason: 'stop', usage: { promptTokens: 17, completionTokens: 5, cachedPromptTokens: 4 } },
    ]);
  });
});

describe("OpenAICompatibleEngine: vLLM's priority field", () => {
  it('is left out unless the engine is configured with sendPriority', async () => {
    await collect(engine.chat(chat({ priority: 3 })));
    await collect(engine.complete(completion({ priority: 3 })));
    expect(upstream.requests.map((request) => (request.body as Record<string, unknown>).priority)).toEqual([undefined, undefined]);
  });

  it('is sent for chat and completions with sendPriority, and only when the request has one', async () => {
    const vllm = new OpenAICompatibleEngine({ id: 'vllm-priority', baseUrl: upstream.url, sendPriority: true });
    await vllm.start();
    try {
      await collect(vllm.chat(chat({ priority: 3 })));
      await collect(vllm.complete(completion({ priority: 0 })));
      await collect(vllm.chat(chat()));
      const sent = upstream.requests.map((request) => request.body as Record<string, unknown>);
      expect(sent.map((body) => body.priority)).toEqual([3, 0, undefined]);
      expect('priority' in sent[2]!).toBe(false);
    } finally {
      await vllm.close();
    }
  });
});

describe('OpenAICompatibleEngine: embeddings', () => {
  it('returns vectors in input order and the upstream prompt tokens', async () => {
    const result = await engine.embed({
      model: 'fake-ok', input: ['a', 'bbb', 'cc'], dimensions: 3, signal: new AbortController().signal, requestId: 'req-3',
    });
    expect(result).toEqual({ embeddings: [[0, 1, 0.5], [1, 3, 0.5], [2, 2, 0.5]], promptTokens: 6 });
    expect(upstream.requests[0]?.body).toEqual({ model: 'fake-ok', input: ['a', 'bbb', 'cc'], encoding_format: 'float', dimensions: 3 });
  });

  it('estimates prompt tokens when the upstream reports none', async () => {
    const result = await engine.embed({ model: 'fake-no-usage', input: ['hello', 'world!'], signal: new AbortController().signal, requestId: 'r' });
    expect(result.promptTokens).toBe(estimateTokens('hello') + estimateTokens('world!'));
    expect(result.embeddings).toHaveLength(2);
  });
});

describe('OpenAICompatibleEngine: lifecycle and connections', () => {
  it('reports loading before start, ready after (upstream not needed), failed after close', async () => {
    const idle = new OpenAICompatibleEngine({ id: 'x', baseUrl: 'http://127.0.0.1:9/v1', maxConnections: 3 });
    expect(idle.health()).toEqual({ state: 'loading' });
    await idle.start();
    expect(idle.health()).toEqual({ state: 'ready' });
    expect(idle.capacity()).toEqual({ slots: 3, busy: 0 });
    await idle.close();
    expect(idle.health().state).toBe('failed');
    const parts = await collect(idle.chat(chat()));
    expect(parts).toHaveLength(1);
    expect(parts[0]).toMatchObject({ type: 'error', error: { code: 'engine_unavailable' } });
  });

  it('counts running generations as busy', async () => {
    const controller = new AbortController();
    const iterator = engine.chat(chat({ model: 'fake-stall-mid-stream', signal: controller.signal }))[Symbol.asyncIterator]();
    await iterator.next();
    expect(engine.capacity()).toEqual({ slots: 64, busy: 1 });
    controller.abort();
    while (!(await iterator.next()).done) {
      /* drain to the terminal part */
    }
    expect(engine.capacity().busy).toBe(0);
  });

  it('reuses one keep-alive connection for sequential requests', async () => {
    const fake = await startFakeUpstream();
    const local = new OpenAICompatibleEngine({ id: 'k', baseUrl: fake.url });
    await local.start();
    try {
      for (let i = 0; i < 5; i++) {
        await collect(local.chat(chat({ stream: i % 2 === 0 })));
        // undici marks the connection free again on its next tick; a request sent in the
        // same tick would legitimately open a second one.
        await new Promise((resolve) => setImmediate(resolve));
      }
      expect(fake.requests).toHaveLength(5);
      expect(fake.connections()).toBe(1);
    } finally {
      await local.close();
      await fake.close();
    }
  });
});
