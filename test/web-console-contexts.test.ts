/**
 * The console's "Cached contexts" page in Chromium, against a real platform with the tiny
 * model: a context made over the API shows with its model, mode and tokens; Delete frees
 * it (the API then answers 404); axe-core finds nothing serious.
 */
import { rmSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { axeFindings, launchChromium } from './support/browser.js';
import { startTestPlatform, testAdminKey, tinyModelConfig, type TestPlatform } from './support/platform.js';
import { buildWebApp } from './support/web-build.js';
import { poll, shot } from './web/e2e-page.js';

let sky: TestPlatform;
let webRoot: string;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  webRoot = buildWebApp();
  sky = await startTestPlatform(tinyModelConfig({ parallel: 2, contextSize: 2048 }), { env: { SKYLARK_WEB_ROOT: webRoot } });
  browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US', bypassCSP: true });
  page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('dialog', (dialog) => void dialog.accept());
});

afterAll(async () => {
  await browser?.close();
  await sky?.close();
  if (webRoot) rmSync(webRoot, { recursive: true, force: true });
});

it('lists cached contexts and deletes one', async () => {
  const made = await sky.request('/v1/context/create', {
    method: 'POST',
    body: JSON.stringify({ model: 'skylark-tiny', mode: 'common_prefix', messages: [{ role: 'system', content: 'You count.' }], ttl: 3600 }),
  });
  const created = (await made.json()) as { id: string; tokens: number };
  expect(made.status).toBe(200);

  await page.goto(`${sky.url}/console`);
  await page.getByLabel(/^API key/).fill(testAdminKey);
  await page.getByRole('button', { name: 'Open the console' }).click();
  await page.getByRole('heading', { name: 'Usage and cost' }).waitFor();
  await page.getByRole('navigation').getByRole('link', { name: 'Cached contexts', exact: true }).click();
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
