import { describe, expect, it } from 'vitest';
import { consoleEn, consoleZhCN } from './console-strings.js';
import { addStrings, en } from './dictionary.js';
import { translate } from './i18n.js';

describe("the console's strings", () => {
  it('are all in both languages, with the same placeholders, and clash with no chat string', () => {
    const keys = Object.keys(consoleEn) as (keyof typeof consoleEn)[];
    expect(Object.keys(consoleZhCN).sort()).toEqual([...keys].sort());
    const holes = (text: string) => (text.match(/\{\w+\}/g) ?? []).sort();
    for (const key of keys) {
      expect(consoleZhCN[key].trim(), key).not.toBe('');
      expect(holes(consoleZhCN[key]), key).toEqual(holes(consoleEn[key]));
      expect(key in en, key).toBe(false);
    }
  });

  it('arrive with the console: until then a key shows as itself', () => {
    expect(translate('en', 'console.usage.days', { days: 7 })).toBe('console.usage.days');
    addStrings(consoleEn, consoleZhCN);
    expect(translate('en', 'console.usage.days', { days: 7 })).toBe('Last 7 days');
    expect(translate('zh-CN', 'console.usage.days', { days: 7 })).toBe('最近 7 天');
  });
});
