/**
 * The web app in Debian's Chromium against a real platform with the tiny model: sign up,
 * chat streaming token by token, stop, reload mid-answer, search, the app factory and its
 * share link and API. Screenshots of each main page go to test-results/screenshots/.
 */
import { rmSync } from 'node:fs';
import OpenAI from 'openai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConversationDetail } from '../src/contracts/apps-api.js';
import { Ledger } from '../src/billing/ledger.js';
import { ApiKeys } from '../src/tenancy/api-keys.js';
import { Tenants } from '../src/tenancy/tenants.js';
import { launchChromium } from './support/browser.js';
import { startTestPlatform, testAdminKey, tinyModelConfig, type TestPlatform } from './support/platform.js';
import { tinyTokenId } from './support/tiny-vocab.js';
import { buildWebApp } from './support/web-build.js';
import { ask, composer, conversationIdOf, lastReply, pageFetch, poll, recordStreaming, shot } from './web/e2e-page.js';

let sky: TestPlatform;
let webRoot: string;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const pageErrors: string[] = [];
let appSlug = '';

beforeAll(async () => {
  webRoot = buildWebApp();
  sky = await startTestPlatform(tinyModelConfig({ parallel: 4, contextSize: 4096 }), { env: { SKYLARK_WEB_ROOT: webRoot } });
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US' });
  page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(error.message));
});

afterAll(async () => {
  await browser?.close();
  await sky?.close();
  if (webRoot) rmSync(webRoot, { recursive: true, force: true });
});

