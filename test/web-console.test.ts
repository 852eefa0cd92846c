/**
 * The console for API customers in Chromium, against a real platform with the tiny model:
 * the admin key sets a price and creates a tenant, a key and a top-up through the pages;
 * a chat with that key over the OpenAI API then shows in the console as usage, cost and a
 * lower balance. The queue and engines pages show the live scheduler; a tenant key sees
 * only its own tenant; errors say what to do; axe-core finds nothing serious.
 */
import { rmSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeFindings, launchChromium } from './support/browser.js';
import { startTestPlatform, testAdminKey, tinyWithOneSlotSim, type TestPlatform } from './support/platform.js';
import { buildWebApp } from './support/web-build.js';
import { poll, shot } from './web/e2e-page.js';

let sky: TestPlatform;
let webRoot: string;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const pageErrors: string[] = [];
let tenantId = '';
let tenantKey = '';
let costMicros = 0;

async function openConsole(target: Page, key: string): Promise<void> {
  await target.goto(`${sky.url}/console`);
  await target.getByLabel(/^(API key|API 密钥)/).fill(key);
  await target.getByRole('button', { name: /Open the console|打开控制台/ }).click();
}

const nav = (target: Page, name: string) => target.getByRole('navigation').getByRole('link', { name, exact: true }).click();

