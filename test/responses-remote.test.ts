/**
 * The Responses API over an OpenAI-compatible upstream (a fake one on 127.0.0.1) and a
 * simulated GPU: the upstream's cached tokens reach `input_tokens_details.cached_tokens`
 * and are billed at the cached price, reasoning streams as a reasoning item, a failure
 * mid-stream ends in `response.failed`, and a request the scheduler cannot
 * start in time is refused before its stream opens, with 429 and Retry-After.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import type { ResponseStreamEvent } from 'openai/resources/responses/responses';
import { startFakeUpstream, type FakeUpstream } from './support/fake-upstream.js';
import { expectOpenAI } from './support/openapi-schemas.js';
import { startTestPlatform, type TestPlatform } from './support/platform.js';
import { expectValidEvents } from './support/response-events.js';

let upstream: FakeUpstream;
let sky: TestPlatform;

const remote = (id: string, upstreamModel: string) => ({
  id, engine: 'remote', upstreamModel, tier: 'pro', contextWindow: 65536, capabilities: ['chat', 'tools', 'vision'],
});

beforeAll(async () => {
  upstream = await startFakeUpstream();
  sky = await startTestPlatform({
    engines: {
      remote: { kind: 'openai-compatible', baseUrl: upstream.url, apiKey: 'sk-upstream', firstByteTimeoutMs: 2000, idleTimeoutMs: 2000 },
      lone: { kind: 'sim', slots: 1, answerTokens: 60 },
    },
    scheduler: { minMeasuredToRefuse: 0 },
    models: [
      remote('pro-32k', 'fake-ok'),
      remote('reasoner', 'fake-reasoning'),
      remote('tools', 'fake-tools'),
      remote('cut', 'fake-error-in-stream'),
      { id: 'sim-lone', engine: 'lone', tier: 'lite', capabilities: ['chat'] },
    ],
  });
});

afterAll(async () => {
  await sky?.close();
  await upstream?.close();
});

async function usageRows(responseId: string) {
  await sky.platform.usageWriter.flush();
  return sky.platform.store.db.selectFrom('usage_records').selectAll().where('request_id', '=', responseId.replace(/^resp_/, '')).execute();
}

async function collect(params: Parameters<OpenAI['responses']['stream']>[0]) {
  const events: ResponseStreamEvent[] = [];
  for await (const event of sky.client.responses.stream(params)) events.push(event);
  return events;
}

/** The seeded pro price: ¥0.8 in, cached input ¥0.16, ¥2 out per 1M tokens, rounded half-up once. */
const proCost = (prompt: number, cached: number, completion: number) =>
  Math.floor(((prompt - cached) * 800_000 + cached * 160_000 + completion * 2_000_000 + 500_000) / 1_000_000);

