// @vitest-environment happy-dom
import { act, cleanup, render } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { I18nProvider, type Lang } from '../../i18n/i18n.js';
import { SseParser } from '../../api/stream-reader.js';
import { QueueStatus, type QueueWait } from './queue-status.js';

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(new Date('2025-01-01T00:00:00Z'));
});
afterEach(() => {
  cleanup();
  vi.useRealTimers();
});

const show = (wait: QueueWait, lang: Lang = 'en') =>
  render(
    <I18nProvider initial={lang}>
      <QueueStatus wait={wait} />
    </I18nProvider>,
  );

describe('the queue display', () => {
  it('shows the place in line and counts the estimated wait down', () => {
    const view = show({ position: 3, etaMs: 4200, at: Date.now() });
    const status = view.getByRole('status');
    expect(status.textContent).toBe('Place in line: 3 · estimated wait 5 s');
    act(() => vi.advanceTimersByTime(2000));
    expect(status.textContent).toBe('Place in line: 3 · estimated wait 3 s');
    act(() => vi.advanceTimersByTime(5000));
    expect(status.textContent).toBe('Place in line: 3 · starting soon');
  });

  it('shows a range where the scheduler gave one, counting both ends down', () => {
    const [item] = new SseParser().push(': queue position=5 eta_ms=5200 eta_range_ms=3100-9000\n\n');
    const { type: _type, ...report } = item as { type: 'queue'; position: number; etaMs: number; etaLowMs: number; etaHighMs: number };
    const view = show({ ...report, at: Date.now() });
    const status = view.getByRole('status');
    expect(status.textContent).toBe('Place in line: 5 · estimated wait about 4–9 s');
    act(() => vi.advanceTimersByTime(5000));
    expect(status.textContent).toBe('Place in line: 5 · estimated wait 4 s');
    act(() => vi.advanceTimersByTime(5000));
    expect(status.textContent).toBe('Place in line: 5 · starting soon');
  });

  it('speaks Chinese too', () => {
    const view = show({ position: 1, etaMs: 900, at: Date.now() }, 'zh-CN');
    expect(view.getByRole('status').textContent).toBe('排队位置：第 1 位 · 预计等待 1 秒');
  });

  it('shows what the scheduler reports on the stream', () => {
    const [item] = new SseParser().push(': queue position=7 eta_ms=12000\n\n');
    expect(item?.type).toBe('queue');
    const wait = item as { position: number; etaMs: number };
    const view = show({ position: wait.position, etaMs: wait.etaMs, at: Date.now() });
    expect(view.getByTestId('queue-status').textContent).toBe('Place in line: 7 · estimated wait 12 s');
  });
});
