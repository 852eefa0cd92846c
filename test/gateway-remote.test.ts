import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APIError } from 'openai';
import { startFakeUpstream, type FakeUpstream } from './support/fake-upstream.js';
import { expectOpenAI } from './support/openapi-schemas.js';
import { startTestPlatform, type TestPlatform } from './support/platform.js';

let upstream: FakeUpstream;
let sky: TestPlatform;

const remoteModel = (id: string, upstreamModel: string, extra: Record<string, unknown> = {}) => ({
  id,
  engine: 'remote',
  upstreamModel,
  family: 'deepseek',
  tier: 'pro',
  contextWindow: 65536,
  capabilities: ['chat', 'completions', 'embeddings', 'tools', 'vision'],
  ...extra,
});

beforeAll(async () => {
  upstream = await startFakeUpstream();
  sky = await startTestPlatform({
    engines: {
      remote: {
        kind: 'openai-compatible',
        baseUrl: upstream.url,
        apiKey: 'sk-upstream-secret',
        firstByteTimeoutMs: 300,
        idleTimeoutMs: 300,
      },
      // A vLLM run with --scheduling-policy priority (docs/engines.md).
      vllm: { kind: 'openai-compatible', baseUrl: upstream.url, sendPriority: true },
    },
    models: [
      remoteModel('pro-32k', 'fake-ok'),
      remoteModel('broken', 'fake-500'),
      remoteModel('busy', 'fake-429'),
      remoteModel('too-long', 'fake-400-context'),
      remoteModel('slow', 'fake-slow-headers'),
      remoteModel('garbage', 'fake-garbage-sse'),
      remoteModel('cut', 'fake-disconnect'),
      remoteModel('tools', 'fake-tools'),
      remoteModel('reasoner', 'fake-reasoning'),
      remoteModel('silent', 'fake-no-usage'),
      remoteModel('prioritized', 'fake-ok', { engine: 'vllm' }),
    ],
  });
});

afterAll(async () => {
  await sky?.close();
  await upstream?.close();
});

