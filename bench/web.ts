/**
 * The web app's first load and scrolling, in headless Chromium against a real platform
 * serving the production build (dist/web). Run: npm run bench:web [-- --quick] [-- --runs N]
 *
 *  - JS bytes of the chat route (`/`, signed in) and of the console route (`/console`),
 *    raw and gzipped (level 9). Goal: ≤ 250 KB gzipped for the chat route.
 *  - Time to interactive: navigation start until the composer is enabled, on a cold load
 *    (fresh browser context, empty cache) against a warm reload (the baseline).
 *  - Frame times while scrolling a 1,000-message conversation end to top and back, against
 *    a 100-message one (the baseline). Chromium runs with vsync and its frame-rate limit
 *    off, so each requestAnimationFrame delta is what a frame cost, not the 16.7 ms tick of
 *    a 60 Hz display. Goal: median ≤ 16 ms.
 *
 * Replies are never generated: a `sim` engine stands behind the model, and the
 * conversations are written straight into the database.
 */
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { searchText } from '../src/apps/search-text.js';
import { chromiumPath } from '../test/support/browser.js';
import { startTestPlatform, type TestPlatform } from '../test/support/platform.js';
import { benchArgs } from './lib/args.js';
import { describeMachine } from './lib/machine.js';
import { fixed, table, thousands } from './lib/stats.js';
import { load, percentile, scrollFrames, signedInState, sum, type Frames, type Load, type ScriptBytes } from './lib/web-page.js';

const args = benchArgs({ duration: 0, warmup: 0, quickDuration: 0, quickWarmup: 0 }, ['runs', 'step']);
const runs = Number(args.values.runs ?? (args.quick ? 2 : 5));
const stepPx = Number(args.values.step ?? 120);
const goals = { chatGzipKB: 250, medianFrameMs: 16 };
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const webRoot = join(root, 'dist/web');
const composer = 'textarea[aria-label="Your message"]';
const kb = (bytes: number) => fixed(bytes / 1024, 1);

async function conversationOf(sky: TestPlatform, page: import('playwright-core').Page, messages: number): Promise<string> {
  const made = await page.evaluate(async () => {
    const csrf = /(?:^|;\s*)sky_csrf=([^;]+)/.exec(document.cookie)?.[1] ?? '';
    const response = await fetch('/api/conversations', { method: 'POST', headers: { 'content-type': 'application/json', 'x-skylark-csrf': csrf }, body: '{"app":"chat"}' });
    return (await response.json()) as { id: string };
  });
  // Like a real long chat: short questions, answers of a few lines with markdown in them.
  const rows = Array.from({ length: messages }, (_, i) => {
    const content = i % 2 === 0 ? `Question number ${i}: how does this work?` : `Answer **${i}** with \`code\`, a list:\n\n- one\n- two\n\nand more text to wrap. `.repeat(1 + (i % 5));
    return {
      conversation_id: made.id, role: (i % 2 === 0 ? 'user' : 'assistant') as 'user' | 'assistant', content, search_text: searchText(content),
      status: 'complete' as const, error_code: null, model: 'bench-chat', prompt_tokens: 0, completion_tokens: 0, created_at: Date.now() + i,
    };
  });
  for (let i = 0; i < rows.length; i += 250) await sky.platform.store.db.insertInto('messages').values(rows.slice(i, i + 250)).execute();
  return made.id;
}

function routeBytes(scripts: ScriptBytes[]): { raw: number; gzip: number; files: number } {
  return { raw: sum(scripts, 'raw'), gzip: sum(scripts, 'gzip'), files: scripts.length };
}

