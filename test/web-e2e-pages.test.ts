/**
 * The web app's other promises, in Chromium: errors a person can act on (quota with its
 * reset time, overloaded with a countdown, network lost, model failed) that never lose
 * typed text; the place in line; both languages; a phone-sized screen; a 1,000-message
 * conversation; and no serious accessibility violations (axe-core) on the main pages.
 */
import { rmSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { searchText } from '../src/apps/search-text.js';
import { axeFindings, launchChromium } from './support/browser.js';
import { startTestPlatform, tinyWithOneSlotSim, type TestPlatform } from './support/platform.js';
import { buildWebApp } from './support/web-build.js';
import { ask, composer, conversationIdOf, lastReply, pageFetch, poll, shot } from './web/e2e-page.js';

let sky: TestPlatform;
let webRoot: string;
let browser: Browser;
let context: BrowserContext;
let page: Page;

async function signUp(target: Page, username: string): Promise<void> {
  await target.goto(sky.url);
  await target.getByRole('button', { name: /No account yet|还没有账号/ }).click();
  await target.locator('input[name="username"]').fill(username);
  await target.locator('input[name="password"]').fill('correct horse battery');
  await target.locator('form.auth-form button[type="submit"]').click();
  await composer(target).or(target.locator('textarea[aria-label="你的消息"]')).first().waitFor();
}


beforeAll(async () => {
  webRoot = buildWebApp();
  sky = await startTestPlatform(tinyWithOneSlotSim({ parallel: 4, contextSize: 4096 }, { answerTokens: 150, timeScale: 1 }), {
    env: { SKYLARK_WEB_ROOT: webRoot },
  });
  browser = await launchChromium();
  // bypassCSP only so axe-core can be injected; the app itself never needs it.
  context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US', bypassCSP: true });
  page = await context.newPage();
  await signUp(page, 'pages-user');
});

afterAll(async () => {
  await browser?.close();
  await sky?.close();
  if (webRoot) rmSync(webRoot, { recursive: true, force: true });
});

describe('errors a person can act on', () => {
  it('quota exhausted: says when it resets, keeps the typed text', async () => {
    const made = await pageFetch(page, 'POST', '/api/apps', { name: 'Small', model: 'skylark-tiny', daily_token_quota: 21, slug: 'small-quota' });
    expect(made.status).toBe(201);
    await page.goto(`${sky.url}/a/small-quota`);
    await ask(page, 'Count: 7');
    await page.locator('.message-assistant[data-status="complete"]').waitFor();
    await ask(page, 'Count: 8');
    const banner = page.locator('[data-problem="quota"]');
    await banner.waitFor();
    expect(await banner.textContent()).toMatch(/free tokens for this app\. They reset at .+\./);
    expect(await composer(page).inputValue()).toBe('Count: 8');
    await shot(page, 'error-quota');
  });

  it('overloaded: counts the Retry-After down, then sends what was typed', async () => {
    await page.goto(sky.url);
    await page.route('**/api/conversations/*/messages', (route) =>
      route.fulfill({ status: 429, headers: { 'retry-after': '2', 'content-type': 'application/json' }, body: JSON.stringify({ error: { message: 'busy', type: 'server_error', param: null, code: 'server_overloaded' } }) }),
    );
    await ask(page, 'Count: 3');
    const banner = page.locator('[data-problem="overloaded"]');
    await banner.waitFor();
    expect(await banner.textContent()).toMatch(/retry in [12] s/);
    expect(await banner.getByRole('button', { name: 'Retry' }).isDisabled()).toBe(true);
    await shot(page, 'error-overloaded');
    await page.unroute('**/api/conversations/*/messages');
    await poll(() => banner.getByRole('button', { name: 'Retry' }).isEnabled()).toBe(true);
    await banner.getByRole('button', { name: 'Retry' }).click();
    await page.locator('.message-assistant[data-status="complete"]').waitFor();
    // "456789." is markdown for a list starting at 456789.
    await poll(() => lastReply(page).locator('.message-body ol').getAttribute('start')).toBe('456789');
    expect(await composer(page).inputValue()).toBe('');
  });

  it('network lost: says so, keeps the text, and retries', async () => {
    await page.route('**/api/conversations/*/messages', (route) => route.abort('internetdisconnected'));
    await ask(page, 'Count: 5');
    await page.locator('[data-problem="network"]').waitFor();
    expect(await composer(page).inputValue()).toBe('Count: 5');
    await shot(page, 'error-network');
    await page.unroute('**/api/conversations/*/messages');
    await page.locator('[data-problem="network"]').getByRole('button', { name: 'Retry' }).click();
    await poll(() => page.locator('.message-user').last().textContent()).toContain('Count: 5');
    await page.locator('.message-assistant[data-status="complete"]').last().waitFor();
  });

  it('model failed: names the failure and offers to try again', async () => {
    await page.route('**/api/conversations/*/stream', (route) =>
      route.fulfill({
        status: 200,
        headers: { 'content-type': 'text/event-stream' },
        body:
          ': queue position=3 eta_ms=4200\n\n' +
          `data: ${JSON.stringify({ type: 'error', message: { id: 999_999, role: 'assistant', content: '', status: 'error', error_code: 'upstream_error', model: 'skylark-tiny', created_at: Date.now() }, error: { code: 'upstream_error', message: 'The upstream failed.' }, retry_after_ms: null })}\n\ndata: [DONE]\n\n`,
      }),
    );
    await ask(page, 'Count: 1');
    const banner = page.locator('[data-problem="model"]');
    await banner.waitFor();
    expect(await banner.textContent()).toContain('The model could not answer (upstream_error)');
    await shot(page, 'error-model');
    await page.unroute('**/api/conversations/*/stream');
  });
});

describe('the place in line', () => {
  it('shows it while a one-slot replica is busy, then the answer', async () => {
    const first = await context.newPage();
    const second = await context.newPage();
    for (const tab of [first, second]) {
      await tab.goto(sky.url);
      await tab.locator('.model-switcher select').selectOption('sim-one');
    }
    await ask(first, 'hello');
    await first.locator('.message-assistant[data-status="streaming"]').waitFor();
    await ask(second, 'hello');
    const queue = second.getByTestId('queue-status');
    await queue.waitFor();
    expect(await queue.textContent()).toMatch(/^Place in line: 1 · (estimated wait \d+ s|starting soon)$/);
    await shot(second, 'queue');
    await second.locator('.message-assistant[data-status="complete"]').waitFor({ timeout: 30_000 });
    expect(await queue.count()).toBe(0);
    await first.close();
    await second.close();
  });
});

describe('languages and screens', () => {
  it('follows a Chinese browser, and switches language on request', async () => {
    const zh = await browser.newContext({ locale: 'zh-CN', viewport: { width: 1280, height: 800 } });
    const zhPage = await zh.newPage();
    await zhPage.goto(sky.url);
    await zhPage.getByRole('heading', { name: '欢迎使用云雀' }).waitFor();
    expect(await zhPage.evaluate(() => document.documentElement.lang)).toBe('zh-CN');
    await shot(zhPage, 'sign-in-zh');
    await zhPage.getByLabel('语言').selectOption('en');
    await zhPage.getByRole('heading', { name: 'Welcome to Skylark' }).waitFor();
    await zhPage.reload(); // the choice is remembered
    await zhPage.getByRole('heading', { name: 'Welcome to Skylark' }).waitFor();
    await zh.close();

    await page.goto(sky.url);
    await page.getByLabel('Language').selectOption('zh-CN');
    await page.getByRole('button', { name: '发送' }).waitFor();
    await shot(page, 'chat-zh');
    await page.getByLabel('语言').selectOption('en');
  });

  it('works on a phone-sized screen', async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, locale: 'en-US' });
    const phonePage = await phone.newPage();
    await signUp(phonePage, 'phone-user');
    expect(await phonePage.locator('.sidebar').isVisible()).toBe(false);
    await ask(phonePage, 'Count: 7');
    await phonePage.locator('.message-assistant[data-status="complete"]').waitFor();
    const width = await phonePage.evaluate(() => document.documentElement.scrollWidth);
    expect(width).toBeLessThanOrEqual(390); // nothing spills sideways
    await shot(phonePage, 'phone-chat');
    await phonePage.getByRole('button', { name: 'Conversations' }).click();
    await phonePage.locator('.sidebar').waitFor();
    await shot(phonePage, 'phone-menu');
    await phonePage.locator('.sidebar .conversations a').first().click();
    expect(await phonePage.locator('.sidebar').isVisible()).toBe(false);
    await phone.close();
  });

  it('opens a 1,000-message conversation with only the visible messages in the page', async () => {
    await page.goto(sky.url);
    await ask(page, 'Count: 4');
    await page.locator('.message-assistant[data-status="complete"]').waitFor();
    const id = conversationIdOf(page);
    const rows = Array.from({ length: 998 }, (_, i) => {
      const content = i % 2 === 0 ? `Question number ${i}` : `Answer **${i}** with \`code\` and more text to wrap. `.repeat(1 + (i % 5));
      return {
        conversation_id: id, role: (i % 2 === 0 ? 'user' : 'assistant') as 'user' | 'assistant', content, search_text: searchText(content),
        status: 'complete' as const, error_code: null, model: 'skylark-tiny', prompt_tokens: 0, completion_tokens: 0, created_at: Date.now(),
      };
    });
    for (let i = 0; i < rows.length; i += 250) await sky.platform.store.db.insertInto('messages').values(rows.slice(i, i + 250)).execute();
    const opened = Date.now();
    await page.reload();
    await poll(() => page.locator('.message-slot').count()).toBeGreaterThan(3);
    expect(Date.now() - opened).toBeLessThan(10_000);
    expect(await page.locator('.message-slot').count()).toBeLessThan(60);
    await poll(() => page.locator('.message-body').last().textContent()).toContain('Answer **997**'.replace(/\*\*/g, ''));
    // Scroll through all of it: the DOM stays small and the top is reachable.
    const scroller = page.getByTestId('message-scroller');
    for (let step = 0; step < 20; step++) await scroller.evaluate((el) => el.scrollBy(0, -el.clientHeight * 3));
    await scroller.evaluate((el) => (el.scrollTop = 0));
    await poll(() => page.locator('.message-user .message-body').first().textContent()).toBe('Count: 4');
    expect(await page.locator('.message-slot').count()).toBeLessThan(60);
    await shot(page, 'long-conversation');
  });
});

describe('accessibility', () => {
  it('has no serious axe-core violations on the main pages', async () => {
    const guest = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US', bypassCSP: true });
    const signIn = await guest.newPage();
    await signIn.goto(sky.url);
    await signIn.getByRole('heading', { name: 'Welcome to Skylark' }).waitFor();
    expect(await axeFindings(signIn)).toEqual([]);
    await guest.close();

    await page.goto(sky.url);
    await ask(page, 'Count: 6');
    await page.locator('.message-assistant[data-status="complete"]').waitFor();
    expect(await axeFindings(page)).toEqual([]);
    await page.goto(`${sky.url}/apps`);
    await page.locator('.app-card').first().waitFor();
    expect(await axeFindings(page)).toEqual([]);
    await page.goto(`${sky.url}/apps/new`);
    await page.locator('select[name="model"] option').nth(1).waitFor({ state: 'attached' });
    expect(await axeFindings(page)).toEqual([]);
  });
});
