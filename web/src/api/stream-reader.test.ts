import { describe, expect, it } from 'vitest';
import { parseQueueComment, readSse, SseParser, type StreamItem } from './stream-reader.js';

function feed(pieces: string[]): StreamItem[] {
  const parser = new SseParser();
  return [...pieces.flatMap((piece) => parser.push(piece)), ...parser.end()];
}

describe('the SSE stream reader', () => {
  it('yields data events as they complete, however the text is split', () => {
    const text = 'data: {"a":1}\n\ndata: {"b":2}\n\ndata: [DONE]\n\n';
    const whole = feed([text]);
    expect(whole).toEqual([{ type: 'data', data: '{"a":1}' }, { type: 'data', data: '{"b":2}' }, { type: 'done' }]);
    // Every possible split point, and one character at a time.
    for (let at = 0; at <= text.length; at++) expect(feed([text.slice(0, at), text.slice(at)])).toEqual(whole);
    expect(feed([...text])).toEqual(whole);
  });

  it('reads CRLF and CR line ends, multi-line data and `data:` without a space', () => {
    expect(feed(['data:one\r\ndata: two\r\n\r\n', 'data: three\r', '\r'])).toEqual([
      { type: 'data', data: 'one\ntwo' },
      { type: 'data', data: 'three' },
    ]);
  });

  it('turns queue comments into waits and ignores other comments and fields', () => {
    const items = feed([': ping\n\n', ': queue position=3 eta_ms=4200\n\n', 'event: x\nid: 7\nretry: 10\n\n', ': queue eta_ms=900 position=1 tier=free\n\n', 'data: x\n\n']);
    expect(items).toEqual([
      { type: 'queue', position: 3, etaMs: 4200 },
      { type: 'queue', position: 1, etaMs: 900 },
      { type: 'data', data: 'x' },
    ]);
  });

  it('parses only well-formed queue reports', () => {
    expect(parseQueueComment(' queue position=0 eta_ms=0')).toEqual({ position: 0, etaMs: 0 });
    expect(parseQueueComment('queue position=2')).toEqual({ position: 2, etaMs: 0 });
    expect(parseQueueComment('queue position=4 eta_ms=5000 eta_range_ms=3000-9000')).toEqual({ position: 4, etaMs: 5000, etaLowMs: 3000, etaHighMs: 9000 });
    // A malformed range drops the range, not the report.
    expect(parseQueueComment('queue position=4 eta_ms=5000 eta_range_ms=9000-3000')).toEqual({ position: 4, etaMs: 5000 });
    expect(parseQueueComment('queue position=4 eta_ms=5000 eta_range_ms=soon')).toEqual({ position: 4, etaMs: 5000 });
    expect(parseQueueComment('queue position=-1 eta_ms=5')).toBeUndefined();
    expect(parseQueueComment('queue position=abc eta_ms=5')).toBeUndefined();
    expect(parseQueueComment('queued position=2')).toBeUndefined();
    expect(parseQueueComment('ping')).toBeUndefined();
  });

  it('keeps an event left without its blank line when the stream ends', () => {
    expect(feed(['data: last'])).toEqual([{ type: 'data', data: 'last' }]);
  });

  it('reads a response body byte stream, multi-byte characters split across chunks', async () => {
    const bytes = new TextEncoder().encode(': queue position=2 eta_ms=1000\n\ndata: {"text":"你好"}\n\ndata: [DONE]\n\n');
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 5) controller.enqueue(bytes.slice(i, i + 5));
        controller.close();
      },
    });
    const items: StreamItem[] = [];
    for await (const item of readSse(body)) items.push(item);
    expect(items).toEqual([{ type: 'queue', position: 2, etaMs: 1000 }, { type: 'data', data: '{"text":"你好"}' }, { type: 'done' }]);
  });

  it('cancels the body when the reader stops early', async () => {
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.enqueue(new TextEncoder().encode('data: tick\n\n'));
      },
      cancel() {
        cancelled = true;
      },
    });
    for await (const item of readSse(body)) {
      expect(item).toEqual({ type: 'data', data: 'tick' });
      break;
    }
    expect(cancelled).toBe(true);
  });
});
