import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConversationDetail, ReplyEvent } from '../src/contracts/apps-api.js';
import { startTestPlatform, type TestPlatform } from './support/platform.js';
import { streamedText } from './support/web-session.js';
import { platformDialects, startDialectPlatform } from './apps/dialect-platform.js';
import { conversation, endlessApp, member, send } from './apps/chat-helpers.js';

const last = (events: ReplyEvent[]) => events.at(-1)!;

describe.each(platformDialects)('web app chat on %s', (dialect) => {
  let sky: TestPlatform;
  beforeAll(async () => {
    sky = await startDialectPlatform(dialect);
  });
  afterAll(async () => {
    await sky?.close();
  });

  it('answers on the server and streams the reply token by token', async () => {
    const web = await member(sky.url);
    const chat = await conversation(web);
    const sent = await send(web, chat.id, 'Count: 7');
    expect(sent.status).toBe(202);
    expect(sent.body.assistant_message).toMatchObject({ role: 'assistant', status: 'streaming', model: 'skylark-tiny' });
    const read = await web.readStream(chat.id);
    expect(streamedText(read)).toBe('89.');
    expect(last(read.events)).toMatchObject({ type: 'done', message: { content: '89.', status: 'complete' } });
    const detail = (await web.json<ConversationDetail>('GET', `/api/conversations/${chat.id}`)).body;
    expect(detail.generating).toBe(false);
    expect(detail.conversation.title).toBe('Count: 7');
    expect(detail.messages.map((m) => [m.role, m.content, m.status])).toEqual([
      ['user', 'Count: 7', 'complete'],
      ['assistant', '89.', 'complete'],
    ]);
    // Long enough to be followed while it is written: one delta per token.
    const longer = await conversation(web, (await endlessApp(web, { max_tokens: 300 })).slug);
    await send(web, longer.id, 'abc');
    const letters = await web.readStream(longer.id);
    expect(streamedText(letters)).toMatch(/^defghijklmnopqrstuvwxyz/);
    expect(letters.events.filter((e) => e.type === 'delta').length).toBeGreaterThan(50);
  });

  it('keeps writing when the page goes away, and a reconnect resumes with the whole answer', async () => {
    const web = await member(sky.url);
    const app = await endlessApp(web, { max_tokens: 1000 });
    const chat = await conversation(web, app.slug);
    await send(web, chat.id, 'abc');
    const first = await web.readStream(chat.id, (read) => read.events.filter((e) => e.type === 'delta').length >= 5);
    const seen = streamedText(first);
    expect(seen.length).toBeGreaterThanOrEqual(5);
    // Nobody listens for a while; the reply goes on.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const second = await web.readStream(chat.id);
    const start = second.events[0]!;
    expect(start.type).toBe('start');
    expect((start as { text: string }).text.startsWith(seen)).toBe(true);
    const whole = streamedText(second);
    const end = last(second.events);
    expect(end.type).toBe('done');
    expect((end as { message: { content: string } }).message.content).toBe(whole);
    expect(whole.startsWith(seen)).toBe(true);
    expect(whole.length).toBeGreaterThan(300);
    const stored = (await web.json<ConversationDetail>('GET', `/api/conversations/${chat.id}`)).body.messages[1]!;
    expect(stored).toMatchObject({ status: 'complete', content: whole });
    const row = await sky.platform.store.db.selectFrom('messages').selectAll().where('id', '=', stored.id).executeTakeFirstOrThrow();
    expect(row.completion_tokens).toBe(1000);
  });

  it('stops a reply on request and keeps what was written', async () => {
    const web = await member(sky.url);
    const app = await endlessApp(web);
    const chat = await conversation(web, app.slug);
    await send(web, chat.id, 'abc');
    await web.readStream(chat.id, (read) => read.events.some((e) => e.type === 'delta'));
    expect((await web.json('POST', `/api/conversations/${chat.id}/stop`)).body).toEqual({ stopped: true });
    const read = await web.readStream(chat.id);
    const end = last(read.events) as Extract<ReplyEvent, { type: 'done' }>;
    expect(end.type).toBe('done');
    expect(end.message.status).toBe('stopped');
    expect(end.message.content.length).toBeGreaterThan(0);
    expect(end.message.content.length).toBeLessThan(2500);
    const detail = (await web.json<ConversationDetail>('GET', `/api/conversations/${chat.id}`)).body;
    expect(detail.messages[1]).toMatchObject({ status: 'stopped', content: end.message.content });
  });

  it('refuses a second message while a reply is being written', async () => {
    const web = await member(sky.url);
    const app = await endlessApp(web);
    const chat = await conversation(web, app.slug);
    await send(web, chat.id, 'abc');
    const again = await send(web, chat.id, 'abc');
    expect(again.status).toBe(400);
    expect(again.body.error.message).toMatch(/still being written/);
    await web.json('POST', `/api/conversations/${chat.id}/stop`);
    await web.readStream(chat.id);
  });

  it('regenerates the last answer and edits an earlier message, replacing what followed', async () => {
    const web = await member(sky.url);
    const chat = await conversation(web);
    const first = await send(web, chat.id, 'Count: 7');
    await web.readStream(chat.id);
    const again = await web.json('POST', `/api/conversations/${chat.id}/regenerate`);
    expect(again.status).toBe(202);
    expect(again.body.user_message.id).toBe(first.body.user_message.id);
    expect(again.body.assistant_message.id).not.toBe(first.body.assistant_message.id);
    expect(streamedText(await web.readStream(chat.id))).toBe('89.');
    await send(web, chat.id, 'abc');
    await web.readStream(chat.id);
    const edited = await send(web, chat.id, 'Count: 5', { replace_from: first.body.user_message.id });
    expect(edited.status).toBe(202);
    expect(streamedText(await web.readStream(chat.id))).toBe('6789.');
    const detail = (await web.json<ConversationDetail>('GET', `/api/conversations/${chat.id}`)).body;
    expect(detail.messages.map((m) => m.content)).toEqual(['Count: 5', '6789.']);
  });

  it('holds each user to the app\'s daily tokens and says when they reset', async () => {
    const owner = await member(sky.url);
    const made = await owner.json('POST', '/api/apps', { name: 'Tiny quota', model: 'skylark-tiny', daily_token_quota: 30, visibility: 'public' });
    expect(made.status).toBe(201);
    const web = await member(sky.url);
    const chat = await conversation(web, made.body.slug);
    await send(web, chat.id, 'Count: 7');
    await web.readStream(chat.id);
    expect((await web.json('GET', `/api/apps/${made.body.slug}/quota`)).body).toMatchObject({ limit: 30, used: 21 });
    // 9 tokens left: the next reply is cut to fit them.
    await send(web, chat.id, 'abc');
    const capped = await web.readStream(chat.id);
    expect(last(capped.events)).toMatchObject({ type: 'done' });
    const refused = await send(web, chat.id, 'Count: 1');
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('quota_exhausted');
    const resets = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate() + 1));
    expect(refused.body.error.message).toContain(resets.toISOString());
    const retryAfter = Number(refused.response.headers.get('retry-after'));
    expect(Math.abs(retryAfter - (resets.getTime() - Date.now()) / 1000)).toBeLessThan(5);
    // The refused message was not stored (the page keeps it in the box to send later).
    const detail = (await web.json<ConversationDetail>('GET', `/api/conversations/${chat.id}`)).body;
    expect(detail.messages.filter((m) => m.role === 'user').map((m) => m.content)).toEqual(['Count: 7', 'abc']);
    // Other users of the app have their own quota.
    const other = await member(sky.url);
    const theirs = await conversation(other, made.body.slug);
    expect((await send(other, theirs.id, 'Count: 7')).status).toBe(202);
    await other.readStream(theirs.id);
    const usage = await owner.json('GET', `/api/apps/${made.body.slug}/usage`);
    expect(usage.body.data[0]).toMatchObject({ users: 2, requests: 3 });
  });
});

