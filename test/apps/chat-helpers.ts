import { expect } from 'vitest';
import type { WireApp, WireConversation } from '../../src/contracts/apps-api.js';
import { tinyTokenId } from '../support/tiny-vocab.js';
import { WebSession } from '../support/web-session.js';

let counter = 0;

export async function member(url: string, name = `user${++counter}-${Date.now().toString(36)}`): Promise<WebSession> {
  const web = await WebSession.open(url);
  await web.signUp(name);
  return web;
}

export async function conversation(web: WebSession, app = 'chat'): Promise<WireConversation> {
  const { status, body } = await web.json<WireConversation>('POST', '/api/conversations', { app });
  expect(status).toBe(201);
  return body;
}

/** An app whose answers never end on their own: the tiny model may not say '.'. */
export async function endlessApp(web: WebSession, overrides: Record<string, unknown> = {}): Promise<WireApp> {
  const { status, body } = await web.json<WireApp>('POST', '/api/apps', {
    name: 'Endless',
    model: 'skylark-tiny',
    max_tokens: 3000,
    temperature: 0,
    advanced: { logit_bias: { [await tinyTokenId('.')]: -100 } },
    daily_token_quota: 1_000_000,
    ...overrides,
  });
  expect(status, JSON.stringify(body)).toBe(201);
  return body;
}

export async function send(web: WebSession, conversationId: string, content: string, extra: Record<string, unknown> = {}) {
  return web.json('POST', `/api/conversations/${conversationId}/messages`, { content, ...extra });
}
