/**
 * The console's Batches and Files pages in Chromium, against a real platform on SQLite
 * with `sim` replicas (a fast one, and a one-slot slow one whose batch is still running
 * when it is cancelled): a tenant uploads a .jsonl in the page, creates a batch, watches
 * it complete, downloads its output, cancels another batch, uploads and deletes a file;
 * another tenant's console sees none of it; the admin key sees every tenant's batches and
 * cancels another tenant's running one.
 * The prices page shows the media rates too.
 */
import { readFile } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ledger } from '../src/billing/ledger.js';
import { axeFindings } from './support/browser.js';
import { testAdminKey, type TestPlatform } from './support/platform.js';
import { tenantWithKey } from './support/tenants.js';
import { consoleNav as nav, consolePage, openConsole, poll, shot, startWebPlatform } from './web/e2e-page.js';

let sky: TestPlatform;
let browser: Browser;
let close: (() => Promise<void>) | undefined;
const pageErrors: string[] = [];
let alice: { key: string; tenant: string };
let bob: { key: string; tenant: string };
let alicePage: Page;
let doneBatch = '';
let cancelledBatch = '';

// The slow model answers at its full length (no max_tokens), so its batch runs long enough to cancel.
const jsonl = (model: string, ids: string[]) =>
  ids
    .map((id) =>
      JSON.stringify({
        custom_id: id,
        method: 'POST',
        url: '/v1/chat/completions',
        body: { model, messages: [{ role: 'user', content: `Hello ${id}` }], ...(model === 'sim-fast' ? { max_tokens: 8 } : {}) },
      }),
    )
    .join('\n') + '\n';