describe('the web app in Chromium', () => {
  it('is served at / with a strict Content-Security-Policy; API misses stay JSON', async () => {
    const deep = await fetch(`${sky.url}/c/some-conversation`);
    expect(deep.status).toBe(200);
    expect(deep.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await deep.text()).toContain('<div id="root">');
    const missing = await fetch(`${sky.url}/api/nothing`);
    expect(missing.status).toBe(404);
    expect((await missing.json()).error.code).toBe('not_found');
    const v1 = await fetch(`${sky.url}/v1/nothing`, { headers: { authorization: `Bearer ${testAdminKey}` } });
    expect((await v1.json()).error.code).toBe('not_found');
  });

  it('signs up', async () => {
    await page.goto(sky.url);
    await page.getByRole('heading', { name: 'Welcome to Skylark' }).waitFor();
    await shot(page, 'sign-in');
    await page.getByRole('button', { name: 'No account yet? Create one' }).click();
    await page.getByLabel('Username').fill('e2e-user');
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Create account', exact: true }).click();
    await composer(page).waitFor();
    await poll(() => page.locator('.user-name').textContent()).toBe('e2e-user');
    await shot(page, 'chat-new');
  });

  it('chats: the answer is stored, listed and titled', async () => {
    await ask(page, 'Count: 7');
    await page.locator('.message-assistant[data-status="complete"]').waitFor();
    // "89." is markdown for an ordered list starting at 89: shown as its marker.
    await poll(() => lastReply(page).locator('.message-body ol').getAttribute('start')).toBe('89');
    expect(page.url()).toMatch(/\/c\//);
    const detail = await pageFetch<ConversationDetail>(page, 'GET', `/api/conversations/${conversationIdOf(page)}`);
    expect(detail.body.messages.map((m) => m.content)).toEqual(['Count: 7', '89.']);
    await poll(() => page.locator('.conversations li').first().textContent()).toContain('Count: 7');
    await poll(() => composer(page).inputValue()).toBe('');
    await shot(page, 'chat-answer');
  });

  it('makes an app in the app factory', async () => {
    await page.getByRole('link', { name: 'Apps' }).click();
    await page.getByRole('link', { name: '+ Create an app' }).click();
    await page.getByLabel('Name').fill('Endless');
    await page.getByLabel('Description').fill('Never says a full stop.');
    await page.locator('select[name="model"]').selectOption('skylark-tiny');
    await page.getByLabel('Temperature').fill('0');
    await page.getByLabel('Longest answer').fill('1500');
    await page.getByLabel('Opening message').fill('Give me letters.');
    await page.getByLabel('Suggested questions').fill('abc');
    await page.getByLabel('Advanced sampling').fill(JSON.stringify({ logit_bias: { [await tinyTokenId('.')]: -100 } }));
    await shot(page, 'app-editor');
    await page.getByRole('button', { name: 'Save' }).click();
    const card = page.locator('.apps-page section').first().locator('.app-card', { hasText: 'Endless' });
    await card.waitFor();
    appSlug = (await card.getAttribute('data-slug'))!;
    expect(appSlug).toMatch(/^endless-/);
    await shot(page, 'app-gallery');
  });

  it('opens the app by its share link and streams its answer token by token; stop keeps it', async () => {
    await page.goto(`${sky.url}/a/${appSlug}`);
    await page.getByText('Give me letters.').waitFor();
    await shot(page, 'app-share-link');
    const lengths = await recordStreaming(page);
    await page.getByRole('button', { name: 'abc' }).click(); // the suggested question
    await poll(async () => (await lengths()).length).toBeGreaterThan(10);
    const seen = await lengths();
    expect(seen).toEqual([...seen].sort((a, b) => a - b)); // it only grows
    await page.getByRole('button', { name: 'Stop' }).click();
    await page.locator('.message-assistant[data-status="stopped"]').waitFor();
    await poll(() => lastReply(page).locator('.message-status').textContent()).toBe('Stopped');
    const id = conversationIdOf(page);
    const stored = (await pageFetch<ConversationDetail>(page, 'GET', `/api/conversations/${id}`)).body.messages[1]!;
    expect(stored.status).toBe('stopped');
    expect(stored.content.length).toBeGreaterThan(10);
    expect(stored.content.length).toBeLessThan(1450);
    await page.getByRole('button', { name: 'Send' }).waitFor();
  });

  it('resumes after a reload mid-answer and keeps the whole answer', async () => {
    await page.goto(`${sky.url}/a/${appSlug}`);
    await ask(page, 'abc');
    await page.locator('.message-assistant[data-status="streaming"]').waitFor();
    await poll(async () => (await lastReply(page).locator('.message-body').textContent())!.length).toBeGreaterThan(40);
    const id = conversationIdOf(page);
    const before = (await pageFetch<ConversationDetail>(page, 'GET', `/api/conversations/${id}`)).body;
    expect(before.generating).toBe(true);
    await page.reload();
    await page.locator('.message-assistant[data-status="streaming"]').waitFor();
    await shot(page, 'chat-resumed');
    await page.locator('.message-assistant[data-status="complete"]').waitFor({ timeout: 45_000 });
    const after = (await pageFetch<ConversationDetail>(page, 'GET', `/api/conversations/${id}`)).body;
    const reply = after.messages[1]!;
    expect(reply.status).toBe('complete');
    const row = await sky.platform.store.db.selectFrom('messages').select('completion_tokens').where('id', '=', reply.id).executeTakeFirstOrThrow();
    expect(row.completion_tokens).toBe(1500);
    const shown = await lastReply(page).locator('.message-body').innerText();
    const squash = (text: string) => text.replace(/\s+/g, '');
    expect(squash(shown)).toBe(squash(reply.content));
    expect(reply.content.startsWith('defghijklmnopqrstuvwxyz')).toBe(true);
  });

  it('finds an old message with search', async () => {
    await page.getByLabel('Search conversations').fill('Count');
    const hit = page.getByTestId('search-results').getByRole('link', { name: /Count: 7/ });
    await hit.waitFor();
    await shot(page, 'search');
    await hit.click();
    await poll(() => lastReply(page).locator('.message-body ol').getAttribute('start')).toBe('89');
    await poll(() => page.locator('.message-user .message-body').first().textContent()).toBe('Count: 7');
  });

  it('serves the app through the API with a key, as app:{slug}', async () => {
    const db = sky.platform.store.db;
    const tenant = await new Tenants(db).create({ name: 'e2e' });
    await new Ledger(db).topUp(tenant.id, 1_000_000, 'e2e');
    const { key } = await new ApiKeys(db).create({ tenantId: tenant.id, name: 'e2e' });
    const client = new OpenAI({ baseURL: `${sky.url}/v1`, apiKey: key, maxRetries: 0 });
    const answer = await client.chat.completions.create({ model: `app:${appSlug}`, messages: [{ role: 'user', content: 'abc' }], max_tokens: 10 });
    expect(answer.choices[0]!.message.content).toBe('defghijklm');
  });

  it('threw no errors in the page', () => {
    expect(pageErrors).toEqual([]);
  });
});
