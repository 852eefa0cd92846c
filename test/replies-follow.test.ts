/**
 * Issue 10, item 3: a web-app reply written on gateway A is followed live from gateway B.
 * Two `skylark serve` processes on one PostgreSQL and one Redis, each with a `sim` engine
 * slow enough (≈ 50 tokens/s) to be joined mid-reply; the user signs in on A and uses the
 * same session cookies on B, as a reload behind a load balancer would.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ConversationDetail, ReplyEvent, WireApp, WireMessage } from '../src/contracts/apps-api.js';
import { ChatRuns } from '../src/consumer/chat-runs.js';
import { RedisReplyRelay } from '../src/consumer/redis-reply-relay.js';
import type { RemoteEvent } from '../src/consumer/reply-relay.js';
import { openRedis } from '../src/store/redis.js';
import { conversation, member, send } from './apps/chat-helpers.js';
import { runCli, type CliProcess } from './support/cli-process.js';
import './store/provided-context.js';
import { createDatabase, postgresUrlKey, startPostgres, type PostgresServer } from './support/postgres.js';
import { redisUrlKey, startRedis, type RedisServer } from './support/redis.js';
import { streamedText, WebSession, type StreamRead } from './support/web-session.js';

interface Gateway {
  url: string;
  proc: CliProcess;
}

let ownPostgres: PostgresServer | undefined;
let ownRedis: RedisServer | undefined;
const dirs: string[] = [];
let a: Gateway;
let b: Gateway;
let redisUrl: string;

async function serveSim(env: NodeJS.ProcessEnv): Promise<Gateway> {
  const dir = await mkdtemp(join(tmpdir(), 'skylark-follow-'));
  dirs.push(dir);
  const config = join(dir, 'skylark.yaml');
  await writeFile(
    config,
    stringify({
      server: { shutdownGraceMs: 1000 },
      // ≈ 8 simulated ms a token × 2.5: about 50 tokens a second, answers as long as max_tokens.
      engines: { sim: { kind: 'sim', slots: 8, timeScale: 2.5, answerTokens: 10_000 } },
      models: [{ id: 'sim-chat', engine: 'sim', capabilities: ['chat'] }],
    }),
  );
  const proc = runCli(['serve', '--port', '0', '--host', '127.0.0.1', '--data', dir, '--config', config], env);
  return { url: await proc.listening, proc };
}

beforeAll(async () => {
  const pg = inject(postgresUrlKey as 'skylarkPostgresUrl');
  const redis = inject(redisUrlKey as 'skylarkRedisUrl');
  const pgServer = typeof pg === 'string' && pg !== '' ? pg : (ownPostgres = await startPostgres()).url;
  redisUrl = typeof redis === 'string' && redis !== '' ? redis : (ownRedis = await startRedis()).url;
  const env = { DATABASE_URL: await createDatabase(pgServer), REDIS_URL: redisUrl, SKYLARK_ADMIN_KEY: 'sk-follow-admin-key-0123456789' };
  a = await serveSim(env);
  b = await serveSim(env);
}, 120_000);

afterAll(async () => {
  for (const gateway of [a, b]) gateway?.proc.child.kill('SIGKILL');
  await Promise.all([a, b].map((gateway) => gateway?.proc.exited));
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  await ownPostgres?.stop();
  await ownRedis?.stop();
});

/** The same signed-in user on another gateway: the session lives in the shared database. */
function sameUserOn(web: WebSession, gateway: Gateway): WebSession {
  const other = new WebSession(gateway.url);
  for (const [name, value] of web.cookies) other.cookies.set(name, value);
  return other;
}

async function simApp(web: WebSession, maxTokens: number): Promise<WireApp> {
  const { status, body } = await web.json<WireApp>('POST', '/api/apps', {
    name: `Sim ${maxTokens}`,
    model: 'sim-chat',
    max_tokens: maxTokens,
    daily_token_quota: 1_000_000,
  });
  expect(status, JSON.stringify(body)).toBe(201);
  return body;
}

