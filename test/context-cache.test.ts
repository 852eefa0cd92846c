/**
 * Issue 11 item 4: Ark-style context caching through the official `openai` SDK on the tiny
 * model (llama.cpp in process), over real HTTP, on SQLite and on PostgreSQL. A ~2,000-token
 * context created once makes later requests report it as `cached_tokens` and cost exactly
 * what the catalog says (less than without it); storage is charged exactly for the time
 * held; session contexts grow by each turn; expiry after the TTL (lowered by config
 * `contexts.minTtlSeconds` for this test) and deletion free it; Ark's truncation strategies
 * forget the oldest whole turns; another tenant's id is a
 * 404 like a missing one; a chat refused for want of funds neither charges storage nor
 * resets the TTL; bad input answers 400 in OpenAI's error shape; the ledger verifies.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import { Ledger } from '../src/billing/ledger.js';
import { call, dialectNames, startPlatformOn } from './support/dialect-platforms.js';
import { expectOpenAI } from './support/openapi-schemas.js';
import { tinyModelConfig, type TestPlatform } from './support/platform.js';

/** The price set below, micros: per 1M tokens in / cached / out, and per 1M tokens held an hour. */
const rates = { input: 1_000_000, cached: 200_000, output: 2_000_000, storage: 3_600_000_000 };
const tokenMsPerMicro = 3_600_000_000_000;

function requestCost(row: { prompt_tokens: number; cached_tokens: number; completion_tokens: number }): number {
  const perMillion = (row.prompt_tokens - row.cached_tokens) * rates.input + row.cached_tokens * rates.cached + row.completion_tokens * rates.output;
  return Math.floor((perMillion + 500_000) / 1_000_000);
}

/** Storage held: tokens × ms × rate / (1M tokens × 1 h), rounded down. */
const storageCost = (tokens: number, heldMs: number) => Math.floor((tokens * heldMs * rates.storage) / tokenMsPerMicro);

/** About 2,000 tokens of instructions: the prefix every request shares. */
const longSystem = Array.from({ length: 29 }, (_, i) => `Rule ${i}: answer with digits only, and count on from the number given.`).join(' ');

type Created = { id: string; tokens: number; mode: string; ttl: number; truncation_strategy: unknown; usage: { prompt_tokens: number; prompt_tokens_details: { cached_tokens: number } } };

