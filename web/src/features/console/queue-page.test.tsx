// @vitest-environment happy-dom
import { cleanup, render } from '@testing-library/react';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { consoleEn, consoleZhCN } from '../../i18n/console-strings.js';
import { addStrings } from '../../i18n/dictionary.js';
import { I18nProvider, type Lang } from '../../i18n/i18n.js';
import type { QueueSnapshot } from './console-api.js';
import { QueueView } from './queue-page.js';

beforeAll(() => addStrings(consoleEn, consoleZhCN));
afterEach(cleanup);

const snapshot: QueueSnapshot = {
  object: 'queue.snapshot',
  at: 1234.5,
  models: [
    {
      model: 'sim-one',
      tiers: [
        { tier: 'priority', depth: 0, oldestWaitMs: 0, etaMs: 0 },
        { tier: 'standard', depth: 2, oldestWaitMs: 2500, etaMs: 8200 },
        { tier: 'free', depth: 1, oldestWaitMs: 900, etaMs: 12_000 },
        { tier: 'batch', depth: 0, oldestWaitMs: 0, etaMs: 30_000 },
      ],
      replicas: [
        { id: 'r1', slots: 1, busy: 1, breaker: 'closed' },
        { id: 'r2', slots: 4, busy: 0, breaker: 'open' },
      ],
    },
  ],
};

const show = (lang: Lang = 'en') =>
  render(
    <I18nProvider initial={lang}>
      <QueueView snapshot={snapshot} />
    </I18nProvider>,
  );

describe('the live queue display', () => {
  it('shows depth and wait per tier, and each replica with its breaker', () => {
    const view = show();
    const rows = [...view.container.querySelectorAll('tr[data-tier]')].map((row) => [...row.querySelectorAll('td')].map((cell) => cell.textContent));
    expect(rows).toEqual([
      ['Priority', '0', '–', '0 s'],
      ['Standard', '2', '2.5 s', '8.2 s'],
      ['Free', '1', '0.9 s', '12 s'],
      ['Batch', '0', '–', '30 s'],
    ]);
    expect(view.getByText('3 waiting')).toBeTruthy();
    const replicas = [...view.container.querySelectorAll('li[data-replica]')].map((li) => li.textContent);
    expect(replicas).toEqual(['r11 of 1 slots busyHealthy', 'r20 of 4 slots busyFailing (breaker open)']);
  });

  it('speaks Chinese too', () => {
    const view = show('zh-CN');
    expect(view.container.querySelector('tr[data-tier="standard"]')!.textContent).toBe('标准22.5 秒8.2 秒');
    expect(view.getByText('3 个等待中')).toBeTruthy();
    expect(view.container.querySelector('[data-state="open"]')!.textContent).toBe('故障（熔断中）');
  });
});