async function consoleFor(key: string): Promise<Page> {
  const page = await consolePage(browser, pageErrors, { viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  await openConsole(page, sky.url, key);
  return page;
}

const batchRow = (page: Page, id: string) => page.getByTestId('batches').locator(`tr[data-batch-id="${id}"]`);

async function createBatch(page: Page, model: string, ids: string[], name: string): Promise<string> {
  await page.locator('input[name="batch-file"]').setInputFiles({ name, mimeType: 'application/jsonl', buffer: Buffer.from(jsonl(model, ids)) });
  await page.locator('select[name="batch-endpoint"]').selectOption('/v1/chat/completions');
  await page.getByRole('button', { name: 'Create batch' }).click();
  const created = page.getByTestId('batch-created');
  await poll(() => created.textContent()).toMatch(/^Batch batch_\w+ created\.$/);
  return /(batch_\w+)/.exec((await created.textContent())!)![1]!;
}

async function api(key: string, path: string, init: RequestInit = {}) {
  return fetch(`${sky.url}${path}`, { ...init, headers: { authorization: `Bearer ${key}`, ...init.headers } });
}

beforeAll(async () => {
  const started = await startWebPlatform({
    engines: {
      fast: { kind: 'sim', slots: 4, answerTokens: 8, timeScale: 0.05 },
      // One slot and long answers in real time: its batch is still running when cancelled.
      slow: { kind: 'sim', slots: 1, answerTokens: 4000 },
    },
    models: [
      { id: 'sim-fast', engine: 'fast', capabilities: ['chat'] },
      { id: 'sim-slow', engine: 'slow', capabilities: ['chat'] },
    ],
    batches: { pollMs: 100 },
  });
  ({ sky, browser, close } = started);
  const db = sky.platform.store.db;
  const a = await tenantWithKey(db, { rpm: 10_000, tpm: 10_000_000 });
  const b = await tenantWithKey(db, { rpm: 10_000, tpm: 10_000_000 });
  await new Ledger(db).topUp(a.tenant.id, 100_000_000, 'console-batches-test');
  alice = { key: a.key, tenant: a.tenant.id };
  bob = { key: b.key, tenant: b.tenant.id };
  alicePage = await consoleFor(alice.key);
}, 120_000);

afterAll(async () => {
  await close?.();
});

describe("a tenant's Batches and Files pages", () => {
  it('uploads a .jsonl, creates a batch, shows its progress reach completed and downloads the output', { timeout: 60_000 }, async () => {
    const page = alicePage;
    await nav(page, 'Batches');
    await page.getByRole('heading', { name: 'Batches', exact: true }).waitFor();
    await poll(() => page.getByText('No batches yet.').count()).toBe(1);

    doneBatch = await createBatch(page, 'sim-fast', ['a', 'b', 'c'], 'three.jsonl');
    const row = batchRow(page, doneBatch);
    // No reload: the page refreshes itself while the batch runs.
    await poll(() => row.getAttribute('data-status')).toBe('completed');
    expect(await row.getByTestId('batch-counts').textContent()).toBe('3 of 3 done · 0 failed');
    expect(await row.locator('progress').evaluate((bar: HTMLProgressElement) => [bar.value, bar.max])).toEqual([3, 3]);
    expect(await row.textContent()).toContain('/v1/chat/completions');
    await poll(() => page.getByTestId('batches-refreshing').count()).toBe(0);
    await shot(page, 'console-batches');

    const [download] = await Promise.all([page.waitForEvent('download'), row.getByRole('button', { name: 'Output' }).click()]);
    expect(download.suggestedFilename()).toBe(`${doneBatch}_output.jsonl`);
    const lines = (await readFile((await download.path())!, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { custom_id: string; response: { status_code: number; body: { object: string } } });
    expect(lines.map((line) => line.custom_id).sort()).toEqual(['a', 'b', 'c']);
    expect(lines.every((line) => line.response.status_code === 200 && line.response.body.object === 'chat.completion')).toBe(true);
    // A batch with no failed line has no error file to offer.
    expect(await row.getByRole('button', { name: 'Errors' }).count()).toBe(0);
  });

  it('cancels a running batch after asking', { timeout: 60_000 }, async () => {
    const page = alicePage;
    cancelledBatch = await createBatch(page, 'sim-slow', ['s1', 's2', 's3'], 'slow.jsonl');
    const row = batchRow(page, cancelledBatch);
    await poll(() => row.getAttribute('data-status')).toBe('in_progress');
    const dialogs: string[] = [];
    page.once('dialog', (dialog) => dialogs.push(dialog.message()));
    await row.getByRole('button', { name: 'Cancel' }).click();
    await poll(() => row.getAttribute('data-status')).toBe('cancelled');
    expect(dialogs).toEqual([`Cancel batch ${cancelledBatch}? Lines already finished stay in its output.`]);
    expect(await row.getByRole('button', { name: 'Cancel' }).count()).toBe(0);
    // The completed batch is still listed below the new one, newest first.
    const ids = await page.getByTestId('batches').locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-batch-id')));
    expect(ids).toEqual([cancelledBatch, doneBatch]);
    const batch = await (await api(alice.key, `/v1/batches/${cancelledBatch}`)).json();
    expect(batch.status).toBe('cancelled');
  });

  it('lists files, uploads one, downloads and deletes it', { timeout: 60_000 }, async () => {
    const page = alicePage;
    await nav(page, 'Files');
    const files = page.getByTestId('files');
    // The two inputs and the completed batch's output.
    await poll(() => files.locator('tbody tr').count()).toBeGreaterThanOrEqual(3);
    expect(await files.textContent()).toContain('three.jsonl');
    expect(await files.textContent()).toContain('batch_output');

    await page.locator('input[name="upload-file"]').setInputFiles({ name: 'notes.jsonl', mimeType: 'application/jsonl', buffer: Buffer.from('{"x":1}\n') });
    await page.getByRole('button', { name: 'Upload', exact: true }).click();
    await poll(() => page.getByTestId('file-uploaded').textContent()).toMatch(/^Uploaded notes\.jsonl as file-/);
    const fileId = /(file-\w+)/.exec((await page.getByTestId('file-uploaded').textContent())!)![1]!;
    const row = files.locator(`tr[data-file-id="${fileId}"]`);
    await row.waitFor();
    expect(await row.textContent()).toContain('batch');
    expect(await row.textContent()).toContain('8 B');

    const [download] = await Promise.all([page.waitForEvent('download'), row.getByRole('button', { name: 'Download' }).click()]);
    expect(download.suggestedFilename()).toBe('notes.jsonl');
    expect(await readFile((await download.path())!, 'utf8')).toBe('{"x":1}\n');
    await shot(page, 'console-files');

    const dialogs: string[] = [];
    page.once('dialog', (dialog) => dialogs.push(dialog.message()));
    await row.getByRole('button', { name: 'Delete' }).click();
    await poll(() => row.count()).toBe(0);
    expect(dialogs).toEqual([`Delete notes.jsonl (${fileId})? This cannot be undone.`]);
    expect((await api(alice.key, `/v1/files/${fileId}`)).status).toBe(404);
  });

  it('has no serious axe-core violations on either page', { timeout: 60_000 }, async () => {
    const page = alicePage;
    expect(await axeFindings(page), 'files').toEqual([]);
    await nav(page, 'Batches');
    await batchRow(page, doneBatch).waitFor();
    expect(await axeFindings(page), 'batches').toEqual([]);
  });

  it("another tenant's console sees none of them, nor the admin list", { timeout: 60_000 }, async () => {
    const page = await consoleFor(bob.key);
    await nav(page, 'Batches');
    await poll(() => page.getByText('No batches yet.').count()).toBe(1);
    expect(await page.getByTestId('batches').count()).toBe(0);
    await nav(page, 'Files');
    await poll(() => page.getByText('No files yet.').count()).toBe(1);
    // Nor by id, nor through the admin list.
    expect((await api(bob.key, `/v1/batches/${doneBatch}`)).status).toBe(404);
    const admin = await api(bob.key, '/admin/batches');
    expect(admin.status).toBe(403);
    expect((await admin.json()).error.code).toBe('permission_denied');
  });
});

describe('the admin key', () => {
  it("sees every tenant's batches with their progress", { timeout: 60_000 }, async () => {
    const page = await consoleFor(testAdminKey);
    await nav(page, 'Batches');
    await page.getByTestId('admin-note').waitFor();
    const row = batchRow(page, doneBatch);
    await poll(() => row.getAttribute('data-status')).toBe('completed');
    expect(await row.textContent()).toContain(alice.tenant);
    expect(await row.getByTestId('batch-counts').textContent()).toBe('3 of 3 done · 0 failed');
    expect(await batchRow(page, cancelledBatch).getAttribute('data-status')).toBe('cancelled');
    // No downloads of another tenant's files; a finished batch has nothing to cancel.
    expect(await row.getByRole('button').count()).toBe(0);
    await nav(page, 'Files');
    await page.getByTestId('admin-note').waitFor();

    const listed = await (await api(testAdminKey, `/admin/batches?tenant_id=${alice.tenant}&status=completed`)).json();
    expect(listed.data.map((b: { id: string }) => b.id)).toEqual([doneBatch]);
    expect(listed.data[0]).toMatchObject({ tenant_id: alice.tenant, request_counts: { total: 3, completed: 3, failed: 0 } });
    const bad = await api(testAdminKey, '/admin/batches?status=nonsense');
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.param).toBe('status');
  });

  it("cancels another tenant's running batch from the console", { timeout: 60_000 }, async () => {
    const form = new FormData();
    form.append('purpose', 'batch');
    form.append('file', new Blob([jsonl('sim-slow', ['r1', 'r2'])], { type: 'application/jsonl' }), 'runaway.jsonl');
    const file = await (await api(alice.key, '/v1/files', { method: 'POST', body: form })).json();
    const created = await api(alice.key, '/v1/batches', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' }),
    });
    const runaway = (await created.json()).id as string;
    // A tenant key cannot use the operator's route, not even on its own batch.
    const refused = await api(alice.key, `/admin/batches/${runaway}/cancel`, { method: 'POST' });
    expect(refused.status).toBe(403);

    const page = await consoleFor(testAdminKey);
    await nav(page, 'Batches');
    const row = batchRow(page, runaway);
    await poll(() => row.getAttribute('data-status')).toMatch(/^(validating|in_progress)$/);
    const dialogs: string[] = [];
    page.once('dialog', (dialog) => dialogs.push(dialog.message()));
    await row.getByRole('button', { name: 'Cancel' }).click();
    await poll(() => row.getAttribute('data-status')).toBe('cancelled');
    expect(dialogs).toEqual([`Cancel batch ${runaway}? Lines already finished stay in its output.`]);
    expect(await row.getByRole('button').count()).toBe(0);
    const seen = await (await api(alice.key, `/v1/batches/${runaway}`)).json();
    expect(seen.status).toBe('cancelled');
    expect((await api(testAdminKey, '/admin/batches/batch_nope/cancel', { method: 'POST' })).status).toBe(404);
  });

  it('shows media prices on the prices page', { timeout: 60_000 }, async () => {
    const page = await consoleFor(testAdminKey);
    await nav(page, 'Prices');
    await page.locator('input[name="price-model"]').fill('sim-fast');
    await page.locator('input[name="price-input"]').fill('1');
    await page.locator('input[name="price-output"]').fill('2');
    await page.locator('input[name="price-image"]').fill('0.25');
    await page.locator('input[name="price-speech_chars"]').fill('15');
    await page.locator('input[name="price-audio_minute"]').fill('0.006');
    await page.getByRole('button', { name: 'Set a new price version' }).click();
    const row = page.getByTestId('prices').locator('tr[data-model="sim-fast"]');
    await poll(() => row.getByTestId('price-image').textContent()).toBe('0.250000 CNY');
    expect(await row.getByTestId('price-speech').textContent()).toBe('15.000000 CNY');
    expect(await row.getByTestId('price-audio').textContent()).toBe('0.006000 CNY');
    const [price] = (await (await api(testAdminKey, '/admin/prices?model=sim-fast')).json()).data;
    expect(price).toMatchObject({ image_micros: 250_000, speech_chars_micros: 15_000_000, audio_minute_micros: 6_000 });
    expect(pageErrors).toEqual([]);
  });
});
