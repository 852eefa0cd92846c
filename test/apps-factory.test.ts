import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WireApp } from '../src/contracts/apps-api.js';
import { Ledger } from '../src/billing/ledger.js';
import { ApiKeys } from '../src/tenancy/api-keys.js';
import { Tenants } from '../src/tenancy/tenants.js';
import { startFakeUpstream, type FakeUpstream } from './support/fake-upstream.js';
import { testAdminKey, tinyModelConfig, type TestPlatform } from './support/platform.js';
import { platformDialects, startDialectPlatform } from './apps/dialect-platform.js';
import { conversation, member, send } from './apps/chat-helpers.js';
import { streamedText } from './support/web-session.js';

describe.each(platformDialects)('the app factory on %s', (dialect) => {
  let sky: TestPlatform;
  let upstream: FakeUpstream;
  beforeAll(async () => {
    upstream = await startFakeUpstream();
    const tiny = tinyModelConfig({ parallel: 4, contextSize: 4096 }) as { engines: object; models: object[] };
    sky = await startDialectPlatform(dialect, {}, {
      engines: { ...tiny.engines, remote: { kind: 'openai-compatible', baseUrl: upstream.url, apiKey: 'sk-up' } },
      // An upstream that answers every request with a 500.
      models: [...tiny.models, { id: 'broken', engine: 'remote', upstreamModel: 'fake-500', tier: 'pro', capabilities: ['chat'] }],
    });
  });
  afterAll(async () => {
    await sky?.close();
    await upstream?.close();
  });

  async function tenantKey(): Promise<{ key: string; tenantId: string }> {
    const db = sky.platform.store.db;
    const tenant = await new Tenants(db).create({ name: `t-${Math.random()}` });
    await new Ledger(db).topUp(tenant.id, 1_000_000, 'test');
    const { key } = await new ApiKeys(db).create({ tenantId: tenant.id, name: 'test' });
    return { key, tenantId: tenant.id };
  }

  it('makes, lists, edits and deletes an app; only its owner may change it', async () => {
    const owner = await member(sky.url);
    const made = await owner.json<WireApp>('POST', '/api/apps', {
      name: 'Counting Coach',
      icon: '🔢',
      description: 'Counts for you',
      model: 'skylark-tiny',
      system_prompt: 'You count.',
      temperature: 0,
      opening_message: 'Give me a number.',
      suggested_questions: ['Count: 7'],
      visibility: 'public',
      slug: 'counting-coach',
    });
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({ slug: 'counting-coach', owned: true, builtin: false, daily_token_quota: 20_000, system_prompt: 'You count.' });

    const gallery = (await (await member(sky.url)).json<{ data: WireApp[] }>('GET', '/api/apps')).body.data;
    const listed = gallery.find((app) => app.slug === 'counting-coach')!;
    expect(listed).toMatchObject({ owned: false, system_prompt: '' }); // the prompt is the owner's
    expect(gallery.some((app) => app.slug === 'chat' && app.builtin)).toBe(true);
    expect((await owner.json('GET', '/api/apps?scope=mine')).body.data.map((a: WireApp) => a.slug)).toEqual(['counting-coach']);

    expect((await owner.json('POST', '/api/apps', { name: 'Again', slug: 'counting-coach' })).body.error.param).toBe('slug');
    expect((await owner.json('POST', '/api/apps', { name: 'Bad model', model: 'no-such-model' })).body.error.param).toBe('model');
    expect((await owner.json('POST', '/api/apps', { name: 'Bad', temperature: 3 })).body.error.param).toBe('temperature');
    const generated = await owner.json<WireApp>('POST', '/api/apps', { name: '翻译助手' });
    expect(generated.body.slug).toMatch(/^app-[0-9a-z]{5}$/);

    const stranger = await member(sky.url);
    expect((await stranger.json('PATCH', '/api/apps/counting-coach', { name: 'Mine now' })).status).toBe(403);
    expect((await stranger.json('GET', '/api/apps/counting-coach/usage')).status).toBe(403);
    const edited = await owner.json<WireApp>('PATCH', '/api/apps/counting-coach', { visibility: 'private', max_tokens: 2 });
    expect(edited.body).toMatchObject({ visibility: 'private', max_tokens: 2, name: 'Counting Coach' });
    expect((await stranger.json('GET', '/api/apps/counting-coach')).status).toBe(404);
    expect((await stranger.json('POST', '/api/conversations', { app: 'counting-coach' })).status).toBe(404);
    expect((await owner.json('PATCH', '/api/apps/chat', { name: 'Hijacked' })).status).toBe(403);

    expect((await owner.json('DELETE', `/api/apps/${generated.body.slug}`)).status).toBe(204);
    expect((await owner.json('GET', `/api/apps/${generated.body.slug}`)).status).toBe(404);
  });

  it('answers in the web app with the app\'s prompt, and falls back when its model fails', async () => {
    const owner = await member(sky.url);
    const app = await owner.json<WireApp>('POST', '/api/apps', { name: 'Counter', model: 'skylark-tiny', system_prompt: 'You count.', temperature: 0, visibility: 'public' });
    const web = await member(sky.url);
    const chat = await conversation(web, app.body.slug);
    await send(web, chat.id, 'Count: 7');
    expect(streamedText(await web.readStream(chat.id))).toBe('89.');
    const row = await sky.platform.store.db.selectFrom('messages').selectAll().where('conversation_id', '=', chat.id).where('role', '=', 'assistant').executeTakeFirstOrThrow();
    expect(row.prompt_tokens).toBeGreaterThan(17); // the system prompt came first

    const fallback = await owner.json<WireApp>('POST', '/api/apps', { name: 'Shaky', model: 'broken', fallback_model: 'skylark-tiny', temperature: 0 });
    const shaky = await conversation(owner, fallback.body.slug);
    await send(owner, shaky.id, 'Count: 7');
    const read = await owner.readStream(shaky.id);
    expect(read.events.at(-1)).toMatchObject({ type: 'done', message: { content: '89.', model: 'skylark-tiny', status: 'complete' } });

    const alone = await owner.json<WireApp>('POST', '/api/apps', { name: 'Broken', model: 'broken' });
    const failing = await conversation(owner, alone.body.slug);
    await send(owner, failing.id, 'Count: 7');
    const failed = (await owner.readStream(failing.id)).events.at(-1)!;
    expect(failed).toMatchObject({ type: 'error', error: { code: 'upstream_error' }, message: { status: 'error', error_code: 'upstream_error' } });
  });

  it('serves an app through the OpenAI API as app:{slug}, billed to the calling key', async () => {
    const owner = await member(sky.url);
    const made = await owner.json<WireApp>('POST', '/api/apps', {
      name: 'API app', model: 'skylark-tiny', system_prompt: 'You count.', max_tokens: 2, visibility: 'public', slug: 'api-app',
    });
    expect(made.status).toBe(201);
    const { key, tenantId } = await tenantKey();
    const client = new OpenAI({ baseURL: `${sky.url}/v1`, apiKey: key, maxRetries: 0 });
    const { data, response } = await client.chat.completions
      .create({ model: 'app:api-app', messages: [{ role: 'user', content: 'Count: 7' }], temperature: 0 })
      .withResponse();
    expect(data.choices[0]!.message.content).toBe('89');
    expect(data.choices[0]!.finish_reason).toBe('length'); // the app's max_tokens is a ceiling
    expect(data.usage!.prompt_tokens).toBeGreaterThan(17); // its system prompt came first
    await sky.platform.usageWriter.flush();
    const usage = await sky.platform.store.db
      .selectFrom('usage_records')
      .selectAll()
      .where('request_id', '=', response.headers.get('x-request-id')!)
      .executeTakeFirstOrThrow();
    expect(usage).toMatchObject({ tenant_id: tenantId, model_id: 'skylark-tiny' });

    // The Anthropic and Responses APIs serve the app the same way: its prompt, its ceiling.
    const anthropic = new Anthropic({ baseURL: sky.url, apiKey: key, maxRetries: 0 });
    // The SDK's types no longer list temperature; the API still takes it.
    const params = { model: 'app:api-app', max_tokens: 50, temperature: 0, messages: [{ role: 'user' as const, content: 'Count: 7' }] };
    const message = await anthropic.messages.create(params as Anthropic.MessageCreateParamsNonStreaming);
    expect(message.content).toMatchObject([{ type: 'text', text: '89' }]);
    expect(message.stop_reason).toBe('max_tokens');
    // Anthropic counts the prefix the engine reused apart from input_tokens.
    expect(message.usage.input_tokens + (message.usage.cache_read_input_tokens ?? 0)).toBe(data.usage!.prompt_tokens);
    const counted = await anthropic.messages.countTokens({ model: 'app:api-app', messages: [{ role: 'user', content: 'Count: 7' }] });
    expect(counted.input_tokens).toBe(data.usage!.prompt_tokens);
    const answered = await client.responses.create({ model: 'app:api-app', input: 'Count: 7', temperature: 0 });
    expect(answered.output_text).toBe('89');
    expect(answered.status).toBe('incomplete');
    expect(answered.usage!.input_tokens).toBe(data.usage!.prompt_tokens);

    await owner.json('PATCH', '/api/apps/api-app', { visibility: 'private' });
    await new Promise((resolve) => setTimeout(resolve, 1100)); // the gateway trusts app rows for a second
    const hidden = await client.chat.completions.create({ model: 'app:api-app', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect((hidden as InstanceType<typeof OpenAI.APIError>).status).toBe(404);
    expect((hidden as InstanceType<typeof OpenAI.APIError>).code).toBe('model_not_found');
    const operator = new OpenAI({ baseURL: `${sky.url}/v1`, apiKey: testAdminKey, maxRetries: 0 });
    const served = await operator.chat.completions.create({ model: 'app:api-app', messages: [{ role: 'user', content: 'Count: 7' }], temperature: 0 });
    expect(served.choices[0]!.message.content).toBe('89');
    const unknown = await client.chat.completions.create({ model: 'app:nope', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect((unknown as InstanceType<typeof OpenAI.APIError>).status).toBe(404);
    const hiddenMessage = await anthropic.messages
      .create({ model: 'app:api-app', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect((hiddenMessage as InstanceType<typeof Anthropic.APIError>).status).toBe(404);
  });
});
