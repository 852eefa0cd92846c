import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectOpenAI } from './support/openapi-schemas.js';
import { startTestPlatform, tinyModelConfig, type TestPlatform } from './support/platform.js';
import { tinyTokenId } from './support/tiny-vocab.js';

let sky: TestPlatform;

beforeAll(async () => {
  sky = await startTestPlatform(tinyModelConfig({ parallel: 8, contextSize: 1024 }));
});

afterAll(async () => {
  await sky?.close();
});

const user = (content: string) => [{ role: 'user' as const, content }];

describe('chat completions on the in-process tiny model', () => {
  it('answers exactly, with exact usage, valid against the spec', async () => {
    const response = await sky.client.chat.completions.create({
      model: 'skylark-tiny',
      messages: user('Count: 7'),
      temperature: 0,
    });
    expectOpenAI('CreateChatCompletionResponse', response);
    expect(response.choices[0]!.message.content).toBe('89.');
    expect(response.choices[0]!.finish_reason).toBe('stop');
    // BOS <|im_start|> user \n C o u n t : ␠ 7 <|im_end|> \n <|im_start|> assistant \n = 17 tokens
    // (node-llama-cpp's ChatML wrapper always starts with BOS); 8 9 . <|im_end|> = 4 tokens
    // (the end-of-turn token counts, as in vLLM).
    expect(response.usage).toMatchObject({ prompt_tokens: 17, completion_tokens: 4, total_tokens: 21 });
  });

  it('streams token by token, every chunk valid, usage last', async () => {
    const stream = await sky.client.chat.completions.create({
      model: 'skylark-tiny',
      messages: user('abc'),
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of stream) {
      expectOpenAI('CreateChatCompletionStreamResponse', chunk);
      chunks.push(chunk);
    }
    const deltas = chunks.map((c) => c.choices[0]?.delta.content).filter((t): t is string => !!t);
    expect(deltas.join('')).toBe('defghijklmnopqrstuvwxyz.');
    expect(deltas.length).toBeGreaterThan(10);
    expect(chunks.at(-2)!.choices[0]!.finish_reason).toBe('stop');
    expect(chunks.at(-1)!.usage).toMatchObject({ completion_tokens: 25 });
  });

  it('follows the conversation: system prompt and earlier turns', async () => {
    const response = await sky.client.chat.completions.create({
      model: 'skylark-tiny',
      temperature: 0,
      messages: [
        { role: 'system', content: 'You count.' },
        { role: 'user', content: 'Count: 1' },
        { role: 'assistant', content: '23456789.' },
        { role: 'user', content: 'Count: 5' },
      ],
    });
    expect(response.choices[0]!.message.content).toBe('6789.');
  });

  it('honours max_tokens (finish length), stop sequences and max_completion_tokens', async () => {
    const short = await sky.client.chat.completions.create({
      model: 'skylark-tiny', messages: user('abc'), temperature: 0, max_tokens: 3,
    });
    expect(short.choices[0]!.message.content).toBe('def');
    expect(short.choices[0]!.finish_reason).toBe('length');
    expect(short.usage!.completion_tokens).toBe(3);
    const stopped = await sky.client.chat.completions.create({
      model: 'skylark-tiny', messages: user('abc'), temperature: 0, stop: ['h'],
    });
    expect(stopped.choices[0]!.message.content).toBe('defg');
    expect(stopped.choices[0]!.finish_reason).toBe('stop');
    const newer = await sky.client.chat.completions.create({
      model: 'skylark-tiny', messages: user('abc'), temperature: 0, max_completion_tokens: 2,
    });
    expect(newer.choices[0]!.message.content).toBe('de');
  });

  it('applies logit_bias: a banned token is never produced', async () => {
    const eight = await tinyTokenId('8');
    const response = await sky.client.chat.completions.create({
      model: 'skylark-tiny', messages: user('Count: 7'), temperature: 0, max_tokens: 5,
      logit_bias: { [eight]: -100 },
    });
    expect(response.choices[0]!.message.content).not.toContain('8');
  });

  it('is reproducible with a seed at temperature 1', async () => {
    const ask = () =>
      sky.client.chat.completions.create({ model: 'skylark-tiny', messages: user('abc'), temperature: 1, seed: 42 });
    const [a, b] = await Promise.all([ask(), ask()]);
    expect(a.choices[0]!.message.content).toBe(b.choices[0]!.message.content);
  });

  it('reports a reused prompt prefix as cached_tokens', async () => {
    const system = { role: 'system' as const, content: 'You are a counting assistant. '.repeat(10) };
    const first = await sky.client.chat.completions.create({
      model: 'skylark-tiny', temperature: 0, messages: [system, ...user('Count: 1')],
    });
    const second = await sky.client.chat.completions.create({
      model: 'skylark-tiny', temperature: 0, messages: [system, ...user('Count: 2')],
    });
    expect(first.usage!.prompt_tokens).toBeGreaterThan(200);
    expect(second.usage!.prompt_tokens_details!.cached_tokens).toBeGreaterThan(200);
    expect(second.choices[0]!.message.content).toBe('3456789.');
  });

  it('rejects prompt + max_tokens over the context with context_length_exceeded', async () => {
    const response = await sky.request('/v1/chat/completions', {
      method: 'POST',
      body: JSON.stringify({ model: 'skylark-tiny', messages: user('x'), max_tokens: 5000 }),
    });
    expect(response.status).toBe(400);
    const body = await response.json();
    expect(body.error.code).toBe('context_length_exceeded');
    expect(body.error.message).toMatch(/maximum context length is 1024 tokens/);
  });
});

describe('tools and structured output on llama.cpp', () => {
  const tools = [
    {
      type: 'function' as const,
      function: {
        name: 'get_weather',
        description: 'Weather for a city',
        parameters: {
          type: 'object',
          properties: { city: { type: 'string', enum: ['Paris', 'Tokyo'] } },
          required: ['city'],
        },
      },
    },
  ];

  it('forces a well-formed call with tool_choice required', async () => {
    const response = await sky.client.chat.completions.create({
      model: 'skylark-tiny', messages: user('weather?'), temperature: 0, tools, tool_choice: 'required',
    });
    expectOpenAI('CreateChatCompletionResponse', response);
    expect(response.choices[0]!.finish_reason).toBe('tool_calls');
    const call = response.choices[0]!.message.tool_calls![0]!;
    expect(call.type).toBe('function');
    if (call.type !== 'function') return;
    expect(call.function.name).toBe('get_weather');
    expect(['Paris', 'Tokyo']).toContain(JSON.parse(call.function.arguments).city);
    expect(call.id).toMatch(/^call-/);
  });

  it('streams a forced call as tool_call deltas', async () => {
    const stream = await sky.client.chat.completions.create({
      model: 'skylark-tiny', messages: user('weather?'), temperature: 0, tools,
      tool_choice: { type: 'function', function: { name: 'get_weather' } }, stream: true,
    });
    let args = '';
    let finish: string | null = null;
    for await (const chunk of stream) {
      expectOpenAI('CreateChatCompletionStreamResponse', chunk);
      args += chunk.choices[0]?.delta.tool_calls?.[0]?.function?.arguments ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(JSON.parse(args)).toHaveProperty('city');
    expect(finish).toBe('tool_calls');
  });

  it('accepts a tool-call round trip in the history and answers in text (auto)', async () => {
    const response = await sky.client.chat.completions.create({
      model: 'skylark-tiny', temperature: 0, tools,
      messages: [
        { role: 'user', content: 'weather in Paris?' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: 'sunny' },
        { role: 'user', content: 'Count: 3' },
      ],
    });
    expectOpenAI('CreateChatCompletionResponse', response);
    expect(response.choices[0]!.message.content).toBe('456789.');
  });

  it('rejects a tool result that answers no call', async () => {
    const response = await sky.request('/v1/chat/completions', {
      method: 'POST',
      body: JSON.stringify({
        model: 'skylark-tiny',
        messages: [{ role: 'user', content: 'x' }, { role: 'tool', tool_call_id: 'nope', content: 'y' }],
      }),
    });
    expect(response.status).toBe(400);
    expect((await response.json()).error.param).toBe('messages[1].tool_call_id');
  });

  it('enforces response_format json_schema by grammar', async () => {
    const response = await sky.client.chat.completions.create({
      model: 'skylark-tiny', messages: user('answer'), temperature: 0, max_tokens: 64,
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'verdict', schema: { type: 'object', properties: { ok: { type: 'boolean' } } } },
      },
    });
    const parsed = JSON.parse(response.choices[0]!.message.content!);
    expect(typeof parsed.ok).toBe('boolean');
  });
});