describe('gateway over an OpenAI-compatible upstream', () => {
  it('answers a chat completion with the upstream text, mapped model name and upstream usage', async () => {
    const response = await sky.client.chat.completions.create({
      model: 'pro-32k',
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 20,
    });
    expectOpenAI('CreateChatCompletionResponse', response);
    expect(response.model).toBe('pro-32k');
    expect(response.choices[0]!.message.content).toBe('Hello from upstream.');
    expect(response.usage).toMatchObject({ prompt_tokens: 17, completion_tokens: 5, total_tokens: 22 });
    expect(response.usage!.prompt_tokens_details!.cached_tokens).toBe(4);
    const sent = upstream.requests.at(-1)!;
    expect(sent.headers.authorization).toBe('Bearer sk-upstream-secret');
    expect(sent.body).toMatchObject({ model: 'fake-ok', max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] });
  });

  it("sends the request's tier as vLLM's priority only to an engine configured with sendPriority", async () => {
    await sky.client.chat.completions.create({ model: 'prioritized', messages: [{ role: 'user', content: 'hi' }] });
    // The test tenant is in the priority tier: 0 (priority 0, standard 1, free 2, batch 3).
    expect(upstream.requests.at(-1)!.body).toMatchObject({ model: 'fake-ok', priority: 0 });
    await sky.client.completions.create({ model: 'prioritized', prompt: 'Once' });
    expect(upstream.requests.at(-1)!.body).toMatchObject({ prompt: 'Once', priority: 0 });
    await sky.client.chat.completions.create({ model: 'pro-32k', messages: [{ role: 'user', content: 'hi' }] });
    expect(upstream.requests.at(-1)!.body).not.toHaveProperty('priority');
  });

  it('streams chunk by chunk, every chunk valid, usage last when asked for', async () => {
    const stream = await sky.client.chat.completions.create({
      model: 'pro-32k',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of stream) {
      expectOpenAI('CreateChatCompletionStreamResponse', chunk);
      chunks.push(chunk);
    }
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    expect(text).toBe('Hello from upstream.');
    expect(chunks[0]!.choices[0]!.delta.role).toBe('assistant');
    expect(chunks.at(-2)!.choices[0]!.finish_reason).toBe('stop');
    expect(chunks.at(-1)!.choices).toEqual([]);
    expect(chunks.at(-1)!.usage).toMatchObject({ prompt_tokens: 17, completion_tokens: 5 });
    expect(upstream.requests.at(-1)!.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  });

  it('passes tool calls through, streamed and not', async () => {
    const tools = [
      {
        type: 'function' as const,
        function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
      },
    ];
    const response = await sky.client.chat.completions.create({
      model: 'tools',
      messages: [{ role: 'user', content: 'weather in Paris?' }],
      tools,
    });
    expectOpenAI('CreateChatCompletionResponse', response);
    expect(response.choices[0]!.finish_reason).toBe('tool_calls');
    const call = response.choices[0]!.message.tool_calls![0]!;
    expect(call.type === 'function' && call.function).toEqual({ name: 'get_weather', arguments: '{"city":"Paris"}' });
    expect(upstream.requests.at(-1)!.body).toMatchObject({ tools });

    const stream = await sky.client.chat.completions.create({
      model: 'tools',
      messages: [{ role: 'user', content: 'weather in Paris?' }],
      tools,
      stream: true,
    });
    let args = '';
    let finish: string | null = null;
    for await (const chunk of stream) {
      expectOpenAI('CreateChatCompletionStreamResponse', chunk);
      args += chunk.choices[0]?.delta.tool_calls?.[0]?.function?.arguments ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(JSON.parse(args)).toEqual({ city: 'Paris' });
    expect(finish).toBe('tool_calls');
  });

  it('carries reasoning separately from the answer', async () => {
    const response = await sky.client.chat.completions.create({
      model: 'reasoner',
      messages: [{ role: 'user', content: 'think' }],
    });
    const message = response.choices[0]!.message as { content: string; reasoning_content?: string };
    expect(message.reasoning_content).toBeTruthy();
    expect(message.content).toBeTruthy();
  });

  it('estimates usage when the upstream reports none', async () => {
    const response = await sky.client.chat.completions.create({
      model: 'silent',
      messages: [{ role: 'user', content: 'hello there' }],
    });
    expect(response.usage!.prompt_tokens).toBeGreaterThan(0);
    expect(response.usage!.completion_tokens).toBeGreaterThan(0);
  });

  it('maps upstream failures to clear gateway errors with the right status', async () => {
    const cases: Array<[string, number, string]> = [
      ['broken', 502, 'upstream_error'],
      ['busy', 429, 'rate_limit_exceeded'],
      ['too-long', 400, 'context_length_exceeded'],
      ['slow', 504, 'upstream_timeout'],
      ['garbage', 502, 'upstream_bad_response'],
    ];
    for (const [model, status, code] of cases) {
      const response = await sky.request('/v1/chat/completions', {
        method: 'POST',
        // The garbage scenario fails before headers only in JSON mode; streamed, it sends two
        // good chunks first and ends with an error event (covered by the engine's own tests).
        body: JSON.stringify({ model, messages: [{ role: 'user', content: 'x' }], stream: model !== 'garbage' }),
      });
      const body = await response.json();
      expect({ model, status: response.status, code: body.error?.code }).toEqual({ model, status, code });
      expectOpenAI('ErrorResponse', body);
      if (model === 'busy') expect(response.headers.get('retry-after')).toBe('7');
    }
  });

  it('ends a stream cut by the upstream with an error event, not a silent [DONE]', async () => {
    const stream = await sky.client.chat.completions.create({
      model: 'cut',
      messages: [{ role: 'user', content: 'x' }],
      stream: true,
    });
    const error = await (async () => {
      try {
        for await (const _chunk of stream) {
          // reading until the error event
        }
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(APIError);
    expect(String((error as Error).message)).toMatch(/upstream/i);
  });

  it('frees the upstream stream when the client disconnects', async () => {
    const controller = new AbortController();
    const response = await fetch(`${sky.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${'sk-test-admin-key-0123456789'}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'slow', messages: [{ role: 'user', content: 'x' }] }),
      signal: controller.signal,
    }).catch((error: unknown) => error);
    // 'slow' never answers: the gateway times out at 300 ms and returns 504.
    expect((response as Response).status).toBe(504);
    await expect.poll(() => upstream.activeStreams(), { timeout: 5000 }).toBe(0);
  });

  it('serves text completions and embeddings (float and base64)', async () => {
    const completion = await sky.client.completions.create({ model: 'pro-32k', prompt: 'Say hi' });
    expectOpenAI('CreateCompletionResponse', completion);
    expect(completion.choices[0]!.text).toBe('Hello from upstream.');

    const floats = await sky.client.embeddings.create({ model: 'pro-32k', input: ['a', 'b'], encoding_format: 'float' });
    expectOpenAI('CreateEmbeddingResponse', floats);
    expect(floats.data).toHaveLength(2);
    const raw = await sky.request('/v1/embeddings', {
      method: 'POST',
      body: JSON.stringify({ model: 'pro-32k', input: 'a', encoding_format: 'base64' }),
    });
    const body = await raw.json();
    const bytes = Buffer.from(body.data[0].embedding, 'base64');
    const decoded = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
    expect(decoded.length).toBe(floats.data[0]!.embedding.length);
  });

  it('passes images through to a vision model', async () => {
    await sky.client.chat.completions.create({
      model: 'pro-32k',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'what is this?' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
          ],
        },
      ],
    });
    const sent = upstream.requests.at(-1)!.body as { messages: Array<{ content: unknown }> };
    expect(sent.messages[0]!.content).toEqual([
      { type: 'text', text: 'what is this?' },
      { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
    ]);
  });
});