describe('web app replies at shutdown', () => {
  it('are given the grace period, then stopped and stored, and their followers told', async () => {
    const sky = await startDialectPlatform('sqlite');
    const web = await member(sky.url);
    const app = await endlessApp(web, { max_tokens: 3000 });
    const chat = await conversation(web, app.slug);
    await send(web, chat.id, 'abc');
    const following = web.readStream(chat.id);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const started = Date.now();
    await sky.close(); // the test platform's grace is 2 s; the reply needs ~10 s more
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
    const end = (await following).events.at(-1) as Extract<ReplyEvent, { type: 'done' }>;
    expect(end).toMatchObject({ type: 'done', message: { status: 'stopped', error_code: 'interrupted' } });
    expect(end.message.content.length).toBeGreaterThan(10);
  });
});

describe('web app replies waiting for compute', () => {
  it('pass on the scheduler\'s place in line, then the answer', async () => {
    const sky = await startTestPlatform({
      engines: { sim: { kind: 'sim', slots: 1, answerTokens: 200, timeScale: 1 } },
      models: [{ id: 'sim-one', engine: 'sim', capabilities: ['chat'] }],
    });
    try {
      const users = await Promise.all([member(sky.url), member(sky.url), member(sky.url)]);
      const chats = await Promise.all(users.map((web) => conversation(web)));
      for (const [i, web] of users.entries()) expect((await send(web, chats[i]!.id, 'hi')).status).toBe(202);
      const reads = await Promise.all(users.map((web, i) => web.readStream(chats[i]!.id)));
      // One slot: the first runs at once, the others are told where they stand.
      expect(reads[0]!.comments.filter((c) => c.startsWith('queue'))).toEqual([]);
      expect(reads[2]!.comments[0]).toMatch(/^queue position=2 eta_ms=\d+( eta_range_ms=\d+-\d+)?$/);
      expect(reads[2]!.comments).toContainEqual(expect.stringMatching(/^queue position=1 eta_ms=\d+( eta_range_ms=\d+-\d+)?$/));
      for (const read of reads) expect(read.events.at(-1)).toMatchObject({ type: 'done', message: { status: 'complete', model: 'sim-one' } });
    } finally {
      await sky.close();
    }
  });
});