const deltas = (read: StreamRead) => read.events.filter((event) => event.type === 'delta').length;
const last = (read: StreamRead) => read.events.at(-1)!;

async function storedReply(web: WebSession, conversationId: string): Promise<WireMessage> {
  const detail = (await web.json<ConversationDetail>('GET', `/api/conversations/${conversationId}`)).body;
  return detail.messages.at(-1)!;
}

describe('replies that follow across two gateways on one PostgreSQL and Redis', () => {
  it('follows from B, joined mid-reply, a reply written on A: the text so far, then the live rest', { timeout: 60_000 }, async () => {
    const onA = await member(a.url);
    const onB = sameUserOn(onA, b);
    const chat = await conversation(onA, (await simApp(onA, 250)).slug);
    expect((await send(onA, chat.id, 'Tell me a story')).status).toBe(202);
    const seenOnA = streamedText(await onA.readStream(chat.id, (read) => deltas(read) >= 5));
    // What a reload landing on B sees first: a reply being written, which the page then follows.
    const detail = (await onB.json<ConversationDetail>('GET', `/api/conversations/${chat.id}`)).body;
    expect(detail.generating).toBe(true);
    const followed = await onB.readStream(chat.id);
    const start = followed.events[0] as Extract<ReplyEvent, { type: 'start' }>;
    expect(start.type).toBe('start');
    expect(start.message_id).toBe(detail.messages.at(-1)!.id);
    expect(start.text.startsWith(seenOnA)).toBe(true);
    expect(deltas(followed)).toBeGreaterThan(0);
    const end = last(followed) as Extract<ReplyEvent, { type: 'done' }>;
    expect(end.type).toBe('done');
    expect(end.message.status).toBe('complete');
    expect(end.message.content).toBe(streamedText(followed));
    expect(await storedReply(onA, chat.id)).toMatchObject({ id: start.message_id, status: 'complete', content: end.message.content });

    // A follower arriving after the end, on either gateway, gets the whole answer and `done`.
    for (const web of [onB, onA]) {
      const after = await web.readStream(chat.id);
      expect(after.events.map((event) => event.type)).toEqual(['start', 'done']);
      expect(streamedText(after)).toBe(end.message.content);
    }
    expect((await onB.json<ConversationDetail>('GET', `/api/conversations/${chat.id}`)).body.generating).toBe(false);
  });

  it('stops from B a reply running on A, keeping what was written', { timeout: 60_000 }, async () => {
    const onA = await member(a.url);
    const onB = sameUserOn(onA, b);
    const chat = await conversation(onA, (await simApp(onA, 5000)).slug);
    await send(onA, chat.id, 'Go on forever');
    await onB.readStream(chat.id, (read) => deltas(read) > 0);
    expect((await onB.json('POST', `/api/conversations/${chat.id}/stop`)).body).toEqual({ stopped: true });
    const read = await onB.readStream(chat.id);
    const end = last(read) as Extract<ReplyEvent, { type: 'done' }>;
    expect(end.type).toBe('done');
    expect(end.message).toMatchObject({ status: 'stopped', error_code: null });
    expect(end.message.content.length).toBeGreaterThan(0);
    expect(await storedReply(onA, chat.id)).toMatchObject({ status: 'stopped', content: end.message.content });
  });

  it('refuses on B a second message while A writes the conversation\'s reply', { timeout: 60_000 }, async () => {
    const onA = await member(a.url);
    const onB = sameUserOn(onA, b);
    const chat = await conversation(onA, (await simApp(onA, 5000)).slug);
    await send(onA, chat.id, 'Go on forever');
    const again = await send(onB, chat.id, 'Me too');
    expect(again.status).toBe(400);
    expect(again.body.error.message).toMatch(/still being written/);
    const regenerate = await onB.json('POST', `/api/conversations/${chat.id}/regenerate`);
    expect(regenerate.status).toBe(400);
    await onA.json('POST', `/api/conversations/${chat.id}/stop`);
    expect(last(await onB.readStream(chat.id))).toMatchObject({ type: 'done', message: { status: 'stopped' } });
    // Once it has ended, B may send.
    expect((await send(onB, chat.id, 'Now me', {})).status).toBe(202);
    await onB.json('POST', `/api/conversations/${chat.id}/stop`);
    await onB.readStream(chat.id);
  });

  it('tells a follower on B that the reply was interrupted when A dies mid-reply, and frees the conversation', { timeout: 60_000 }, async () => {
    const onA = await member(a.url);
    const onB = sameUserOn(onA, b);
    const chat = await conversation(onA, (await simApp(onA, 5000)).slug);
    await send(onA, chat.id, 'Go on forever');
    let killed = false;
    const read = await onB.readStream(chat.id, (sofar) => {
      if (!killed && deltas(sofar) > 0) {
        a.proc.child.kill('SIGKILL');
        killed = true;
      }
      return false;
    });
    expect(killed).toBe(true);
    const end = last(read) as Extract<ReplyEvent, { type: 'error' }>;
    expect(end.type).toBe('error');
    expect(end.error.code).toBe('interrupted');
    expect(end.message.status).toBe('streaming'); // nobody stored it: A died before its end
    expect((await onB.json<ConversationDetail>('GET', `/api/conversations/${chat.id}`)).body.generating).toBe(false);
    // A's claim on the conversation died with it.
    expect((await send(onB, chat.id, 'Are you there?')).status).toBe(202);
    await onB.json('POST', `/api/conversations/${chat.id}/stop`);
    expect(last(await onB.readStream(chat.id))).toMatchObject({ type: 'done', message: { status: 'stopped' } });
  });
});

