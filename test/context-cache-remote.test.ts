/**
 * Context caching on remote engines (two `openai-compatible` replicas of one model, fake
 * upstreams on 127.0.0.1): the creation sends the context once with max_tokens 1 and bills
 * the upstream's prompt count at the input price; every request on the context then goes to
 * the replica that holds it (the scheduler's prefix affinity) with the context's messages
 * first, and reports its tokens as cached.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startFakeUpstream, type FakeUpstream } from './support/fake-upstream.js';
import { startTestPlatform, testAdminKey, type TestPlatform } from './support/platform.js';

let sky: TestPlatform;
let upstreams: FakeUpstream[];

beforeAll(async () => {
  // One slot each, and slow streams: a streamed request holds its replica for a second.
  const options = { promptTokens: 1500, cachedTokens: 1200, chunks: 5, chunkDelayMs: 200 };
  upstreams = await Promise.all([startFakeUpstream(options), startFakeUpstream(options)]);
  sky = await startTestPlatform({
    engines: {
      one: { kind: 'openai-compatible', baseUrl: upstreams[0]!.url, slots: 1 },
      two: { kind: 'openai-compatible', baseUrl: upstreams[1]!.url, slots: 1 },
    },
    models: [{ id: 'remote-pro', engine: ['one', 'two'], upstreamModel: 'fake-ok', tier: 'pro', capabilities: ['chat'] }],
  });
});
afterAll(async () => {
  await sky?.close();
  await Promise.all((upstreams ?? []).map((upstream) => upstream.close()));
});

it('counts the context upstream once, then routes every turn on it to the replica that holds it', async () => {
  const client = new OpenAI({ baseURL: sky.baseURL, apiKey: testAdminKey, maxRetries: 0 });
  const create = (system: string) =>
    client.post<{ id: string; tokens: number; usage: { prompt_tokens: number } }>('/context/create', {
      body: { model: 'remote-pro', mode: 'common_prefix', messages: [{ role: 'system', content: system }] },
    });
  const systemA = 'You are a careful assistant. '.repeat(200);
  const systemB = 'You are a terse assistant. '.repeat(200);

  // A goes to the first replica (both idle); B is created while a slow stream holds that one.
  const a = await create(systemA);
  expect(a.tokens).toBe(1500);
  expect(a.usage.prompt_tokens).toBe(1500);
  expect(upstreams[0]!.requests.map((r) => r.body)).toEqual([expect.objectContaining({ model: 'fake-ok', max_tokens: 1, messages: [{ role: 'system', content: systemA }] })]);
  const slow = await client.chat.completions.create({ model: 'remote-pro', messages: [{ role: 'user', content: 'take your time' }], stream: true });
  const b = await create(systemB);
  for await (const _ of slow) void _;
  expect(upstreams[1]!.requests.map((r) => r.body)).toEqual([expect.objectContaining({ max_tokens: 1, messages: [{ role: 'system', content: systemB }] })]);

  // Both idle again: without prefix affinity every turn would go to the first replica.
  for (let turn = 0; turn < 3; turn++) {
    for (const context of [a, b]) {
      const answer = (await client.chat.completions.create({
        model: 'remote-pro', context_id: context.id, messages: [{ role: 'user', content: `turn ${turn}` }],
      } as never)) as OpenAI.Chat.Completions.ChatCompletion;
      expect(answer.usage!.prompt_tokens_details!.cached_tokens).toBe(1500);
    }
  }
  const systems = (upstream: FakeUpstream) => upstream.requests.map((r) => ((r.body as { messages: { content: string }[] }).messages[0]!.content));
  expect(systems(upstreams[0]!).filter((s) => s === systemA)).toHaveLength(4);
  expect(systems(upstreams[0]!)).not.toContain(systemB);
  expect(systems(upstreams[1]!)).toEqual([systemB, systemB, systemB, systemB]);
  expect(upstreams[1]!.requests[3]!.body).toMatchObject({ messages: [{ role: 'system', content: systemB }, { role: 'user', content: 'turn 2' }] });

  await sky.platform.usageWriter.flush();
  const rows = await sky.platform.store.db.selectFrom('usage_records').selectAll().where('cached_tokens', '=', 1500).execute();
  expect(rows).toHaveLength(6);
  // Pro's seeded price: ¥0.8 in, ¥0.16 cached, ¥2 out per 1M tokens.
  for (const row of rows) expect(Number(row.cost_micros)).toBe(Math.floor((1500 * 160_000 + row.completion_tokens * 2_000_000 + 500_000) / 1_000_000));
  const created = await sky.platform.store.db.selectFrom('usage_records').selectAll().where('completion_tokens', '=', 0).where('prompt_tokens', '=', 1500).execute();
  expect(created.map((row) => [row.cached_tokens, Number(row.cost_micros)])).toEqual([[0, 1200], [0, 1200]]);
});
