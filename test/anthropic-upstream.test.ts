/**
 * The `anthropic` engine kind against a fake Anthropic upstream on 127.0.0.1, driven by the
 * official `@anthropic-ai/sdk` through Skylark's /v1/messages (and the openai SDK through
 * /v1/chat/completions): the client's anthropic-version / anthropic-beta reach the
 * upstream, its cache reads are billed at the cached price, its errors map, its thinking,
 * tool and stop-sequence events come through.
 */
import Anthropic from '@anthropic-ai/sdk';
import type { RawMessageStreamEvent } from '@anthropic-ai/sdk/resources/messages';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectEventOrder, expectMessage, expectStreamEvent } from './support/anthropic-events.js';
import { fakeUsage, startFakeAnthropicUpstream, type FakeAnthropicUpstream } from './support/fake-anthropic-upstream.js';
import { startTestPlatform, testAdminKey, type TestPlatform } from './support/platform.js';

let upstream: FakeAnthropicUpstream;
let sky: TestPlatform;
let client: Anthropic;

const claude = (id: string, upstreamModel: string) => ({
  id,
  engine: 'claude',
  upstreamModel,
  family: 'claude',
  tier: 'lite',
  contextWindow: 200_000,
  capabilities: ['chat', 'tools', 'vision'],
});

beforeAll(async () => {
  upstream = await startFakeAnthropicUpstream();
  sky = await startTestPlatform({
    engines: { claude: { kind: 'anthropic', baseUrl: upstream.url, apiKey: 'sk-ant-upstream-secret', firstByteTimeoutMs: 2000, idleTimeoutMs: 2000 } },
    models: [
      claude('claude-proxy', 'claude-ok'),
      claude('claude-tools', 'claude-tools'),
      claude('claude-thinking', 'claude-thinking'),
      claude('claude-stop', 'claude-stop'),
      claude('claude-busy', 'claude-529'),
      claude('claude-badkey', 'claude-401'),
      claude('claude-invalid', 'claude-400'),
      claude('claude-limited', 'claude-429'),
      claude('claude-cut', 'claude-error-in-stream'),
    ],
  });
  client = new Anthropic({ baseURL: sky.url, apiKey: testAdminKey, maxRetries: 0, timeout: 30_000 });
});

afterAll(async () => {
  await sky?.close();
  await upstream?.close();
});

const ask = (model: string, extra: Partial<Anthropic.MessageCreateParamsNonStreaming> = {}): Anthropic.MessageCreateParamsNonStreaming => ({
  model,
  max_tokens: 100,
  messages: [{ role: 'user', content: 'hi' }],
  ...extra,
});

async function usageRows(requestId: string) {
  await sky.platform.usageWriter.flush();
  return sky.platform.store.db.selectFrom('usage_records').selectAll().where('request_id', '=', requestId).execute();
}

