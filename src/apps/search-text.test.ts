import { describe, expect, it } from 'vitest';
import { fts5Query, queryPhrases, searchText, snippet, tsQuery } from './search-text.js';

describe('search text', () => {
  it('spaces CJK characters apart and leaves other words whole', () => {
    expect(searchText('今天天气 hello')).toBe(' 今  天  天  气  hello');
  });

  it('turns a query into phrases with nothing of either query syntax left', () => {
    const phrases = queryPhrases('天气 Hello "wor*ld" a&b:* NEAR(x)');
    expect(phrases).toEqual([['天', '气'], ['hello'], ['wor', 'ld'], ['a', 'b'], ['near', 'x']]);
    expect(fts5Query(phrases)).toBe('"天 气"* "hello"* "wor ld"* "a b"* "near x"*');
    expect(tsQuery([['天', '气'], ['hello']])).toBe('(天 <-> 气:*) & (hello:*)');
    expect(queryPhrases('  "*" ')).toEqual([]);
  });

  it('cuts a snippet around the first match', () => {
    const text = `${'x '.repeat(100)}needle here ${'y '.repeat(100)}`;
    const cut = snippet(text, [['needle']]);
    expect(cut).toContain('needle here');
    expect(cut.startsWith('…')).toBe(true);
    expect(cut.endsWith('…')).toBe(true);
  });
});
