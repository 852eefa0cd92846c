/** Small helpers for driving the web app in the end-to-end tests. */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import { expect } from 'vitest';
import { launchChromium } from '../support/browser.js';
import { repoRoot } from '../support/paths.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { buildWebApp } from '../support/web-build.js';

export const screenshots = join(repoRoot, 'test-results', 'screenshots');

/** A browser on a busy machine: give each awaited change a few seconds, not vitest's one. */
export const poll = <T>(fn: () => Promise<T> | T) => expect.poll(fn, { timeout: 15_000 });

/** A platform serving a fresh build of the web app, and a Chromium to drive it; `close` ends all three. */
export async function startWebPlatform(config: Record<string, unknown>): Promise<{ sky: TestPlatform; browser: Browser; close(): Promise<void> }> {
  const webRoot = buildWebApp();
  let sky: TestPlatform | undefined;
  let browser: Browser | undefined;
  const close = async () => {
    await browser?.close();
    await sky?.close();
    rmSync(webRoot, { recursive: true, force: true });
  };
  try {
    sky = await startTestPlatform(config, { env: { SKYLARK_WEB_ROOT: webRoot } });
    browser = await launchChromium();
  } catch (error) {
    await close();
    throw error;
  }
  return { sky, browser, close };
}

/**
 * A page in a browser context of its own, as the console tests use one: its errors go to
 * `pageErrors`, confirmation dialogs are accepted, and bypassCSP lets axe-core be injected
 * (the console itself never needs it).
 */
export async function consolePage(browser: Browser, pageErrors: string[], options: BrowserContextOptions = {}): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US', bypassCSP: true, ...options });
  const page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('dialog', (dialog) => void dialog.accept());
  return page;
}

/** Signs in to the console at `baseUrl` with `key` and waits for its first page. */
export async function openConsole(page: Page, baseUrl: string, key: string): Promise<void> {
  await page.goto(`${baseUrl}/console`);
  await page.getByLabel(/^API key/).fill(key);
  await page.getByRole('button', { name: 'Open the console' }).click();
  await page.getByRole('heading', { name: 'Usage and cost' }).waitFor();
}

/** Follows a link of the console's navigation. */
export const consoleNav = (page: Page, name: string) => page.getByRole('navigation').getByRole('link', { name, exact: true }).click();

export async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(screenshots, { recursive: true });
  await page.screenshot({ path: join(screenshots, `${name}.png`) });
}

export const composer = (page: Page) => page.getByLabel('Your message');
export const lastReply = (page: Page) => page.locator('.message-assistant').last();

export async function ask(page: Page, text: string): Promise<void> {
  await composer(page).fill(text);
  await composer(page).press('Enter');
}

/** A fetch from inside the page: its cookies, and the CSRF header as the app sends it. */
export async function pageFetch<T = any>(page: Page, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  return page.evaluate(
    async ({ method, path, body }) => {
      const csrf = /(?:^|;\s*)sky_csrf=([^;]+)/.exec(document.cookie)?.[1] ?? '';
      const response = await fetch(path, {
        method,
        headers: { 'content-type': 'application/json', 'x-skylark-csrf': csrf },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
    },
    { method, path, body },
  );
}

/** Records every length the streaming reply's text takes, from now on. */
export async function recordStreaming(page: Page): Promise<() => Promise<number[]>> {
  await page.evaluate(() => {
    const lengths: number[] = [];
    (window as unknown as { lengths: number[] }).lengths = lengths;
    new MutationObserver(() => {
      const bodies = document.querySelectorAll('.message-assistant[data-status="streaming"] .message-body');
      const body = bodies[bodies.length - 1];
      if (body && lengths.at(-1) !== body.textContent!.length) lengths.push(body.textContent!.length);
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
  return () => page.evaluate(() => (window as unknown as { lengths: number[] }).lengths.slice());
}

export function conversationIdOf(page: Page): string {
  const match = /\/c\/([^/?#]+)/.exec(new URL(page.url()).pathname);
  if (!match) throw new Error(`not on a conversation page: ${page.url()}`);
  return match[1]!;
}