describe('the anthropic engine kind', () => {
  it('passes anthropic-version and anthropic-beta through, and bills cache reads at the cached price', async () => {
    const { data: message, response } = await client.messages
      .create(ask('claude-proxy', { system: 'Be brief.' }), { headers: { 'anthropic-version': '2023-06-01', 'anthropic-beta': 'prompt-caching-2024-07-31,fake-beta-2025' } })
      .withResponse();
    expectMessage(message);
    expect(message.content).toEqual([{ type: 'text', text: 'Hello from Claude.' }]);
    expect(message.model).toBe('claude-proxy');
    expect(message.usage).toMatchObject({ input_tokens: 12, cache_read_input_tokens: 30, output_tokens: 6 });

    const sent = upstream.requests.at(-1)!;
    expect(sent.path).toBe('/v1/messages');
    expect(sent.headers['anthropic-version']).toBe('2023-06-01');
    expect(sent.headers['anthropic-beta']).toBe('prompt-caching-2024-07-31,fake-beta-2025');
    // The upstream sees the gateway's key, never the client's.
    expect(sent.headers['x-api-key']).toBe('sk-ant-upstream-secret');
    expect(sent.body).toMatchObject({ model: 'claude-ok', max_tokens: 100, system: 'Be brief.', stream: false, messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }] });

    const rows = await usageRows(response.headers.get('x-request-id')!);
    expect(rows).toHaveLength(1);
    const prompt = fakeUsage.input_tokens + fakeUsage.cache_read_input_tokens;
    expect(rows[0]).toMatchObject({ prompt_tokens: prompt, cached_tokens: 30, completion_tokens: 6 });
    // Seeded lite price per 1M tokens: ¥0.3 input, ¥0.06 cached input, ¥0.6 output, rounded half-up once.
    expect(rows[0]!.cost_micros).toBe(Math.floor((12 * 300_000 + 30 * 60_000 + 6 * 600_000 + 500_000) / 1_000_000));
    expect(rows[0]!.cost_micros).toBeLessThan(Math.floor((prompt * 300_000 + 6 * 600_000 + 500_000) / 1_000_000));
  });

  it('streams the upstream events as a valid Anthropic stream with the exact usage', async () => {
    const stream = client.messages.stream(ask('claude-proxy'), { headers: { 'anthropic-version': '2023-06-01', 'anthropic-beta': 'fake-beta-2025' } });
    const events: RawMessageStreamEvent[] = [];
    stream.on('streamEvent', (event) => events.push(structuredClone(event)));
    const final = await stream.finalMessage();
    for (const event of events) expectStreamEvent(event);
    expectEventOrder(events);
    expect(final.content).toEqual([{ type: 'text', text: 'Hello from Claude.' }]);
    expect(final.usage).toMatchObject({ input_tokens: 12, cache_read_input_tokens: 30, output_tokens: 6 });
    expect(upstream.requests.at(-1)!.body).toMatchObject({ stream: true });
    expect(upstream.requests.at(-1)!.headers['anthropic-beta']).toBe('fake-beta-2025');
    const rows = await usageRows(final.id.slice(4));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ prompt_tokens: 42, cached_tokens: 30, completion_tokens: 6 });
  });

  it('sends its own anthropic-version when the client sent none (the openai SDK), and serves chat completions too', async () => {
    const response = await sky.client.chat.completions.create({ model: 'claude-proxy', messages: [{ role: 'user', content: 'hi' }] });
    expect(response.choices[0]!.message.content).toBe('Hello from Claude.');
    expect(response.usage).toMatchObject({ prompt_tokens: 42, completion_tokens: 6, prompt_tokens_details: { cached_tokens: 30 } });
    const sent = upstream.requests.at(-1)!;
    expect(sent.headers['anthropic-version']).toBe('2023-06-01');
    expect(sent.headers['anthropic-beta']).toBeUndefined();
    // Anthropic requires max_tokens: the engine supplies one.
    expect(sent.body.max_tokens).toBe(4096);
  });

  it('maps tool calls both ways, streamed and not', async () => {
    const tools: Anthropic.Tool[] = [{ name: 'get_weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }];
    const message = await client.messages.create(ask('claude-tools', { tools, tool_choice: { type: 'any', disable_parallel_tool_use: true } }));
    expect(message.stop_reason).toBe('tool_use');
    expect(message.content).toEqual([{ type: 'tool_use', id: 'toolu_fake_1', name: 'get_weather', input: { city: 'Paris' } }]);
    expect(upstream.requests.at(-1)!.body).toMatchObject({ tools, tool_choice: { type: 'any', disable_parallel_tool_use: true } });

    const stream = client.messages.stream({
      ...ask('claude-tools', { tools }),
      messages: [
        { role: 'user', content: 'weather?' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_0', name: 'get_weather', input: { city: 'Tokyo' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_0', content: 'rain' }, { type: 'text', text: 'and Paris?' }] },
      ],
    });
    const events: RawMessageStreamEvent[] = [];
    stream.on('streamEvent', (event) => events.push(structuredClone(event)));
    const final = await stream.finalMessage();
    expectEventOrder(events);
    expect(events.filter((e) => e.type === 'content_block_delta' && e.delta.type === 'input_json_delta').length).toBeGreaterThan(1);
    expect(final.content).toEqual([{ type: 'tool_use', id: 'toolu_fake_1', name: 'get_weather', input: { city: 'Paris' } }]);
    // The history reached the upstream as Anthropic blocks again.
    expect(upstream.requests.at(-1)!.body.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'weather?' }] },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_0', name: 'get_weather', input: { city: 'Tokyo' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_0', content: 'rain' }, { type: 'text', text: 'and Paris?' }] },
    ]);
  });

  it('keeps thinking in its own block, never inside a text block', async () => {
    const stream = client.messages.stream(ask('claude-thinking'));
    const events: RawMessageStreamEvent[] = [];
    stream.on('streamEvent', (event) => events.push(structuredClone(event)));
    const final = await stream.finalMessage();
    for (const event of events) expectStreamEvent(event);
    expectEventOrder(events);
    expect(final.content).toEqual([
      { type: 'thinking', thinking: 'Let me think. Hard.', signature: '' },
      { type: 'text', text: 'The answer is 42.' },
    ]);
    const json = await client.messages.create(ask('claude-thinking'));
    expect(json.content.map((block) => block.type)).toEqual(['thinking', 'text']);
  });

  it('reports the upstream stop sequence', async () => {
    const message = await client.messages.create(ask('claude-stop', { stop_sequences: ['three'] }));
    expect(message).toMatchObject({ stop_reason: 'stop_sequence', stop_sequence: 'three' });
    expect(upstream.requests.at(-1)!.body.stop_sequences).toEqual(['three']);
    const streamed = await client.messages.stream(ask('claude-stop', { stop_sequences: ['three'] })).finalMessage();
    expect(streamed).toMatchObject({ stop_reason: 'stop_sequence', stop_sequence: 'three' });
  });

  it("counts tokens with the upstream's own count_tokens", async () => {
    const counted = await client.messages.countTokens({ model: 'claude-proxy', messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'anthropic-beta': 'fake-beta-2025' } });
    expect(counted).toEqual({ input_tokens: 42 });
    const sent = upstream.requests.at(-1)!;
    expect(sent.path).toBe('/v1/messages/count_tokens');
    expect(sent.headers['anthropic-beta']).toBe('fake-beta-2025');
    expect(sent.body).toEqual({ model: 'claude-ok', messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }] });
  });

  it("maps the upstream's errors through the error table, in Anthropic's shape", async () => {
    type Failure = InstanceType<typeof Anthropic.APIError>;
    const failure = (model: string): Promise<Failure> =>
      client.messages.create(ask(model)).then(
        () => Promise.reject(new Error(`${model} answered`)),
        (error: unknown) => error as Failure,
      );
    const busy = await failure('claude-busy');
    expect(busy.status).toBe(529);
    expect(busy.error).toMatchObject({ type: 'error', error: { type: 'overloaded_error' } });
    // The upstream refusing *our* key is a server problem, not the client's bad key.
    const badKey = await failure('claude-badkey');
    expect(badKey.status).toBe(502);
    expect(badKey.error).toMatchObject({ error: { type: 'api_error' } });
    const invalid = await failure('claude-invalid');
    expect(invalid.status).toBe(400);
    expect(invalid.error).toMatchObject({ error: { type: 'invalid_request_error', message: 'messages: roles must alternate' } });
    const limited = await failure('claude-limited');
    expect(limited.status).toBe(429);
    expect(limited.error).toMatchObject({ error: { type: 'rate_limit_error' } });
    expect(limited.headers?.get('retry-after')).toBe('7');
    expect(busy.headers?.get('retry-after')).toBe('3');
  });

  it('ends a stream that breaks after its first tokens with an error event, billed for what was sent', async () => {
    const stream = client.messages.stream(ask('claude-cut'));
    const events: RawMessageStreamEvent[] = [];
    stream.on('streamEvent', (event) => events.push(structuredClone(event)));
    const error = (await stream.finalMessage().catch((e: unknown) => e)) as InstanceType<typeof Anthropic.APIError>;
    expect(error).toBeInstanceOf(Anthropic.APIError);
    expect(error.error).toMatchObject({ type: 'error', error: { type: 'api_error' } });
    expect(events[0]!.type).toBe('message_start');
    const id = (events[0] as Anthropic.RawMessageStartEvent).message.id;
    const rows = await usageRows(id.slice(4));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: 'error', prompt_tokens: 42, cached_tokens: 30 });
    expect(rows[0]!.completion_tokens).toBeGreaterThan(0);
  });
});
