/**
 * Anthropic's Messages API (`/v1/messages`) through the official `@anthropic-ai/sdk`
 * client against a running Skylark on the tiny llama model: JSON and streamed answers
 * (every event checked against the SDK's types and the stream's grammar), tools forced by
 * grammar, stop sequences, count_tokens with the model's tokenizer, billing (one usage row,
 * the books balance), Anthropic-shaped errors, and the scheduler's queue and early refusal
 * (on a one-slot simulated GPU) as pings and overloaded_error.
 */
import Anthropic from '@anthropic-ai/sdk';
import type { RawMessageStreamEvent } from '@anthropic-ai/sdk/resources/messages';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ledger } from '../src/billing/ledger.js';
import { expectEventOrder, expectMessage, expectStreamEvent } from './support/anthropic-events.js';
import { startTestPlatform, testAdminKey, tinyModelConfig, type TestPlatform } from './support/platform.js';
import { tenantWithKey } from './support/tenants.js';

let sky: TestPlatform;
let client: Anthropic;

beforeAll(async () => {
  const tiny = tinyModelConfig({ parallel: 4, contextSize: 2048 }) as { engines: object; models: object[] };
  sky = await startTestPlatform({
    engines: { ...tiny.engines, lone: { kind: 'sim', slots: 1, answerTokens: 60 } },
    models: [...tiny.models, { id: 'sim-lone', engine: 'lone', tier: 'lite', capabilities: ['chat'] }],
    // Refuse on the scheduler's prior too, not only once service is measured.
    scheduler: { minMeasuredToRefuse: 0 },
  });
  client = new Anthropic({ baseURL: sky.url, apiKey: testAdminKey, maxRetries: 0, timeout: 30_000 });
});

afterAll(async () => {
  await sky?.close();
});

/** The SDK's types no longer list the sampling fields (newer Claude models refuse them); the API still takes them. */
type Params = Anthropic.MessageCreateParamsNonStreaming & { temperature?: number; top_p?: number; top_k?: number };

const ask = (content: string, extra: Partial<Params> = {}): Params => ({
  model: 'skylark-tiny',
  max_tokens: 64,
  temperature: 0,
  messages: [{ role: 'user', content }],
  ...extra,
});

async function usageRows(requestId: string) {
  await sky.platform.usageWriter.flush();
  return sky.platform.store.db.selectFrom('usage_records').selectAll().where('request_id', '=', requestId).execute();
}

const weather: Anthropic.Tool = {
  name: 'get_weather',
  description: 'Weather for a city',
  input_schema: { type: 'object', properties: { city: { type: 'string', enum: ['Paris', 'Tokyo'] } }, required: ['city'] },
};

