import { describe, expect, it } from 'vitest';
import { SkylarkError } from '../../core/errors.js';
import { SseParser } from './sse-reader.js';

function feed(pieces: (string | Buffer)[]): string[] {
  const parser = new SseParser();
  const out: string[] = [];
  for (const piece of pieces) out.push(...parser.push(piece));
  out.push(...parser.end());
  return out;
}

describe('SseParser', () => {
  it('emits each event as soon as its blank line arrives', () => {
    const parser = new SseParser();
    expect(parser.push('data: one\n')).toEqual([]);
    expect(parser.push('\ndata: tw')).toEqual(['one']);
    expect(parser.push('o\n\n')).toEqual(['two']);
  });

  it('handles LF, CRLF and CR line endings, including a CRLF split across reads', () => {
    expect(feed(['data: a\r\n\r\ndata: b\r', '\n\r', '\ndata: c\r\rdata: d\n\n'])).toEqual(['a', 'b', 'c', 'd']);
  });

  it('joins multi-line data, ignores comments and other fields', () => {
    expect(feed([': ping\n\nevent: message\nid: 7\ndata: x\ndata:y\nretry: 10\n\n'])).toEqual(['x\ny']);
    expect(feed(['data: 1\ndata: 2\ndata:  3\n\n'])).toEqual(['1\n2\n 3']);
  });

  it('takes a bare `data` line as empty data and only the exact field name `data`', () => {
    expect(feed(['data\n\ndatum: z\ndata2: q\nDATA: r\n\ndata:\n\n'])).toEqual(['', '']);
  });

  it('reassembles a UTF-8 character split across reads', () => {
    const bytes = Buffer.from('data: héllo 世界\n\n', 'utf8');
    const cut = bytes.indexOf(0xe4) + 1; // inside 世
    expect(feed([bytes.subarray(0, 9), bytes.subarray(9, cut), bytes.subarray(cut)])).toEqual(['héllo 世界']);
  });

  it('delivers an unterminated last event at the end', () => {
    expect(feed(['data: [DONE]'])).toEqual(['[DONE]']);
    expect(feed(['data: last\n'])).toEqual(['last']);
  });

  it('refuses an unbounded line', () => {
    const parser = new SseParser();
    const big = 'x'.repeat(1024 * 1024);
    expect(() => {
      for (let i = 0; i < 20; i++) parser.push(big);
    }).toThrow(SkylarkError);
  });
});