function chat(key: string, model = 'skylark-tiny'): Promise<Response> {
  return fetch(`${sky.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    // The sim replica answers at its own length: long enough to be seen waiting.
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'Count: 7' }], ...(model === 'skylark-tiny' ? { max_tokens: 16 } : {}) }),
  });
}


beforeAll(async () => {
  webRoot = buildWebApp();
  sky = await startTestPlatform(tinyWithOneSlotSim({ parallel: 2, contextSize: 2048 }, { answerTokens: 100, timeScale: 4 }), {
    env: { SKYLARK_WEB_ROOT: webRoot },
  });
  browser = await launchChromium();
  // bypassCSP only so axe-core can be injected; the console itself never needs it.
  context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US', bypassCSP: true });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: sky.url });
  page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('dialog', (dialog) => void dialog.accept());
});

afterAll(async () => {
  await browser?.close();
  await sky?.close();
  if (webRoot) rmSync(webRoot, { recursive: true, force: true });
});

describe('the console with the admin key', () => {
  it('says what to do about a key the server refuses', async () => {
    await openConsole(page, 'sk-not-a-real-key');
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/does not accept this key.+Paste a valid key/);
    expect(await alert.getAttribute('data-code')).toBe('invalid_api_key');
    await shot(page, 'console-key');
  });

  it('sets a price, creates a tenant, a key (shown once) and a top-up', async () => {
    await openConsole(page, testAdminKey);
    await page.getByRole('heading', { name: 'Usage and cost' }).waitFor();

    await nav(page, 'Prices');
    await page.locator('input[name="price-model"]').fill('skylark-tiny');
    await page.locator('input[name="price-input"]').fill('1000');
    await page.locator('input[name="price-output"]').fill('2000');
    await page.getByRole('button', { name: 'Set a new price version' }).click();
    await poll(() => page.getByTestId('prices').locator('tr[data-model="skylark-tiny"]').textContent()).toContain('1000.000000 CNY');

    await nav(page, 'Tenants');
    await page.locator('input[name="tenant-name"]').fill('Acme Robotics');
    await page.getByRole('button', { name: 'Create a tenant' }).click();
    const row = page.getByTestId('tenants').locator('tr', { hasText: 'Acme Robotics' });
    await row.waitFor();
    tenantId = (await row.getAttribute('data-tenant-id'))!;
    expect(tenantId).toMatch(/^ten_/);
    // The new tenant is the one in view.
    expect(await page.getByTestId('tenant-picker').inputValue()).toBe(tenantId);
    await shot(page, 'console-tenants');

    await nav(page, 'API keys');
    await page.locator('input[name="key-name"]').fill('ci');
    await page.getByRole('button', { name: 'Create a key' }).click();
    const secret = page.getByTestId('secret');
    await secret.waitFor();
    tenantKey = (await secret.textContent())!;
    expect(tenantKey).toMatch(/^sk-/);
    await page.getByRole('button', { name: 'Copy' }).click();
    await page.getByRole('button', { name: 'Copied' }).waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(tenantKey);
    await shot(page, 'console-key-created');
    await page.getByRole('button', { name: 'I have saved it' }).click();
    expect(await secret.count()).toBe(0); // shown once
    await poll(() => page.getByTestId('keys').locator('tbody tr').first().textContent()).toContain('ci');

    await nav(page, 'Top-ups');
    await page.locator('input[name="topup-amount"]').fill('10');
    await page.locator('input[name="topup-ref"]').fill('invoice 42');
    await page.getByRole('button', { name: 'Credit', exact: true }).click();
    await poll(() => page.getByTestId('topup-done').textContent()).toBe('Credited 10.000000 CNY; the balance is now 10.000000 CNY.');
    await poll(() => page.getByTestId('balance-amount').getAttribute('data-micros')).toBe('10000000');
    await poll(() => page.getByTestId('ledger').textContent()).toContain('invoice 42');
    await shot(page, 'console-topups');
  });

  it('shows a chat made with that key as usage and cost, and the balance drop', async () => {
    const answer = await chat(tenantKey);
    expect(answer.status).toBe(200);
    const usage = await (await fetch(`${sky.baseURL}/usage`, { headers: { authorization: `Bearer ${tenantKey}` } })).json();
    costMicros = usage.data[0].cost_micros;
    expect(costMicros).toBeGreaterThan(0);
    const cost = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'CNY', minimumFractionDigits: 2, maximumFractionDigits: 6 }).format(costMicros / 1e6);

    await nav(page, 'Usage and cost');
    await poll(() => page.getByTestId('usage-total-requests').textContent()).toBe('1');
    expect(await page.getByTestId('usage-total-cost').textContent()).toBe(cost);
    const byModel = page.getByTestId('usage-by-model').locator('tbody tr');
    expect(await byModel.count()).toBe(1);
    expect(await byModel.first().textContent()).toContain('skylark-tiny');
    expect(await byModel.first().textContent()).toContain(cost);
    const byKey = await page.getByTestId('usage-by-key').locator('tbody tr').first().textContent();
    expect(byKey).toMatch(/^ci \(sk-/);
    // chart.js drew on each canvas.
    for (const chart of ['chart-cost-by-day', 'chart-tokens-by-day', 'chart-cost-by-model', 'chart-cost-by-key']) {
      const canvas = page.getByTestId(chart).locator('canvas');
      expect(await canvas.getAttribute('role')).toBe('img');
      expect(await canvas.evaluate((el: HTMLCanvasElement) => el.width > 0 && el.toDataURL().length > 2000)).toBe(true);
    }
    await shot(page, 'console-usage');

    await nav(page, 'Balance');
    await poll(() => page.getByTestId('balance-amount').getAttribute('data-micros')).toBe(String(10_000_000 - costMicros));
    await poll(() => page.getByTestId('ledger').locator('tr[data-kind="usage"]').count()).toBe(1);
    expect(await page.getByTestId('ledger').locator('tr[data-kind="topup"]').count()).toBe(1);
    await shot(page, 'console-balance');
  });

  it('shows the live queue and the engines with their health', async () => {
    await nav(page, 'Live queue');
    const model = page.getByTestId('queue').locator('section[data-model="skylark-tiny"]');
    await model.waitFor();
    expect(await model.locator('tr[data-tier]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-tier')))).toEqual(['priority', 'standard', 'free', 'batch']);
    expect(await model.locator('li[data-replica="local"]').textContent()).toMatch(/0 of 2 slots busy\s*Healthy/);
    // Polled: the snapshot's time moves on.
    const first = await page.getByTestId('queue').getAttribute('data-at');
    await poll(() => page.getByTestId('queue').getAttribute('data-at')).not.toBe(first);

    // Three requests for a one-slot replica: one runs while the others wait in line.
    const sent = [1, 2, 3].map(() => chat(testAdminKey, 'sim-one').then((response) => response.status));
    const sim = page.getByTestId('queue').locator('section[data-model="sim-one"]');
    const depth = async () => (await sim.getByTestId('depth').allTextContents()).reduce((sum, n) => sum + Number(n), 0);
    await poll(depth).toBeGreaterThan(0);
    expect(await sim.locator('li[data-replica="sim"]').textContent()).toMatch(/1 of 1 slots busy/);
    expect(await sim.locator('h2 .tag').textContent()).toMatch(/^[12] waiting$/);
    await shot(page, 'console-queue');
    expect(await Promise.all(sent)).toEqual([200, 200, 200]);
    await poll(() => sim.locator('h2 .tag').textContent()).toBe('0 waiting');

    await nav(page, 'Engines');
    const engine = page.getByTestId('engines').locator('tr[data-engine="local"]');
    await engine.waitFor();
    expect(await engine.locator('td').nth(1).textContent()).toBe('llama-cpp');
    expect(await engine.getByTestId('health').getAttribute('data-state')).toBe('ready');
    expect(await engine.getByTestId('breaker').getAttribute('data-state')).toBe('closed');
    await shot(page, 'console-engines');
  });

  it('changes a tenant, stops an endpoint, makes redeem codes shown once', async () => {
    await nav(page, 'Tenants');
    const row = page.getByTestId('tenants').locator(`tr[data-tenant-id="${tenantId}"]`);
    await row.getByLabel('Tier of Acme Robotics').selectOption('priority');
    await row.getByRole('button', { name: 'Suspend' }).click();
    await poll(() => row.getByTestId('tenant-status').textContent()).toBe('Suspended');
    expect(await row.getByLabel('Tier of Acme Robotics').inputValue()).toBe('priority');
    await poll(async () => (await chat(tenantKey)).status).toBe(401); // a suspended tenant's keys are refused
    await row.getByRole('button', { name: 'Reactivate' }).click();
    await poll(() => row.getByTestId('tenant-status').textContent()).toBe('Active');

    const made = await sky.request('/admin/endpoints', { method: 'POST', body: JSON.stringify({ tenant_id: tenantId, model: 'skylark-tiny', name: 'acme-tiny' }) });
    const endpoint = (await made.json()).id as string;
    await nav(page, 'Endpoints');
    const endpointRow = page.getByTestId('endpoints').locator(`tr[data-endpoint-id="${endpoint}"]`);
    await endpointRow.getByRole('button', { name: 'Stop' }).click();
    await poll(() => endpointRow.getByTestId('endpoint-status').textContent()).toBe('Stopped');
    await shot(page, 'console-endpoints');
    await endpointRow.getByRole('button', { name: 'Start' }).click();
    await poll(() => endpointRow.getByTestId('endpoint-status').textContent()).toBe('Serving');

    await nav(page, 'Redeem codes');
    await page.locator('input[name="code-amount"]').fill('5');
    await page.locator('input[name="code-count"]').fill('3');
    await page.getByRole('button', { name: 'Create redeem codes' }).click();
    await poll(() => page.getByTestId('secret').count()).toBe(3);
    for (const code of await page.getByTestId('secret').allTextContents()) expect(code).toMatch(/^SKY-/);
    await poll(() => page.getByTestId('redeem-codes').locator('tr[data-status="unused"]').count()).toBe(3);
    await shot(page, 'console-redeem-codes');
    await page.getByRole('button', { name: 'I have saved it' }).click();
    expect(await page.getByTestId('secret').count()).toBe(0);
  });

  it('has no serious axe-core violations on any console page', async () => {
    const pages = ['usage', 'balance', 'keys', 'endpoints', 'queue', 'engines', 'tenants', 'prices', 'topups', 'redeem-codes'];
    for (const name of pages) {
      await page.goto(`${sky.url}/console/${name}`);
      await page.locator('.console-page h1').waitFor();
      await page.locator('[aria-busy="true"]').first().waitFor({ state: 'detached' });
      expect(await axeFindings(page), name).toEqual([]);
    }
    const fresh = await context.browser()!.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US', bypassCSP: true });
    const keyForm = await fresh.newPage();
    await keyForm.goto(`${sky.url}/console`);
    await keyForm.getByLabel(/^API key/).waitFor();
    expect(await axeFindings(keyForm)).toEqual([]);
    await fresh.close();
  });
});

describe('the console with a tenant key', () => {
  it('sees its own tenant only, manages its own keys, and is told what needs the admin key', async () => {
    const tenantPage = await context.newPage();
    await openConsole(tenantPage, tenantKey);
    await tenantPage.getByTestId('tenant-id').waitFor();
    expect(await tenantPage.getByTestId('tenant-id').textContent()).toBe(`Tenant ${tenantId}`);
    expect(await tenantPage.getByRole('navigation').getByRole('link', { name: 'Tenants' }).count()).toBe(0);
    await poll(() => tenantPage.getByTestId('usage-total-requests').textContent()).toBe('1');
    await nav(tenantPage, 'Balance');
    await poll(() => tenantPage.getByTestId('balance-amount').getAttribute('data-micros')).toBe(String(10_000_000 - costMicros));
    // Its own top-up history, through /v1/ledger.
    await poll(() => tenantPage.getByTestId('ledger').textContent()).toContain('invoice 42');
    // Its own keys it manages itself (/v1/keys), never looser than the key in use.
    await nav(tenantPage, 'API keys');
    await tenantPage.locator('input[name="key-name"]').fill('member');
    await tenantPage.getByRole('button', { name: 'Create a key' }).click();
    const secret = tenantPage.getByTestId('secret');
    await secret.waitFor();
    expect(await secret.textContent()).toMatch(/^sk-/);
    await tenantPage.getByRole('button', { name: 'I have saved it' }).click();
    await poll(() => tenantPage.getByTestId('keys').textContent()).toContain('member');
    // And its endpoints: made here, stopped and started here (/v1/endpoints).
    await nav(tenantPage, 'Endpoints');
    await tenantPage.locator('input[name="endpoint-model"]').fill('skylark-tiny');
    await tenantPage.locator('input[name="endpoint-name"]').fill('member-ep');
    await tenantPage.getByRole('button', { name: 'Create an endpoint' }).click();
    const endpointRow = tenantPage.getByTestId('endpoints').locator('tr', { hasText: 'member-ep' });
    await endpointRow.waitFor();
    await endpointRow.getByRole('button', { name: 'Stop' }).click();
    await poll(() => endpointRow.getByTestId('endpoint-status').textContent()).toBe('Stopped');
    await nav(tenantPage, 'Engines');
    await tenantPage.locator('li[data-replica="local"]').first().waitFor();
    await shot(tenantPage, 'console-tenant-engines');
    // An admin page by its address: not there for this key.
    await tenantPage.goto(`${sky.url}/console/tenants`);
    await tenantPage.getByText('There is no such console page for this key.').waitFor();
    await tenantPage.close();
  });

  it('after a revocation says the key is refused and offers to paste another', async () => {
    const tenantPage = await context.newPage();
    await openConsole(tenantPage, tenantKey);
    await tenantPage.getByTestId('tenant-id').waitFor();

    const keyRow = page.getByTestId('keys').locator('tbody tr', { hasText: 'ci' });
    await page.goto(`${sky.url}/console/keys`);
    await keyRow.getByRole('button', { name: 'Revoke' }).click();
    await poll(() => keyRow.getByTestId('key-status').textContent()).toBe('Revoked');
    await poll(async () => (await chat(tenantKey)).status).toBe(401);

    // The open console finds out on its next request, and goes back to the key form.
    await nav(tenantPage, 'Balance');
    // The balance and the ledger both come back refused: either alert will do.
    const refused = tenantPage.getByRole('alert').first();
    await poll(() => refused.getAttribute('data-code')).toBe('invalid_api_key');
    await shot(tenantPage, 'console-key-revoked');
    await refused.getByRole('button', { name: 'Paste another key' }).click();
    await tenantPage.getByLabel(/^API key/).waitFor();
    expect(await tenantPage.evaluate(() => sessionStorage.getItem('skylark.console.key'))).toBeNull();

    await openConsole(tenantPage, tenantKey);
    await poll(() => tenantPage.getByRole('alert').first().getAttribute('data-code')).toBe('invalid_api_key');
    await tenantPage.close();
  });
});

describe('languages and screens', () => {
  it('speaks Chinese and fits a phone', async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, locale: 'zh-CN' });
    const phonePage = await phone.newPage();
    await openConsole(phonePage, testAdminKey);
    await phonePage.getByRole('heading', { name: '用量与费用' }).waitFor();
    await phonePage.getByTestId('tenant-picker').selectOption(tenantId);
    await poll(() => phonePage.getByTestId('usage-total-requests').textContent()).toBe('1');
    expect(await phonePage.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await shot(phonePage, 'console-phone-zh');
    await nav(phonePage, '实时队列');
    await phonePage.getByText('每 2 秒刷新', { exact: false }).waitFor();
    expect(await phonePage.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await phone.close();
    expect(pageErrors).toEqual([]);
  });
});
