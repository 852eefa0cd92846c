/**
 * Text as the full-text index sees it, the same way on both dialects. Word tokenizers
 * (SQLite's unicode61, PostgreSQL's `simple`) take a run of Chinese characters as one
 * "word", which makes 天气 unfindable inside 今天天气很好; spacing CJK characters apart
 * turns each into a token, and a query for 天气 becomes the phrase 天 气.
 */
const cjk = String.raw`\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}`;
const cjkChar = new RegExp(`([${cjk}])`, 'gu');
/** One CJK character, or a run of other letters, digits and marks. */
const token = new RegExp(`[${cjk}]|(?:(?![${cjk}])[\\p{L}\\p{N}\\p{M}])+`, 'gu');

export function searchText(content: string): string {
  return content.replace(cjkChar, ' $1 ');
}

/**
 * A query as phrases of tokens: each whitespace-separated term is one phrase. Tokens hold
 * only letters, digits and marks, so no query syntax of either dialect can get through.
 */
export function queryPhrases(query: string): string[][] {
  return query
    .normalize('NFKC')
    .split(/\s+/u)
    .map((term) => term.toLowerCase().match(token) ?? [])
    .filter((tokens) => tokens.length > 0)
    .slice(0, 8);
}

/** FTS5: `"t1 t2"*` per phrase (prefix on its last token), ANDed. */
export function fts5Query(phrases: string[][]): string {
  return phrases.map((tokens) => `"${tokens.join(' ')}"*`).join(' ');
}

/** tsquery: `t1 <-> t2:*` per phrase, ANDed. */
export function tsQuery(phrases: string[][]): string {
  return phrases.map((tokens) => `(${tokens.map((t, i) => (i === tokens.length - 1 ? `${t}:*` : t)).join(' <-> ')})`).join(' & ');
}

/** Up to ~120 characters around the first place a phrase's first token occurs. */
export function snippet(content: string, phrases: string[][], width = 120): string {
  const lower = content.toLowerCase();
  const at = Math.max(0, ...phrases.map((tokens) => lower.indexOf(tokens[0]!)).filter((i) => i >= 0).slice(0, 1));
  const start = Math.max(0, at - Math.floor(width / 3));
  const text = content.slice(start, start + width).replace(/\s+/gu, ' ').trim();
  return `${start > 0 ? '…' : ''}${text}${start + width < content.length ? '…' : ''}`;
}
