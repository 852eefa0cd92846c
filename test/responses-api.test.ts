/**
 * Issue 12, item 2: OpenAI's Responses API through the official `openai` SDK, on the tiny
 * model, over real HTTP, with stored responses on SQLite and on PostgreSQL: JSON and
 * streamed answers (every object and event checked against OpenAI's spec), chains by
 * previous_response_id, forced function calls, retrieve / delete / input items, `store:
 * false`, one usage row per request, and tenants that cannot see each other's responses.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import type { ResponseStreamEvent } from 'openai/resources/responses/responses';
import { call, dialectNames, startPlatformOn } from './support/dialect-platforms.js';
import { expectOpenAI } from './support/openapi-schemas.js';
import { expectValidEvents } from './support/response-events.js';
import type { TestPlatform } from './support/platform.js';

const weatherTool = {
  type: 'function' as const,
  name: 'get_weather',
  description: 'Weather for a city',
  strict: null,
  parameters: { type: 'object', properties: { city: { type: 'string', enum: ['Paris', 'Tokyo'] } }, required: ['city'] },
};

/** The seeded lite price: ¥0.3 in, cached input ¥0.06, ¥0.6 out per 1M tokens, rounded half-up once. */
function liteCost(row: { prompt_tokens: number; cached_tokens: number; completion_tokens: number }): number {
  const perMillion = (row.prompt_tokens - row.cached_tokens) * 300_000 + row.cached_tokens * 60_000 + row.completion_tokens * 600_000;
  return Math.floor((perMillion + 500_000) / 1_000_000);
}

