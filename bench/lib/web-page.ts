/**
 * What bench:web measures inside Chromium: the JavaScript a route downloads, how long until
 * the page can be used, and the frame times of scrolling a conversation.
 */
import { gzipSync } from 'node:zlib';
import type { Browser, Page, Response } from 'playwright-core';

export interface ScriptBytes {
  url: string;
  raw: number;
  gzip: number;
}

/** Records every script the page downloads until the returned function is called. */
export function recordScripts(page: Page): () => Promise<ScriptBytes[]> {
  const pending: Promise<ScriptBytes | undefined>[] = [];
  const listener = (response: Response) => {
    if (response.request().resourceType() !== 'script') return;
    pending.push(
      response.body().then(
        // level 9, as a static-file server precompressing its assets would.
        (body) => ({ url: new URL(response.url()).pathname, raw: body.length, gzip: gzipSync(body, { level: 9 }).length }),
        () => undefined,
      ),
    );
  };
  page.on('response', listener);
  return async () => {
    page.off('response', listener);
    return (await Promise.all(pending)).filter((s): s is ScriptBytes => s !== undefined);
  };
}

export const sum = (scripts: ScriptBytes[], key: 'raw' | 'gzip') => scripts.reduce((total, s) => total + s[key], 0);

export interface Load {
  /** ms from navigation start until the composer accepts typing. */
  interactive: number;
  scripts: ScriptBytes[];
}

/**
 * Opens `url` in `page` and waits until `ready` (a CSS selector) is enabled. The time is
 * the page's own clock (performance.now() counts from navigation start), polled every
 * animation frame, so it is what a person would see, to within a frame.
 */
export async function load(page: Page, url: string, ready: string, reload = false): Promise<Load> {
  const scripts = recordScripts(page);
  if (reload) await page.reload({ waitUntil: 'commit' });
  else await page.goto(url, { waitUntil: 'commit' });
  const handle = await page.waitForFunction(
    (selector) => {
      const element = document.querySelector(selector) as HTMLTextAreaElement | HTMLInputElement | null;
      return element !== null && !element.disabled && element.getClientRects().length > 0 ? performance.now() : false;
    },
    ready,
    { polling: 'raf', timeout: 30_000 },
  );
  const interactive = (await handle.jsonValue()) as number;
  await page.waitForLoadState('load');
  return { interactive, scripts: await scripts() };
}

export interface Frames {
  deltas: number[];
  /** Main-thread tasks over 50 ms while scrolling. */
  longTasks: number;
  /** Messages in the DOM at most (virtualisation keeps this small). */
  maxSlots: number;
  scrolledPx: number;
}

/**
 * Scrolls the conversation from its end to its top and back, `stepPx` per animation frame,
 * and records the time between frames. Chromium runs with its frame rate unlocked (see
 * bench/web.ts), so a delta is the cost of a frame, not the display's 16.7 ms tick.
 */
export async function scrollFrames(page: Page, stepPx: number): Promise<Frames> {
  return page.evaluate(async (step) => {
    const scroller = document.querySelector('[data-testid="message-scroller"]') as HTMLElement;
    let longTasks = 0;
    const observer = new PerformanceObserver((list) => (longTasks += list.getEntries().length));
    observer.observe({ type: 'longtask', buffered: false });
    const deltas: number[] = [];
    let maxSlots = 0;
    let scrolledPx = 0;
    let direction = -1;
    let last = performance.now();
    await new Promise<void>((done) => {
      const frame = (now: number) => {
        deltas.push(now - last);
        last = now;
        maxSlots = Math.max(maxSlots, scroller.querySelectorAll('.message-slot').length);
        const before = scroller.scrollTop;
        scroller.scrollTop = before + direction * step;
        scrolledPx += Math.abs(scroller.scrollTop - before);
        if (direction < 0 && scroller.scrollTop <= 0) direction = 1;
        else if (direction > 0 && scroller.scrollTop + scroller.clientHeight >= scroller.scrollHeight - 1) return done();
        if (deltas.length > 20_000) return done(); // a conversation that keeps growing: stop anyway
        requestAnimationFrame(frame);
      };
      requestAnimationFrame((now) => {
        last = now;
        requestAnimationFrame(frame);
      });
    });
    observer.disconnect();
    return { deltas, longTasks, maxSlots, scrolledPx };
  }, stepPx);
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** A signed-in member's cookies, made once and reused by fresh contexts (cold caches). */
export async function signedInState(browser: Browser, url: string): Promise<Awaited<ReturnType<import('playwright-core').BrowserContext['storageState']>>> {
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  await page.goto(url);
  const status = await page.evaluate(async () => {
    await fetch('/api/session'); // sets the CSRF cookie, if the app has not yet
    const csrf = /(?:^|;\s*)sky_csrf=([^;]+)/.exec(document.cookie)?.[1] ?? '';
    const response = await fetch('/api/auth/signup', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-skylark-csrf': csrf },
      body: JSON.stringify({ username: 'bench-user', password: 'correct horse battery' }),
    });
    return response.status;
  });
  if (status !== 201) throw new Error(`sign up failed: ${status}`);
  const state = await context.storageState();
  await context.close();
  return state;
}
