/** Small helpers for driving the web app in the end-to-end test. */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import { repoRoot } from '../support/paths.js';

export const screenshots = join(repoRoot, 'test-results', 'screenshots');

/** A browser on a busy machine: give each awaited change a few seconds, not vitest's one. */
export const poll = <T>(fn: () => Promise<T> | T) => expect.poll(fn, { timeout: 15_000 });

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