describe('POST /v1/messages on the tiny model', () => {
  it('answers exactly, with exact usage, billed once', async () => {
    const { data: message, response } = await client.messages.create(ask('Count: 7')).withResponse();
    expectMessage(message);
    expect(message.content).toEqual([{ type: 'text', text: '89.' }]);
    expect(message.stop_reason).toBe('end_turn');
    expect(message.stop_sequence).toBeNull();
    expect(message.model).toBe('skylark-tiny');
    // 17 prompt tokens (see gateway-llama.test.ts), of which those read from the prefix cache are not input_tokens.
    expect(message.usage.input_tokens + message.usage.cache_read_input_tokens!).toBe(17);
    expect(message.usage.output_tokens).toBe(4);
    const requestId = response.headers.get('x-request-id')!;
    expect(message.id).toBe(`msg_${requestId}`);
    const rows = await usageRows(requestId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ tenant_id: 'ten_operator', prompt_tokens: 17, completion_tokens: 4, cached_tokens: message.usage.cache_read_input_tokens, status: 'ok' });
  });

  it('streams the exact event sequence, each event valid, and the SDK assembles the same message', async () => {
    const stream = client.messages.stream(ask('abc'));
    const events: RawMessageStreamEvent[] = [];
    // The SDK mutates message_start's message into its snapshot: keep each event as it arrived.
    stream.on('streamEvent', (event) => events.push(structuredClone(event)));
    const final = await stream.finalMessage();
    for (const event of events) expectStreamEvent(event);
    expectEventOrder(events);
    expect(events.map((e) => e.type).slice(0, 2)).toEqual(['message_start', 'content_block_start']);
    expect(events.filter((e) => e.type === 'content_block_delta').length).toBeGreaterThan(10);
    expect(final.content).toEqual([{ type: 'text', text: 'defghijklmnopqrstuvwxyz.' }]);
    expect(final.stop_reason).toBe('end_turn');
    const delta = events.at(-2) as Anthropic.RawMessageDeltaEvent;
    expect(delta.usage.output_tokens).toBe(25);
    expect(final.usage.output_tokens).toBe(25);
    const rows = await usageRows(final.id.slice(4));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ completion_tokens: 25, prompt_tokens: final.usage.input_tokens + final.usage.cache_read_input_tokens! });
  });

  it('names every SSE event as its data type and ends without [DONE]', async () => {
    const response = await fetch(`${sky.url}/v1/messages?beta=true`, {
      method: 'POST',
      headers: { 'x-api-key': testAdminKey, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
      body: JSON.stringify({ ...ask('Count: 7'), stream: true }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const text = await response.text();
    const blocks = text.split('\n\n').filter((block) => block.startsWith('event: '));
    expect(blocks.length).toBeGreaterThan(5);
    for (const block of blocks) {
      const [eventLine, dataLine] = block.split('\n');
      expect(JSON.parse(dataLine!.slice(6)).type).toBe(eventLine!.slice(7));
    }
    expect(text).not.toContain('[DONE]');
  });

  it('follows a system prompt (string or blocks) and earlier turns', async () => {
    const messages: Anthropic.MessageParam[] = [
      { role: 'user', content: 'Count: 1' },
      { role: 'assistant', content: [{ type: 'text', text: '23456789.' }] },
      { role: 'user', content: [{ type: 'text', text: 'Count: 5' }] },
    ];
    const asString = await client.messages.create({ ...ask(''), system: 'You count.', messages });
    expect(asString.content).toEqual([{ type: 'text', text: '6789.' }]);
    const asBlocks = await client.messages.create({ ...ask(''), system: [{ type: 'text', text: 'You count.' }], messages });
    expect(asBlocks.content).toEqual(asString.content);
  });

  it('stops at a stop sequence (stop_reason stop_sequence) and at max_tokens', async () => {
    const stopped = await client.messages.create(ask('abc', { stop_sequences: ['h'] }));
    expect(stopped.content).toEqual([{ type: 'text', text: 'defg' }]);
    expect(stopped.stop_reason).toBe('stop_sequence');
    expect(stopped.stop_sequence).toBe('h');
    const streamed = await client.messages.stream(ask('abc', { stop_sequences: ['h'] })).finalMessage();
    expect(streamed.stop_reason).toBe('stop_sequence');
    expect(streamed.stop_sequence).toBe('h');
    const short = await client.messages.create(ask('abc', { max_tokens: 3 }));
    expect(short.content).toEqual([{ type: 'text', text: 'def' }]);
    expect(short.stop_reason).toBe('max_tokens');
    expect(short.usage.output_tokens).toBe(3);
  });

  it('accepts top_p, top_k and metadata', async () => {
    const message = await client.messages.create(ask('Count: 7', { top_k: 1, top_p: 0.9, temperature: 1, metadata: { user_id: 'user-42' } }));
    expect(message.content).toEqual([{ type: 'text', text: '89.' }]);
  });
});

describe('tools on the tiny model', () => {
  it('forces a tool_use block with tool_choice tool, streamed as input_json_delta', async () => {
    const message = await client.messages.create(ask('weather?', { tools: [weather], tool_choice: { type: 'tool', name: 'get_weather' } }));
    expectMessage(message);
    expect(message.stop_reason).toBe('tool_use');
    const use = message.content.find((block) => block.type === 'tool_use')!;
    expect(use).toMatchObject({ type: 'tool_use', name: 'get_weather' });
    expect(['Paris', 'Tokyo']).toContain((use.input as { city: string }).city);

    const stream = client.messages.stream(ask('weather?', { tools: [weather], tool_choice: { type: 'any' } }));
    const events: RawMessageStreamEvent[] = [];
    stream.on('streamEvent', (event) => events.push(structuredClone(event)));
    const final = await stream.finalMessage();
    for (const event of events) expectStreamEvent(event);
    expectEventOrder(events);
    expect(events.some((e) => e.type === 'content_block_delta' && e.delta.type === 'input_json_delta')).toBe(true);
    expect(final.stop_reason).toBe('tool_use');
    expect(final.content.at(-1)).toMatchObject({ type: 'tool_use', name: 'get_weather', input: { city: expect.any(String) } });
  });

  it('takes a tool_use / tool_result round trip and answers in text', async () => {
    const message = await client.messages.create({
      ...ask(''),
      tools: [weather],
      tool_choice: { type: 'auto' },
      messages: [
        { role: 'user', content: 'weather in Paris?' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'sunny' }, { type: 'text', text: 'Count: 3' }] },
      ],
    });
    expect(message.content).toEqual([{ type: 'text', text: '456789.' }]);
    expect(message.stop_reason).toBe('end_turn');
  });

  it('answers in text with tool_choice none', async () => {
    const message = await client.messages.create(ask('Count: 7', { tools: [weather], tool_choice: { type: 'none' } }));
    expect(message.content).toEqual([{ type: 'text', text: '89.' }]);
  });
});

describe('count_tokens', () => {
  it("counts with the model's own tokenizer: exactly the prompt tokens a message is billed for", async () => {
    const counted = await client.messages.countTokens({ model: 'skylark-tiny', messages: [{ role: 'user', content: 'Count: 7' }] });
    expect(counted).toEqual({ input_tokens: 17 });
    const params = { model: 'skylark-tiny', system: 'You count.', messages: [{ role: 'user' as const, content: 'Count: 2' }], tools: [weather], tool_choice: { type: 'tool' as const, name: 'get_weather' } };
    const withTools = await client.messages.countTokens(params);
    const message = await client.messages.create(ask('', { ...params }));
    expect(withTools.input_tokens).toBe(message.usage.input_tokens + message.usage.cache_read_input_tokens!);
  });
});