describe('the Responses API over an upstream', () => {
  it("reports the upstream's cached tokens and bills them at the cached price, once", async () => {
    const response = await sky.client.responses.create({ model: 'pro-32k', input: 'hi', instructions: 'Be brief.', max_output_tokens: 20 });
    expectOpenAI('Response', response);
    expect(response.output_text).toBe('Hello from upstream.');
    expect(response.usage).toMatchObject({ input_tokens: 17, input_tokens_details: { cached_tokens: 4 }, output_tokens: 5, total_tokens: 22 });
    const rows = await usageRows(response.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ prompt_tokens: 17, cached_tokens: 4, completion_tokens: 5, cost_micros: proCost(17, 4, 5) });
    expect(proCost(17, 4, 5)).toBeLessThan(proCost(17, 0, 5));
    // Instructions travel as the system message, max_output_tokens as max_tokens.
    expect(upstream.requests.at(-1)!.body).toMatchObject({
      model: 'fake-ok', max_tokens: 20, messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'hi' }],
    });

    const events = await collect({ model: 'pro-32k', input: 'hi' });
    expectValidEvents(events);
    const completed = events.at(-1)!;
    expect(completed.type).toBe('response.completed');
    if (completed.type !== 'response.completed') return;
    expect(completed.response.usage).toMatchObject({ input_tokens: 17, input_tokens_details: { cached_tokens: 4 } });
    expect(await usageRows(completed.response.id)).toMatchObject([{ cached_tokens: 4, cost_micros: proCost(17, 4, 5) }]);
  });

  it('streams reasoning as a reasoning item before the message', async () => {
    const events = await collect({ model: 'reasoner', input: 'why?' });
    expectValidEvents(events);
    expect(events.map((event) => event.type)).toEqual([
      'response.created', 'response.in_progress',
      'response.output_item.added', 'response.content_part.added', 'response.reasoning_text.delta', 'response.reasoning_text.delta',
      'response.reasoning_text.done', 'response.content_part.done', 'response.output_item.done',
      'response.output_item.added', 'response.content_part.added', 'response.output_text.delta', 'response.output_text.delta',
      'response.output_text.done', 'response.content_part.done', 'response.output_item.done',
      'response.completed',
    ]);
    const json = await sky.client.responses.create({ model: 'reasoner', input: 'why?' });
    expectOpenAI('Response', json);
    expect(json.output.map((item) => item.type)).toEqual(['reasoning', 'message']);
    expect(json.output[0]).toMatchObject({ content: [{ type: 'reasoning_text', text: 'Thinking hard.' }] });
    expect(json.output_text).toBe('The answer is 42.');
  });

  it("maps the upstream's tool call to a function_call item and sends tools the chat way", async () => {
    const response = await sky.client.responses.create({
      model: 'tools', input: 'weather in Paris?',
      tools: [{ type: 'function', name: 'get_weather', strict: true, parameters: { type: 'object', properties: { city: { type: 'string' } } } }],
      tool_choice: 'auto', parallel_tool_calls: false,
    });
    expectOpenAI('Response', response);
    expect(response.output).toEqual([
      expect.objectContaining({ type: 'function_call', call_id: 'call_fake_1', name: 'get_weather', arguments: '{"city":"Paris"}', status: 'completed' }),
    ]);
    expect(upstream.requests.at(-1)!.body).toMatchObject({
      tools: [{ type: 'function', function: { name: 'get_weather', strict: true } }], tool_choice: 'auto', parallel_tool_calls: false,
    });
  });

  it('takes a request shaped as Codex sends it: developer message, history, reasoning, store false', async () => {
    const reply = await sky.request('/v1/responses', {
      method: 'POST',
      body: JSON.stringify({
        model: 'pro-32k', instructions: 'You are Codex.', store: false, stream: true, parallel_tool_calls: false, tool_choice: 'auto',
        reasoning: { effort: 'medium', summary: 'auto' }, include: ['reasoning.encrypted_content'], prompt_cache_key: 'session-1',
        text: { verbosity: 'low' },
        tools: [{ type: 'function', name: 'shell', description: 'Runs a command', strict: false, parameters: { type: 'object', properties: { command: { type: 'array', items: { type: 'string' } } } } }],
        input: [
          { type: 'message', role: 'developer', content: [{ type: 'input_text', text: '<environment_context/>' }] },
          { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'list files' }] },
          { type: 'reasoning', id: 'rs_1', summary: [], encrypted_content: 'opaque' },
          { type: 'function_call', call_id: 'call_1', name: 'shell', arguments: '{"command":["ls"]}' },
          { type: 'function_call_output', call_id: 'call_1', output: 'README.md' },
          { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'One file.' }] },
          { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'thanks' }, { type: 'input_image', image_url: 'data:image/png;base64,AAAA', detail: 'low' }] },
        ],
      }),
    });
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const text = await reply.text();
    expect(text).toMatch(/^event: response\.created\ndata: /);
    expect(text).not.toContain('[DONE]');
    expect(text).toContain('event: response.completed\n');
    expect(upstream.requests.at(-1)!.body).toMatchObject({
      messages: [
        { role: 'system', content: 'You are Codex.' },
        { role: 'system', content: '<environment_context/>' },
        { role: 'user', content: 'list files' },
        { role: 'assistant', tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'shell', arguments: '{"command":["ls"]}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: 'README.md' },
        { role: 'assistant', content: 'One file.' },
        { role: 'user', content: [{ type: 'text', text: 'thanks' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA', detail: 'low' } }] },
      ],
      tools: [{ type: 'function', function: { name: 'shell', strict: false } }],
      parallel_tool_calls: false,
    });
  });

  it('ends a stream that fails midway with response.failed; billed what was produced', async () => {
    const events = await collect({ model: 'cut', input: 'hi' });
    expectValidEvents(events);
    const types = events.map((event) => event.type);
    expect(types.slice(0, 4)).toEqual(['response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added']);
    expect(types.slice(-3)).toEqual(['response.output_text.delta', 'response.output_text.delta', 'response.failed']);
    const failed = events.at(-1)!;
    if (failed.type !== 'response.failed') return;
    expect(failed.response).toMatchObject({ status: 'failed', error: { code: 'server_error' } });
    expect((await usageRows(failed.response.id)).map((row) => row.status)).toEqual(['error']);
    expect((await sky.request(`/v1/responses/${failed.response.id}`)).status).toBe(404);
  });

  it('refuses at once, before the stream opens, what the scheduler cannot start in time', async () => {
    const busy = sky.client.responses.create({ model: 'sim-lone', input: 'long', max_output_tokens: 60 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const refused = await sky.client.responses
      .create({ model: 'sim-lone', input: 'now', stream: true }, { headers: { 'x-skylark-max-wait-ms': '1' } })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(OpenAI.RateLimitError);
    const error = refused as InstanceType<typeof OpenAI.RateLimitError>;
    expect(error.code).toBe('server_overloaded');
    expect(Number(error.headers?.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expectOpenAI('Response', await busy);
  });
});