async function main(): Promise<void> {
  if (!existsSync(join(webRoot, 'index.html'))) throw new Error(`No web build at ${webRoot}: run \`npm run build\` first.`);
  console.log(`bench:web — ${describeMachine()}; load average at start ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const sky = await startTestPlatform(
    { engines: { sim: { kind: 'sim', slots: 4 } }, models: [{ id: 'bench-chat', engine: 'sim', capabilities: ['chat'] }] },
    { env: { SKYLARK_WEB_ROOT: webRoot } },
  );
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ['--disable-gpu-vsync', '--disable-frame-rate-limit', ...(process.getuid?.() === 0 ? ['--no-sandbox'] : [])],
  });
  try {
    const state = await signedInState(browser, sky.url);
    const viewport = { width: 1280, height: 800 };

    // Cold loads, each in a fresh context (no cache), then a warm reload in the same tab.
    const cold: Load[] = [];
    const warm: Load[] = [];
    for (let i = 0; i < runs; i++) {
      const context = await browser.newContext({ storageState: state, viewport, locale: 'en-US' });
      const page = await context.newPage();
      cold.push(await load(page, sky.url, composer));
      warm.push(await load(page, sky.url, composer, true));
      await context.close();
    }
    const chat = routeBytes(cold[0]!.scripts);

    // The console route: everything /console downloads, and what only it downloads.
    const consoleContext = await browser.newContext({ viewport, locale: 'en-US' });
    const consolePage = await consoleContext.newPage();
    const consoleLoad = await load(consolePage, `${sky.url}/console`, 'input[name="api-key"]');
    await consoleContext.close();
    const consoleAll = routeBytes(consoleLoad.scripts);
    const chatUrls = new Set(cold[0]!.scripts.map((s) => s.url));
    const consoleOnly = routeBytes(consoleLoad.scripts.filter((s) => !chatUrls.has(s.url)));

    // Scrolling: 1,000 messages against 100, each opened fresh at its end.
    const scrollContext = await browser.newContext({ storageState: state, viewport, locale: 'en-US' });
    const scrollPage = await scrollContext.newPage();
    await scrollPage.goto(sky.url);
    const conversations = { 100: await conversationOf(sky, scrollPage, 100), 1000: await conversationOf(sky, scrollPage, 1000) };
    const frames: Record<string, Frames[]> = { 100: [], 1000: [] };
    const opened: Record<string, number[]> = { 100: [], 1000: [] };
    for (let i = 0; i < runs; i++) {
      for (const size of [100, 1000] as const) {
        const shown = await load(scrollPage, `${sky.url}/c/${conversations[size]}`, '[data-testid="message-scroller"] .message-slot');
        opened[size]!.push(shown.interactive);
        await scrollPage.waitForTimeout(300); // let the first measurements settle
        frames[size]!.push(await scrollFrames(scrollPage, stepPx));
      }
    }
    await scrollContext.close();

    report({ chat, consoleAll, consoleOnly, consoleScripts: consoleLoad.scripts, chatScripts: cold[0]!.scripts, cold, warm, frames, opened });
  } finally {
    await browser.close();
    await sky.close();
  }
}

interface Results {
  chat: ReturnType<typeof routeBytes>;
  consoleAll: ReturnType<typeof routeBytes>;
  consoleOnly: ReturnType<typeof routeBytes>;
  chatScripts: ScriptBytes[];
  consoleScripts: ScriptBytes[];
  cold: Load[];
  warm: Load[];
  frames: Record<string, Frames[]>;
  opened: Record<string, number[]>;
}

function report(r: Results): void {
  const median = (values: number[]) => percentile(values, 50);
  console.log(`\n${runs} runs each; scroll step ${stepPx} px per frame.\n`);

  console.log('JavaScript per route (first load, empty cache)\n');
  console.log(
    table(
      ['route', 'files', 'raw KB', 'gzip KB', 'goal'],
      [
        ['chat (/)', String(r.chat.files), kb(r.chat.raw), kb(r.chat.gzip), `≤ ${goals.chatGzipKB} KB gzip: ${r.chat.gzip / 1024 <= goals.chatGzipKB ? 'met' : 'MISSED'}`],
        ['console (/console), all', String(r.consoleAll.files), kb(r.consoleAll.raw), kb(r.consoleAll.gzip), ''],
        ['console, beyond the chat route', String(r.consoleOnly.files), kb(r.consoleOnly.raw), kb(r.consoleOnly.gzip), ''],
      ],
    ),
  );
  console.log(`\nchat route files: ${r.chatScripts.map((s) => s.url).join(', ')}`);
  console.log(`console route files: ${r.consoleScripts.map((s) => s.url).join(', ')}\n`);

  console.log('Time to interactive (navigation start → composer enabled), ms\n');
  const loadRow = (name: string, loads: Load[]) => {
    const tti = loads.map((l) => l.interactive);
    return [name, fixed(median(tti), 0), fixed(Math.min(...tti), 0), fixed(Math.max(...tti), 0)];
  };
  console.log(table(['load', 'median', 'min', 'max'], [loadRow('cold (empty cache)', r.cold), loadRow('warm reload (baseline)', r.warm)]));

  console.log('\nScrolling end → top → end: time between animation frames, ms\n');
  const rows = (['100', '1000'] as const).map((size) => {
    const all = r.frames[size]!.flatMap((f) => f.deltas);
    const p50 = median(all);
    return [
      size === '100' ? '100 messages (baseline)' : '1,000 messages',
      thousands(all.length),
      fixed(p50, 2),
      fixed(percentile(all, 95), 2),
      fixed(percentile(all, 99), 2),
      fixed(Math.max(...all), 1),
      `${fixed((100 * all.filter((d) => d > 16.7).length) / all.length, 1)}%`,
      String(r.frames[size]!.reduce((n, f) => n + f.longTasks, 0)),
      String(Math.max(...r.frames[size]!.map((f) => f.maxSlots))),
      thousands(median(r.frames[size]!.map((f) => f.scrolledPx))),
      fixed(median(r.opened[size]!), 0),
      size === '1000' ? `median ≤ ${goals.medianFrameMs} ms: ${p50 <= goals.medianFrameMs ? 'met' : 'MISSED'}` : '',
    ];
  });
  console.log(table(['conversation', 'frames', 'median', 'p95', 'p99', 'max', '> 16.7 ms', 'long tasks', 'max in DOM', 'px per pass', 'open ms', 'goal'], rows));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