describe('the Redis reply relay', () => {
  it('gives a late follower the whole text even when the stream cap has trimmed its beginning', { timeout: 30_000 }, async () => {
    const redis = await openRedis(redisUrl);
    const writer = new RedisReplyRelay(redis, { maxLen: 20, snapshotEvery: 5 });
    const reader = new RedisReplyRelay(redis);
    await Promise.all([writer.start(), reader.start()]);
    try {
      const conversationId = `conv-trim-${Date.now()}`;
      const messageId = 900_000_000 + Math.floor(Math.random() * 1_000_000);
      expect(await writer.claim(conversationId)).toBe(true);
      expect(await reader.claim(conversationId)).toBe(false);
      let finish!: () => void;
      const finished = new Promise<void>((resolve) => (finish = resolve));
      const message: WireMessage = { id: messageId, role: 'assistant', content: '', status: 'complete', error_code: null, model: 'm', created_at: 0 };
      const runs = new ChatRuns(writer);
      const run = runs.start(conversationId, messageId, async (live) => {
        for (let i = 0; i < 100; i++) live.push(`${i} `);
        await finished;
        return { message: { ...message, content: live.text } };
      });
      const whole = Array.from({ length: 100 }, (_, i) => `${i} `).join('');
      await redis.client.ping(); // the writes went out before this, on the same connection
      expect(await redis.client.xlen(`skylark:reply:events:${messageId}`)).toBeLessThan(100);
      expect(await reader.writing(conversationId)).toBe(true);
      const remote = (await reader.follow(conversationId, new AbortController().signal))!;
      expect(remote).toMatchObject({ messageId, text: whole });
      expect(remote.end).toBeUndefined();
      const events: RemoteEvent[] = [];
      const reading = (async () => {
        for await (const event of remote.live) events.push(event);
      })();
      run.push('end.');
      finish();
      await reading;
      expect(events).toEqual([
        { type: 'delta', text: 'end.' },
        { type: 'end', end: { message: { ...message, content: `${whole}end.` } } },
      ]);
      expect(await reader.writing(conversationId)).toBe(false);
      // The stream lingers for late followers, then expires.
      expect(await redis.client.pttl(`skylark:reply:events:${messageId}`)).toBeGreaterThan(0);
    } finally {
      await writer.close();
      await reader.close();
      await redis.close();
    }
  });
});