describe.each(dialectNames)('the Responses API on %s', (dialect) => {
  let sky: TestPlatform;
  let a: { tenantId: string; client: OpenAI; key: string };
  let b: { tenantId: string; client: OpenAI; key: string };

  async function tenant(name: string) {
    const tenantId = (await call(sky, 'POST', '/admin/tenants', { body: { name } })).body.id as string;
    const key = (await call(sky, 'POST', `/admin/tenants/${tenantId}/keys`, { body: { name } })).body.key as string;
    await call(sky, 'POST', `/admin/tenants/${tenantId}/topups`, { body: { amount: '10' } });
    return { tenantId, key, client: new OpenAI({ baseURL: sky.baseURL, apiKey: key, maxRetries: 0 }) };
  }

  async function usageRows(responseId: string) {
    await sky.platform.usageWriter.flush();
    return sky.platform.store.db.selectFrom('usage_records').selectAll().where('request_id', '=', responseId.replace(/^resp_/, '')).execute();
  }

  beforeAll(async () => {
    sky = await startPlatformOn(dialect);
    a = await tenant('tenant A');
    b = await tenant('tenant B');
  });

  afterAll(async () => {
    await sky?.close();
  });

  it('answers input text with a message, usage, and exactly one usage row at the lite price', async () => {
    const response = await a.client.responses.create({ model: 'skylark-tiny', input: 'Count: 7', temperature: 0, metadata: { run: 'one' } });
    expectOpenAI('Response', response);
    expect(response).toMatchObject({ object: 'response', status: 'completed', model: 'skylark-tiny', store: true, metadata: { run: 'one' }, error: null });
    expect(response.output_text).toBe('89.');
    expect(response.output).toHaveLength(1);
    expect(response.output[0]).toMatchObject({ type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: '89.' }] });
    // The same prompt as chat's single user message: 17 tokens in, 4 out.
    expect(response.usage).toEqual({
      input_tokens: 17, input_tokens_details: { cached_tokens: expect.any(Number), cache_write_tokens: 0 },
      output_tokens: 4, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 21,
    });
    const rows = await usageRows(response.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ tenant_id: a.tenantId, prompt_tokens: 17, completion_tokens: 4, cached_tokens: response.usage!.input_tokens_details.cached_tokens, status: 'ok' });
    expect(rows[0]!.cost_micros).toBe(liteCost(rows[0]!));
  });

  it('streams the documented events in order, numbered from 0, through the SDK stream helper', async () => {
    const stream = a.client.responses.stream({ model: 'skylark-tiny', input: 'Count: 3', temperature: 0, instructions: 'Count on.' });
    const events: ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    const final = await stream.finalResponse();
    expectValidEvents(events);
    const types = events.map((event) => event.type);
    const deltas = types.filter((type) => type === 'response.output_text.delta').length;
    expect(deltas).toBeGreaterThan(1);
    expect(types).toEqual([
      'response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added',
      ...Array(deltas).fill('response.output_text.delta'),
      'response.output_text.done', 'response.content_part.done', 'response.output_item.done', 'response.completed',
    ]);
    expect(final.output_text).toBe('456789.');
    expect(final.instructions).toBe('Count on.');
    const completed = events.at(-1) as Extract<ResponseStreamEvent, { type: 'response.completed' }>;
    expect(completed.response.usage!.output_tokens).toBeGreaterThan(0);
    // Stored as streamed, and billed once.
    const stored = await a.client.responses.retrieve(final.id);
    expectOpenAI('Response', stored);
    expect(stored.output).toEqual(completed.response.output);
    expect(stored.usage).toEqual(completed.response.usage);
    const rows = await usageRows(final.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ prompt_tokens: completed.response.usage!.input_tokens, completion_tokens: completed.response.usage!.output_tokens });
  });

  it('continues a chain from previous_response_id: the model sees the earlier turn', async () => {
    const alone = await a.client.responses.create({ model: 'skylark-tiny', input: 'Count: 3', temperature: 0, store: false });
    const first = await a.client.responses.create({ model: 'skylark-tiny', input: 'Count: 7', temperature: 0 });
    const second = await a.client.responses.create({ model: 'skylark-tiny', input: 'Count: 3', temperature: 0, previous_response_id: first.id });
    expectOpenAI('Response', second);
    expect(second.previous_response_id).toBe(first.id);
    expect(second.output_text).toBe('456789.');
    // The first turn (question and answer) is in the second prompt.
    expect(second.usage!.input_tokens).toBeGreaterThan(alone.usage!.input_tokens + 6);
    const items = await a.client.responses.inputItems.list(second.id, { order: 'asc' });
    expectOpenAI('ResponseItemList', { object: 'list', data: items.data, first_id: items.data[0]!.id, last_id: items.data.at(-1)!.id, has_more: false });
    expect(items.data.map((item) => (item.type === 'message' ? `${item.role}:${JSON.stringify(item.content.map((part) => ('text' in part ? part.text : '')))}` : item.type))).toEqual([
      'user:["Count: 7"]', 'assistant:["89."]', 'user:["Count: 3"]',
    ]);
  });

  it('forces a function call, then answers its output in the next turn of the chain', async () => {
    const called = await a.client.responses.create({
      model: 'skylark-tiny', input: 'weather?', temperature: 0, tools: [weatherTool], tool_choice: { type: 'function', name: 'get_weather' },
    });
    expectOpenAI('Response', called);
    const call = called.output.find((item) => item.type === 'function_call');
    expect(call).toMatchObject({ type: 'function_call', name: 'get_weather', status: 'completed' });
    if (call?.type !== 'function_call') return;
    expect(['Paris', 'Tokyo']).toContain(JSON.parse(call.arguments).city);
    const answered = await a.client.responses.create({
      model: 'skylark-tiny', temperature: 0, tools: [weatherTool], previous_response_id: called.id,
      input: [{ type: 'function_call_output', call_id: call.call_id, output: 'sunny' }, { role: 'user', content: 'Count: 3' }],
    });
    expectOpenAI('Response', answered);
    expect(answered.output_text).toBe('456789.');
  });

  it('streams a forced function call as argument deltas', async () => {
    const stream = a.client.responses.stream({ model: 'skylark-tiny', input: 'weather?', temperature: 0, tools: [weatherTool], tool_choice: 'required' });
    const events: ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    expectValidEvents(events);
    const types = events.map((event) => event.type);
    expect(types.slice(0, 3)).toEqual(['response.created', 'response.in_progress', 'response.output_item.added']);
    expect(types.slice(-3)).toEqual(['response.function_call_arguments.done', 'response.output_item.done', 'response.completed']);
    const done = events.find((event) => event.type === 'response.function_call_arguments.done');
    const deltas = events.flatMap((event) => (event.type === 'response.function_call_arguments.delta' ? [event.delta] : []));
    expect(deltas.join('')).toBe(done?.type === 'response.function_call_arguments.done' ? done.arguments : '');
    expect(JSON.parse(deltas.join(''))).toHaveProperty('city');
  });

  it('retrieves and deletes its own responses; another tenant gets 404 exactly as for a missing id', async () => {
    const mine = await a.client.responses.create({ model: 'skylark-tiny', input: 'Count: 1', temperature: 0 });
    const retrieved = await a.client.responses.retrieve(mine.id);
    expect(retrieved).toEqual(mine);

    const missing = await call(sky, 'GET', '/v1/responses/resp_nothing', { key: b.key });
    expect(missing.status).toBe(404);
    expectOpenAI('ErrorResponse', missing.body);
    for (const [method, path] of [['GET', `/v1/responses/${mine.id}`], ['DELETE', `/v1/responses/${mine.id}`], ['GET', `/v1/responses/${mine.id}/input_items`]] as const) {
      const foreign = await call(sky, method, path, { key: b.key });
      expect({ path, status: foreign.status, body: foreign.body }).toEqual({
        path, status: 404, body: { error: { ...missing.body.error, message: missing.body.error.message.replace('resp_nothing', mine.id) } },
      });
    }
    const chained = await call(sky, 'POST', '/v1/responses', { key: b.key, body: { model: 'skylark-tiny', input: 'x', previous_response_id: mine.id } });
    expect(chained.status).toBe(404);
    expect(chained.body.error).toMatchObject({ code: 'not_found', param: 'previous_response_id' });
    // Nothing was billed for the refused chain.
    await sky.platform.usageWriter.flush();
    expect(await sky.platform.store.db.selectFrom('usage_records').select('request_id').where('tenant_id', '=', b.tenantId).execute()).toEqual([]);

    await a.client.responses.delete(mine.id);
    const gone = await a.client.responses.retrieve(mine.id).catch((error: unknown) => error);
    expect(gone).toBeInstanceOf(OpenAI.NotFoundError);
    expect((await call(sky, 'DELETE', `/v1/responses/${mine.id}`, { key: a.key })).status).toBe(404);
  });

  it('keeps nothing with store: false', async () => {
    const response = await a.client.responses.create({ model: 'skylark-tiny', input: 'Count: 2', temperature: 0, store: false });
    expect((response as unknown as { store: boolean }).store).toBe(false);
    expect((await call(sky, 'GET', `/v1/responses/${response.id}`, { key: a.key })).status).toBe(404);
    const count = await sky.platform.store.db.selectFrom('stored_responses').select('id').where('id', '=', response.id).execute();
    expect(count).toEqual([]);
    expect(await usageRows(response.id)).toHaveLength(1);
  });

  it('is described in the OpenAPI document at /docs', async () => {
    const doc = await call(sky, 'GET', '/docs/json', { key: null });
    expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(['/v1/responses', '/v1/responses/{id}', '/v1/responses/{id}/input_items']));
    expect(doc.body.paths['/v1/responses'].post.requestBody.content['application/json'].schema.required).toEqual(['model', 'input']);
  });

  it('refuses what it cannot serve with OpenAI errors naming the field', async () => {
    const cases: Array<[unknown, string, string]> = [
      [{ model: 'skylark-tiny' }, 'input', 'invalid_request'],
      [{ model: 'skylark-tiny', input: [{ type: 'item_reference', id: 'x' }] }, 'input[0].type', 'invalid_request'],
      [{ model: 'skylark-tiny', input: 'x', tools: [{ type: 'web_search' }] }, 'tools[0].type', 'unsupported_parameter'],
      [{ model: 'skylark-tiny', input: 'x', background: true }, 'background', 'unsupported_parameter'],
      [{ model: 'skylark-tiny', input: 'x', tool_choice: 'required' }, 'tool_choice', 'invalid_request'],
    ];
    for (const [body, param, code] of cases) {
      const reply = await call(sky, 'POST', '/v1/responses', { key: a.key, body });
      expect({ status: reply.status, param: reply.body.error.param, code: reply.body.error.code }).toEqual({ status: 400, param, code });
      expectOpenAI('ErrorResponse', reply.body);
    }
  });
});
