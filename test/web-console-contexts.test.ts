/**
 * The console's "Cached contexts" page in Chromium, against a real platform with the tiny
 * model: a context made over the API shows with its model, mode and tokens; Delete frees
 * it (the API then answers 404); axe-core finds nothing serious.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { axeFindings } from './support/browser.js';
import { testAdminKey, tinyModelConfig, type TestPlatform } from './support/platform.js';
import { consoleNav, consolePage, openConsole, poll, shot, startWebPlatform } from './web/e2e-page.js';

let sky: TestPlatform;
let close: (() => Promise<void>) | undefined;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  const started = await startWebPlatform(tinyModelConfig({ parallel: 2, contextSize: 2048 }));
  ({ sky, close } = started);
  page = await consolePage(started.browser, pageErrors);
});

afterAll(async () => {
  await close?.();
});

it('lists cached contexts and deletes one', async () => {
  const made = await sky.request('/v1/context/create', {
    method: 'POST',
    body: JSON.stringify({ model: 'skylark-tiny', mode: 'common_prefix', messages: [{ role: 'system', content: 'You count.' }], ttl: 3600 }),
  });
  const created = (await made.json()) as { id: string; tokens: number };
  expect(made.status).toBe(200);

  await openConsole(page, sky.url, testAdminKey);
  await consoleNav(page, 'Cached contexts');
  await page.getByRole('heading', { name: 'Cached contexts' }).waitFor();

  const row = page.getByTestId('contexts').locator(`tr[data-context-id="${created.id}"]`);
  await row.waitFor();
  const cells = await row.locator('td').allTextContents();
  expect(cells.slice(0, 4)).toEqual([created.id, 'skylark-tiny', 'common_prefix', String(created.tokens)]);
  expect(await axeFindings(page)).toEqual([]);
  await shot(page, 'console-contexts');

  await row.getByRole('button', { name: 'Delete' }).click();
  await poll(() => row.count()).toBe(0);
  await page.getByText('No cached contexts.').waitFor();
  expect((await sky.request(`/v1/contexts/${created.id}`)).status).toBe(404);
  expect(pageErrors).toEqual([]);
});
