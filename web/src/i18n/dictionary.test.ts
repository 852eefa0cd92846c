import { describe, expect, it } from 'vitest';
import { en, zhCN } from './dictionary.js';
import { detectLang, translate } from './i18n.js';

describe('the dictionary', () => {
  it('has every string in both languages, with the same placeholders', () => {
    const keys = Object.keys(en) as (keyof typeof en)[];
    expect(Object.keys(zhCN).sort()).toEqual([...keys].sort());
    const holes = (text: string) => (text.match(/\{\w+\}/g) ?? []).sort();
    for (const key of keys) {
      expect(zhCN[key].trim(), key).not.toBe('');
      expect(holes(zhCN[key]), key).toEqual(holes(en[key]));
    }
  });

  it('fills placeholders and picks the language from the browser', () => {
    expect(translate('en', 'queue.position', { position: 2 })).toBe('Place in line: 2');
    expect(translate('zh-CN', 'queue.position', { position: 2 })).toBe('排队位置：第 2 位');
    expect(detectLang(['zh-TW', 'en'])).toBe('zh-CN');
    expect(detectLang(['fr-FR', 'en-GB'])).toBe('en');
    expect(detectLang(['de'])).toBe('en');
  });
});