describe('keys, billing and errors', () => {
  it('takes the key as x-api-key or Authorization: Bearer, and bills the tenant; the books balance', async () => {
    const { tenant, key } = await tenantWithKey(sky.platform.store.db);
    const ledger = new Ledger(sky.platform.store.db);
    await ledger.topUp(tenant.id, 1_000_000, 'test');
    const byApiKey = await new Anthropic({ baseURL: sky.url, apiKey: key, maxRetries: 0 }).messages.create(ask('Count: 7'));
    const byBearer = await new Anthropic({ baseURL: sky.url, apiKey: null, authToken: key, maxRetries: 0 }).messages.create(ask('Count: 7'));
    expect(byApiKey.content).toEqual(byBearer.content);
    const rows = [...(await usageRows(byApiKey.id.slice(4))), ...(await usageRows(byBearer.id.slice(4)))];
    expect(rows).toHaveLength(2);
    for (const row of rows) expect(row).toMatchObject({ tenant_id: tenant.id, prompt_tokens: 17, completion_tokens: 4 });
    const spent = rows.reduce((sum, row) => sum + row.cost_micros, 0);
    expect(spent).toBeGreaterThan(0);
    expect(await ledger.balance(tenant.id)).toMatchObject({ balanceMicros: 1_000_000 - spent, reservedMicros: 0 });
    expect(await ledger.verify()).toEqual([]);
  });

  it("answers errors in Anthropic's shape on /v1/messages, OpenAI's on /v1/chat/completions", async () => {
    const wrongKey = await new Anthropic({ baseURL: sky.url, apiKey: 'sk-nope', maxRetries: 0 }).messages.create(ask('x')).catch((e: unknown) => e);
    expect(wrongKey).toBeInstanceOf(Anthropic.AuthenticationError);
    expect((wrongKey as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });

    const missing = await fetch(`${sky.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': testAdminKey, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'skylark-tiny', messages: [{ role: 'user', content: 'x' }] }),
    });
    expect(missing.status).toBe(400);
    const body = (await missing.json()) as { type: string; error: { type: string; message: string } };
    expect(body).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    expect(body.error.message).toContain('max_tokens');

    const unknown = await client.messages.create(ask('x', { model: 'no-such-model' })).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(Anthropic.NotFoundError);
    expect((unknown as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({ error: { type: 'not_found_error' } });

    const image = await client.messages
      .create({ ...ask(''), messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } }] }] })
      .catch((e: unknown) => e);
    expect(image).toBeInstanceOf(Anthropic.BadRequestError);
    expect((image as Error).message).toContain('does not accept image input');

    const openai = await sky.request('/v1/chat/completions', { method: 'POST', body: JSON.stringify({ model: 'no-such-model', messages: [] }) });
    expect(((await openai.json()) as { error: { code: string } }).error).toHaveProperty('code');
  });

  it('pings a stream while it waits in the queue, then streams its message', async () => {
    const first = client.messages.create({ model: 'sim-lone', max_tokens: 60, messages: [{ role: 'user', content: 'Tell me a story.' }] });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const waiting = await fetch(`${sky.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': testAdminKey, 'content-type': 'application/json', 'x-skylark-max-wait-ms': '30000' },
      body: JSON.stringify({ model: 'sim-lone', max_tokens: 20, stream: true, messages: [{ role: 'user', content: 'Tell me a story.' }] }),
    });
    expect(waiting.status).toBe(200);
    const text = await waiting.text();
    await first;
    expect(text.indexOf('event: ping\ndata: {"type":"ping"}')).toBeGreaterThanOrEqual(0);
    expect(text.indexOf('event: ping')).toBeLessThan(text.indexOf('event: message_start'));
    expect(text).toMatch(/event: message_stop\n/);
  });

  it('refuses what cannot start in time with 529 overloaded_error and Retry-After', async () => {
    const running = [
      client.messages.create({ model: 'sim-lone', max_tokens: 60, messages: [{ role: 'user', content: 'Tell me a story.' }] }),
      client.messages.create({ model: 'sim-lone', max_tokens: 60, messages: [{ role: 'user', content: 'Tell me a story.' }] }, { headers: { 'x-skylark-max-wait-ms': '30000' } }),
    ];
    await new Promise((resolve) => setTimeout(resolve, 50));
    const refused = await fetch(`${sky.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': testAdminKey, 'content-type': 'application/json', 'x-skylark-max-wait-ms': '1' },
      body: JSON.stringify({ model: 'sim-lone', max_tokens: 20, stream: true, messages: [{ role: 'user', content: 'Tell me a story.' }] }),
    });
    expect(refused.status).toBe(529);
    expect(await refused.json()).toMatchObject({ type: 'error', error: { type: 'overloaded_error' } });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    await Promise.all(running);
  });
});
