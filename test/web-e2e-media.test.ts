/**
 * Images and speech in the web app, in Debian's Chromium against the sim engine: the
 * composer answers as an image model and the page shows the PNG; "Play" on a written
 * answer fetches the WAV the speech model made. Both billed to the operator tenant.
 */
import { rmSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './support/browser.js';
import { startTestPlatform, type TestPlatform } from './support/platform.js';
import { buildWebApp } from './support/web-build.js';
import { ask, composer, shot } from './web/e2e-page.js';

let sky: TestPlatform;
let webRoot: string;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  webRoot = buildWebApp();
  sky = await startTestPlatform(
    {
      engines: { sim: { kind: 'sim', slots: 4, timeScale: 0.01, answerTokens: 12 } },
      models: [
        { id: 'sim-chat', engine: 'sim', capabilities: ['chat'] },
        { id: 'sim-media', engine: 'sim', capabilities: ['images', 'speech'] },
      ],
    },
    { env: { SKYLARK_WEB_ROOT: webRoot } },
  );
  browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US' });
  page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(error.message));
});

afterAll(async () => {
  await browser?.close();
  await sky?.close();
  if (webRoot) rmSync(webRoot, { recursive: true, force: true });
});

const operatorRows = (kind: string) =>
  sky.platform.store.db.selectFrom('usage_records').selectAll().where('tenant_id', '=', 'ten_operator').where('unit_kind', '=', kind as 'image').execute();

describe('media in the web app', () => {
  it('answers as an image model: the composer draws, the page shows the PNG', async () => {
    await page.goto(sky.url);
    await page.getByRole('button', { name: 'Continue as guest' }).click();
    await composer(page).waitFor();
    await page.getByLabel('Answer as').selectOption('sim-media');
    await ask(page, 'a red fox');
    const image = page.getByRole('img', { name: 'Image for: a red fox' });
    await image.waitFor();
    // A real PNG the browser decoded: the web app asks for 512×512.
    await expect.poll(() => image.evaluate((img: HTMLImageElement) => [img.complete, img.naturalWidth, img.naturalHeight])).toEqual([true, 512, 512]);
    expect(await composer(page).inputValue()).toBe('');
    await shot(page, 'image-answer');
    const rows = await operatorRows('image');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ model_id: 'sim-media', units: 1, status: 'ok' });
  });

  it('plays a written answer through the speech model', async () => {
    await page.getByLabel('Answer as').selectOption('');
    await ask(page, 'hello');
    const reply = page.locator('.message-assistant[data-status="complete"]').last();
    await reply.waitFor();
    const text = (await reply.locator('.message-body').textContent())!.trim();
    const [speech] = await Promise.all([
      page.waitForResponse((response) => response.url().endsWith('/api/media/speech')),
      reply.getByRole('button', { name: 'Play' }).click(),
    ]);
    expect(speech.status()).toBe(200);
    expect(speech.headers()['content-type']).toBe('audio/wav');
    const rows = await operatorRows('speech_char');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ model_id: 'sim-media', units: [...text].length, status: 'ok' });
    // The same call from the page, read whole: a WAV file 50 ms a character long.
    const heard = await page.evaluate(async (said) => {
      const csrf = /(?:^|;\s*)sky_csrf=([^;]+)/.exec(document.cookie)?.[1] ?? '';
      const response = await fetch('/api/media/speech', { method: 'POST', headers: { 'content-type': 'application/json', 'x-skylark-csrf': csrf }, body: JSON.stringify({ text: said }) });
      const bytes = new Uint8Array(await response.arrayBuffer());
      return { head: String.fromCharCode(...bytes.slice(0, 4)), length: bytes.length };
    }, text);
    expect(heard).toEqual({ head: 'RIFF', length: 44 + [...text].length * 50 * 24 * 2 });
    expect(pageErrors).toEqual([]);
  });
});