describe.each(dialectNames)('context caching on %s', (dialect) => {
  let sky: TestPlatform;
  let a: { tenantId: string; client: OpenAI };
  let b: { tenantId: string; client: OpenAI };

  async function tenant(name: string, amount = '100') {
    const tenantId = (await call(sky, 'POST', '/admin/tenants', { body: { name } })).body.id as string;
    const key = (await call(sky, 'POST', `/admin/tenants/${tenantId}/keys`, { body: { name } })).body.key as string;
    await call(sky, 'POST', `/admin/tenants/${tenantId}/topups`, { body: { amount } });
    return { tenantId, client: new OpenAI({ baseURL: sky.baseURL, apiKey: key, maxRetries: 0, timeout: 60_000 }) };
  }

  const db = () => sky.platform.store.db;
  async function usageRow(requestId: string) {
    await sky.platform.usageWriter.flush();
    return db().selectFrom('usage_records').selectAll().where('request_id', '=', requestId).executeTakeFirstOrThrow();
  }
  async function contextRow(id: string) {
    await sky.platform.usageWriter.flush();
    return db().selectFrom('contexts').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  }
  async function storageRows(id: string) {
    await sky.platform.usageWriter.flush();
    return db().selectFrom('usage_records').selectAll().where('request_id', 'like', `ctxstore_${id}_%`).execute();
  }

  async function create(client: OpenAI, body: Record<string, unknown>) {
    const { data, response } = await client.post<Created>('/context/create', { body }).withResponse();
    return { context: data, requestId: response.headers.get('x-request-id')! };
  }

  async function chat(client: OpenAI, body: Record<string, unknown>) {
    const { data, response } = await client.chat.completions.create(body as never).withResponse();
    return { completion: data as OpenAI.Chat.Completions.ChatCompletion, requestId: response.headers.get('x-request-id')! };
  }

  beforeAll(async () => {
    sky = await startPlatformOn(dialect, { ...tinyModelConfig({ parallel: 2, contextSize: 4096 }), contexts: { minTtlSeconds: 1 } });
    const price = await call(sky, 'POST', '/admin/prices', {
      body: { model: 'skylark-tiny', input: '1', cached_input: '0.2', output: '2', context_storage: '3600' },
    });
    expect(price.status).toBe(201);
    expect(price.body).toMatchObject({ context_storage: '3600.000000', context_storage_micros: rates.storage });
    a = await tenant('tenant A');
    b = await tenant('tenant B');
  });

  afterAll(async () => {
    await sky?.close();
  });

  it('creates a ~2,000-token context once, billed at the input price, and later requests report it as cached_tokens and cost less, exactly per the catalog', async () => {
    const { context, requestId } = await create(a.client, { model: 'skylark-tiny', mode: 'common_prefix', messages: [{ role: 'system', content: longSystem }], ttl: 3600 });
    expect(context).toMatchObject({ object: 'context', model: 'skylark-tiny', mode: 'common_prefix', ttl: 3600, truncation_strategy: null, status: 'active', message_count: 1 });
    expect(context.id).toMatch(/^ctx-\d{14}-[0-9a-z]{10}$/);
    expect(context.tokens).toBeGreaterThan(1800);
    expect(context.tokens).toBeLessThan(2400);
    expect(context.usage).toMatchObject({ prompt_tokens: context.tokens, completion_tokens: 0, total_tokens: context.tokens, prompt_tokens_details: { cached_tokens: 0 } });
    const created = await usageRow(requestId);
    expect(created).toMatchObject({ tenant_id: a.tenantId, prompt_tokens: context.tokens, cached_tokens: 0, completion_tokens: 0, status: 'ok' });
    expect(Number(created.cost_micros)).toBe(Math.floor((context.tokens * rates.input + 500_000) / 1_000_000));

    // The same request without the context: every prompt token at the input price.
    const plain = await chat(a.client, { model: 'skylark-tiny', messages: [{ role: 'system', content: longSystem.replace('Rule 0', 'rule 0') }, { role: 'user', content: 'Count: 7' }], max_tokens: 4, temperature: 0 });
    const plainRow = await usageRow(plain.requestId);

    // context_id on /v1/chat/completions; then Ark's path, with the model left out.
    const first = await chat(a.client, { model: 'skylark-tiny', context_id: context.id, messages: [{ role: 'user', content: 'Count: 7' }], max_tokens: 4, temperature: 0 });
    expectOpenAI('CreateChatCompletionResponse', first.completion);
    expect(first.completion.usage!.prompt_tokens).toBe(plainRow.prompt_tokens);
    expect(first.completion.usage!.prompt_tokens_details!.cached_tokens).toBe(context.tokens);
    const ark = await a.client.post<OpenAI.Chat.Completions.ChatCompletion>('/context/chat/completions', {
      body: { context_id: context.id, messages: [{ role: 'user', content: 'Count: 7' }], max_tokens: 4, temperature: 0 },
    }).withResponse();
    expectOpenAI('CreateChatCompletionResponse', ark.data);
    expect(ark.data.model).toBe('skylark-tiny');
    // At least the context's tokens; llama.cpp may reuse more (the earlier identical turn's KV).
    expect(ark.data.usage!.prompt_tokens_details!.cached_tokens).toBeGreaterThanOrEqual(context.tokens);

    for (const requestId of [first.requestId, ark.response.headers.get('x-request-id')!]) {
      const row = await usageRow(requestId);
      expect(row.cached_tokens).toBeGreaterThanOrEqual(context.tokens);
      expect(Number(row.cost_micros)).toBe(requestCost(row));
      expect(Number(row.cost_micros)).toBeLessThan(Number(plainRow.cost_micros));
    }
    expect(requestCost(await usageRow(first.requestId))).toBe(
      requestCost({ prompt_tokens: plainRow.prompt_tokens, cached_tokens: context.tokens, completion_tokens: first.completion.usage!.completion_tokens }),
    );

    // Streamed: the final usage chunk reports the cached prefix too.
    const stream = await a.client.chat.completions.create({
      model: 'skylark-tiny', context_id: context.id, messages: [{ role: 'user', content: 'Count: 3' }], max_tokens: 4, stream: true, stream_options: { include_usage: true },
    } as never) as unknown as AsyncIterable<OpenAI.Chat.Completions.ChatCompletionChunk>;
    let usage: OpenAI.CompletionUsage | undefined | null;
    for await (const chunk of stream) usage = chunk.usage ?? usage;
    expect(usage!.prompt_tokens_details!.cached_tokens).toBeGreaterThanOrEqual(context.tokens);

    // Each use charged the storage held so far and reset the TTL from then.
    const shown = await a.client.get<{ last_used_at: number; expires_at: number; created_at: number }>(`/contexts/${context.id}`);
    expect(shown.expires_at - shown.last_used_at).toBe(3600);
    const listed = await a.client.get<{ data: { id: string }[] }>('/contexts');
    expect(listed.data.map((c) => c.id)).toContain(context.id);

    // Deleting frees it, and charges storage for exactly tokens × time held, rounded down once.
    const deleted = await a.client.delete<{ id: string; object: string; deleted: boolean }>(`/contexts/${context.id}`);
    expect(deleted).toEqual({ id: context.id, object: 'context.deleted', deleted: true });
    const row = await contextRow(context.id);
    expect(row).toMatchObject({ status: 'deleted', messages: '[]' });
    const expected = storageCost(context.tokens, Number(row.freed_at) - Number(row.created_at));
    expect(expected).toBeGreaterThan(0);
    expect(Number(row.storage_charged_micros)).toBe(expected);
    const charges = await storageRows(context.id);
    expect(charges.reduce((sum, r) => sum + Number(r.cost_micros), 0)).toBe(expected);
    expect(charges.every((r) => r.tenant_id === a.tenantId && r.prompt_tokens === 0 && r.model_id === 'skylark-tiny')).toBe(true);

    const gone = await call(sky, 'GET', `/v1/contexts/${context.id}`, { key: a.client.apiKey });
    expect(gone.status).toBe(404);
    expect(await new Ledger(db()).verify()).toEqual([]);
  });

  it('grows a session context by each turn: the new messages and the answer', async () => {
    const { context } = await create(a.client, { model: 'skylark-tiny', messages: [{ role: 'system', content: 'Count on.' }], ttl: 7200 });
    expect(context).toMatchObject({ mode: 'session', ttl: 7200 });
    const one = await a.client.post<OpenAI.Chat.Completions.ChatCompletion>('/context/chat/completions', {
      body: { context_id: context.id, model: 'skylark-tiny', messages: [{ role: 'user', content: 'Count: 7' }], max_tokens: 4, temperature: 0 },
    });
    expect(one.usage!.prompt_tokens_details!.cached_tokens).toBe(context.tokens);
    const after = await a.client.get<{ tokens: number; message_count: number }>(`/contexts/${context.id}`);
    expect(after.message_count).toBe(3);
    expect(after.tokens).toBe(one.usage!.prompt_tokens + one.usage!.completion_tokens);
    const stored = JSON.parse((await contextRow(context.id)).messages) as { role: string; content: string }[];
    expect(stored.map((m) => m.role)).toEqual(['system', 'user', 'assistant']);
    expect(stored[2]!.content).toBe(one.choices[0]!.message.content);

    const two = await a.client.post<OpenAI.Chat.Completions.ChatCompletion>('/context/chat/completions', {
      body: { context_id: context.id, messages: [{ role: 'user', content: 'Count: 3' }], max_tokens: 4, temperature: 0 },
    });
    expect(two.usage!.prompt_tokens).toBeGreaterThan(after.tokens);
    expect(two.usage!.prompt_tokens_details!.cached_tokens).toBeGreaterThanOrEqual(after.tokens);
    expect((await a.client.get<{ message_count: number }>(`/contexts/${context.id}`)).message_count).toBe(5);
  });

  it("forgets the oldest whole turns by Ark's truncation strategies, never the creation's messages", async () => {
    type Turn = { messages: number; tokens: number };
    const turnsOf = async (id: string) => {
      const row = await contextRow(id);
      return { turns: JSON.parse(row.turns) as Turn[], messages: JSON.parse(row.messages) as { role: string; content: string }[], tokens: Number(row.tokens) };
    };
    const say = (id: string, n: number) =>
      a.client.post<OpenAI.Chat.Completions.ChatCompletion>('/context/chat/completions', {
        body: { context_id: id, messages: [{ role: 'user', content: `Count: ${n}` }], max_tokens: 4, temperature: 0 },
      });
    const system = { role: 'system', content: 'Count on.' };

    const { context: last } = await create(a.client, {
      model: 'skylark-tiny',
      messages: [system],
      truncation_strategy: { type: 'last_history_tokens', last_history_tokens: 40 },
    });
    expect(last).toMatchObject({ truncation_strategy: { type: 'last_history_tokens', last_history_tokens: 40 } });
    let prefix = last.tokens;
    for (const n of [1, 2, 3, 4, 5]) {
      const answer = await say(last.id, n);
      // Each request is sent on the context as it was left: its whole stored prefix is cached input.
      expect(answer.usage!.prompt_tokens_details!.cached_tokens).toBe(prefix);
      const { turns, messages, tokens } = await turnsOf(last.id);
      expect(turns.reduce((sum, turn) => sum + turn.tokens, 0)).toBeLessThanOrEqual(40);
      expect(messages[0]).toEqual(system);
      expect(messages.length).toBe(1 + turns.reduce((sum, turn) => sum + turn.messages, 0));
      // The newest turn is kept; what is kept is the newest turns, in order.
      const users = messages.filter((m) => m.role === 'user').map((m) => m.content);
      expect(users).toEqual(Array.from({ length: turns.length }, (_, i) => `Count: ${n - turns.length + 1 + i}`));
      expect(tokens).toBe(last.tokens + turns.reduce((sum, turn) => sum + turn.tokens, 0));
      prefix = tokens;
    }
    const kept = (await turnsOf(last.id)).turns.length;
    expect(kept).toBeGreaterThanOrEqual(1);
    expect(kept).toBeLessThan(5);
    expect((await a.client.get<{ message_count: number }>(`/contexts/${last.id}`)).message_count).toBe(1 + 2 * kept);

    const { context: rolling } = await create(a.client, {
      model: 'skylark-tiny',
      messages: [system],
      truncation_strategy: { type: 'rolling_tokens', max_window_tokens: last.tokens + 50, rolling_window_tokens: 20 },
    });
    expect(rolling.truncation_strategy).toEqual({ type: 'rolling_tokens', rolling_tokens: true, max_window_tokens: last.tokens + 50, rolling_window_tokens: 20 });
    let rolled = false;
    for (const n of [1, 2, 3, 4, 5, 6]) {
      const before = await turnsOf(rolling.id);
      await say(rolling.id, n);
      const after = await turnsOf(rolling.id);
      expect(after.tokens).toBeLessThanOrEqual(last.tokens + 50);
      expect(after.messages[0]).toEqual(system);
      if (after.turns.length <= before.turns.length) {
        rolled = true;
        const gone = before.tokens + after.turns.at(-1)!.tokens - after.tokens;
        expect(gone).toBeGreaterThanOrEqual(20);
      }
    }
    expect(rolled).toBe(true);
  });

  it('expires after its TTL: 404 "context expired", storage charged up to the expiry only', async () => {
    const { context } = await create(a.client, { model: 'skylark-tiny', mode: 'common_prefix', messages: [{ role: 'system', content: longSystem }], ttl: 1 });
    const { expires_at: expiresAt } = await contextRow(context.id);
    while (Date.now() <= Number(expiresAt)) await new Promise((resolve) => setTimeout(resolve, 1 + Number(expiresAt) - Date.now()));

    const missed = await call(sky, 'POST', '/v1/chat/completions', {
      key: a.client.apiKey, body: { model: 'skylark-tiny', context_id: context.id, messages: [{ role: 'user', content: 'Count: 7' }] },
    });
    expect(missed.status).toBe(404);
    expect(missed.body.error).toMatchObject({ type: 'invalid_request_error', param: 'context_id', code: 'not_found' });
    expect(missed.body.error.message).toContain('context expired');
    const shown = await call(sky, 'GET', `/v1/contexts/${context.id}`, { key: a.client.apiKey });
    expect(shown.status).toBe(404);
    expect(shown.body.error.message).toContain('context expired');

    const row = await contextRow(context.id);
    expect(row).toMatchObject({ status: 'expired', messages: '[]' });
    expect(Number(row.freed_at)).toBe(Number(row.expires_at));
    expect(Number(row.storage_charged_micros)).toBe(storageCost(context.tokens, 1000));
    expect((await storageRows(context.id)).reduce((sum, r) => sum + Number(r.cost_micros), 0)).toBe(storageCost(context.tokens, 1000));
    const listed = await a.client.get<{ data: { id: string }[] }>('/contexts');
    expect(listed.data.map((c) => c.id)).not.toContain(context.id);
    expect(await new Ledger(db()).verify()).toEqual([]);
  });

  it('refuses a chat on a context for want of funds before using the context: no storage charged, the TTL not reset', async () => {
    // 2,000 micros: enough to create a context of a few hundred tokens (a micro each), far from
    // what a chat without max_tokens holds (the rest of the 4,096-token window at the output price: ~7,000).
    const poor = await tenant('tenant without funds', '0.002');
    const { context } = await create(poor.client, { model: 'skylark-tiny', mode: 'common_prefix', messages: [{ role: 'system', content: longSystem.slice(0, 400) }], ttl: 3600 });
    expect(context.tokens).toBeGreaterThan(100);
    expect(context.tokens).toBeLessThan(1000);
    const before = await contextRow(context.id);
    expect(await storageRows(context.id)).toEqual([]);
    // Long enough that a use would charge a span (≥ 100 tokens × 100 ms ≥ 10 micros) and move the TTL.
    await new Promise((resolve) => setTimeout(resolve, 100));

    const messages = [{ role: 'user', content: 'Count: 7' }];
    for (const [path, body] of [
      ['/v1/chat/completions', { model: 'skylark-tiny', context_id: context.id, messages }],
      ['/v1/context/chat/completions', { context_id: context.id, messages }],
    ] as const) {
      const refused = await call(sky, 'POST', path, { key: poor.client.apiKey, body });
      expect(refused.status, JSON.stringify(refused.body)).toBe(402);
      expect(refused.body.error).toMatchObject({ type: 'insufficient_quota', code: 'insufficient_quota' });
    }
    expect(await contextRow(context.id)).toEqual(before);
    expect(await storageRows(context.id)).toEqual([]);
    expect(await new Ledger(db()).verify()).toEqual([]);
  });

  it("answers another tenant's context exactly like a missing one", async () => {
    const { context } = await create(a.client, { model: 'skylark-tiny', messages: [{ role: 'user', content: 'hello' }], ttl: 3600 });
    const missing = await call(sky, 'GET', '/v1/contexts/ctx-20250101000000-0000000000', { key: b.client.apiKey });
    const foreign = await call(sky, 'GET', `/v1/contexts/${context.id}`, { key: b.client.apiKey });
    expect(foreign.status).toBe(404);
    expect(foreign.body.error.message.replace(context.id, 'X')).toBe(missing.body.error.message.replace('ctx-20250101000000-0000000000', 'X'));
    for (const [method, path, body] of [
      ['DELETE', `/v1/contexts/${context.id}`, undefined],
      ['POST', '/v1/context/chat/completions', { context_id: context.id, messages: [{ role: 'user', content: 'hi' }] }],
      ['POST', '/v1/chat/completions', { model: 'skylark-tiny', context_id: context.id, messages: [{ role: 'user', content: 'hi' }] }],
    ] as const) {
      const reply = await call(sky, method, path, { key: b.client.apiKey, ...(body === undefined ? {} : { body }) });
      expect(reply.status).toBe(404);
      expect(reply.body.error.code).toBe('not_found');
    }
    expect((await a.client.get<{ status: string }>(`/contexts/${context.id}`)).status).toBe('active');
    expect((await b.client.get<{ data: unknown[] }>('/contexts')).data).toEqual([]);
  });

  it('is described in the OpenAPI document at /docs', async () => {
    const doc = await call(sky, 'GET', '/docs/json', { key: null });
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining(['/v1/context/create', '/v1/context/chat/completions', '/v1/contexts', '/v1/contexts/{id}']),
    );
    const create = doc.body.paths['/v1/context/create'].post;
    expect(create.requestBody.content['application/json'].schema.required).toEqual(['model', 'messages']);
    expect(Object.keys(create.responses['200'].content['application/json'].schema.properties)).toEqual(expect.arrayContaining(['id', 'tokens', 'expires_at', 'usage']));
    expect(doc.body.paths['/v1/contexts/{id}'].delete).toBeDefined();
  });

  it('answers bad input with 400 (404 for an unknown model) in OpenAI error shape', async () => {
    const key = a.client.apiKey;
    const bad = async (path: string, body: unknown, status: number, param: string | null) => {
      const reply = await call(sky, 'POST', path, { key, body });
      expect(reply.status, JSON.stringify(reply.body)).toBe(status);
      expect(reply.body.error).toMatchObject({ message: expect.any(String), type: 'invalid_request_error', param, code: expect.any(String) });
      return reply.body.error;
    };
    const messages = [{ role: 'user', content: 'hi' }];
    await bad('/v1/context/create', { model: 'skylark-tiny', messages, ttl: 604_801 }, 400, 'ttl');
    await bad('/v1/context/create', { model: 'skylark-tiny', messages, ttl: 0 }, 400, 'ttl');
    await bad('/v1/context/create', { model: 'skylark-tiny', messages, mode: 'forever' }, 400, 'mode');
    await bad('/v1/context/create', { model: 'skylark-tiny' }, 400, 'messages');
    await bad('/v1/context/create', { model: 'skylark-tiny', messages, truncation_strategy: { type: 'summarize' } }, 400, 'truncation_strategy.type');
    const rollTooBig = { type: 'rolling_tokens', max_window_tokens: 100, rolling_window_tokens: 200 };
    await bad('/v1/context/create', { model: 'skylark-tiny', messages, truncation_strategy: rollTooBig }, 400, 'truncation_strategy');
    const strategy = { type: 'last_history_tokens', last_history_tokens: 100 };
    await bad('/v1/context/create', { model: 'skylark-tiny', messages, mode: 'common_prefix', truncation_strategy: strategy }, 400, 'truncation_strategy');
    expect((await bad('/v1/context/create', { model: 'no-such-model', messages }, 404, 'model')).code).toBe('model_not_found');
    await bad('/v1/context/chat/completions', { messages }, 400, 'context_id');
    const { context } = await create(a.client, { model: 'skylark-tiny', messages, ttl: 3600 });
    await bad('/v1/context/chat/completions', { context_id: context.id }, 400, 'messages');
    await bad('/v1/context/chat/completions', { context_id: context.id, model: 'other', messages }, 400, 'model');
  });
});