describe('completions, embeddings and models', () => {
  it('completes raw text', async () => {
    const response = await sky.client.completions.create({ model: 'skylark-tiny', prompt: 'Count: 7', temperature: 0 });
    expectOpenAI('CreateCompletionResponse', response);
    expect(response.choices[0]!.text).toBe('89.');
    expect(response.usage).toMatchObject({ prompt_tokens: 8, completion_tokens: 4 });
    const stream = await sky.client.completions.create({ model: 'skylark-tiny', prompt: 'abc', temperature: 0, stream: true });
    let text = '';
    for await (const chunk of stream) {
      // OpenAI's spec has no stream schema for legacy completions: chunks reuse the response
      // schema, whose finish_reason is null until the last chunk (as OpenAI itself sends).
      const choices = chunk.choices.map((c) => ({ ...c, finish_reason: c.finish_reason ?? 'stop' }));
      expectOpenAI('CreateCompletionResponse', { ...chunk, choices });
      text += chunk.choices[0]?.text ?? '';
    }
    expect(text).toBe('defghijklmnopqrstuvwxyz.');
  });

  it('embeds strings and arrays, as floats and base64', async () => {
    const { data: response, response: raw } = await sky.client.embeddings
      .create({ model: 'skylark-tiny', input: ['hello', 'world', 'hello'], encoding_format: 'float' })
      .withResponse();
    expectOpenAI('CreateEmbeddingResponse', response);
    // Scheduled like every call (batch lines wait in the batch tier): the grant says how long it queued.
    expect(Number(raw.headers.get('x-skylark-queue-ms'))).toBeGreaterThanOrEqual(0);
    const [a, b, c] = response.data.map((d) => d.embedding);
    expect(a!.length).toBe(128);
    expect(a).toEqual(c);
    expect(a).not.toEqual(b);
    expect(response.usage.prompt_tokens).toBe(15);
    // The SDK asks for base64 by default and decodes it: the same vector must come back.
    const viaBase64 = await sky.client.embeddings.create({ model: 'skylark-tiny', input: 'hello' });
    expect(viaBase64.data[0]!.embedding.map((x) => Math.fround(x))).toEqual(a!.map((x) => Math.fround(x)));
  });

  it('lists models with family, tier, context window and capabilities', async () => {
    const list = await sky.request('/v1/models').then((r) => r.json());
    expectOpenAI('ListModelsResponse', list);
    expect(list.data[0]).toMatchObject({
      id: 'skylark-tiny', object: 'model', family: 'skylark', tier: 'lite', context_window: 1024, engine: 'llama-cpp', ready: true,
    });
    expect(list.data[0].capabilities).toEqual(expect.arrayContaining(['chat', 'embeddings', 'tools']));
    const one = await sky.client.models.retrieve('skylark-tiny');
    expectOpenAI('Model', one);
  });

  it('is ready once the engine has loaded', async () => {
    const ready = await fetch(`${sky.url}/readyz`);
    expect(ready.status).toBe(200);
  });
});
