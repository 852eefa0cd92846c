/**
 * Server-Sent Events as both Skylark streams send them: `data:` lines (JSON, or [DONE])
 * and comment lines. One comment carries meaning: `: queue position=3 eta_ms=4200` (plus
 * `eta_range_ms=2500-9000` where the estimate is uncertain), the
 * scheduler's report of where a request waits for compute; the rest (`: ping`) keep the
 * connection open. Works for /v1 streams and the web app's reply streams alike.
 */
export type StreamItem =
  | { type: 'data'; data: string }
  | ({ type: 'queue' } & QueueReport)
  | { type: 'done' };

/** A place in line and its wait; `etaLowMs`/`etaHighMs` where the scheduler gave a range. */
export interface QueueReport {
  position: number;
  etaMs: number;
  etaLowMs?: number;
  etaHighMs?: number;
}

const rangePattern = /^(\d+)-(\d+)$/;

const queuePattern = /^queue\s+(.*)$/;

/** `queue position=3 eta_ms=4200` (order and extra fields free) → the wait; else undefined. */
export function parseQueueComment(comment: string): QueueReport | undefined {
  const match = queuePattern.exec(comment.trim());
  if (!match) return undefined;
  const fields = new Map(match[1]!.split(/\s+/).map((pair) => pair.split('=', 2) as [string, string]));
  const position = Number(fields.get('position'));
  const etaMs = Number(fields.get('eta_ms') ?? 0);
  if (!Number.isInteger(position) || position < 0 || !Number.isFinite(etaMs) || etaMs < 0) return undefined;
  // A malformed range is left out, not the report: the point still holds.
  const range = rangePattern.exec(fields.get('eta_range_ms') ?? '');
  if (range === null || Number(range[1]) > Number(range[2])) return { position, etaMs };
  return { position, etaMs, etaLowMs: Number(range[1]), etaHighMs: Number(range[2]) };
}

/** Incremental: feed it text as it arrives, in pieces split anywhere. */
export class SseParser {
  private buffer = '';
  private data: string[] = [];

  push(text: string): StreamItem[] {
    this.buffer += text;
    const items: StreamItem[] = [];
    let newline: number;
    while ((newline = this.buffer.search(/\r\n|\r|\n/)) >= 0) {
      const line = this.buffer.slice(0, newline);
      const width = this.buffer.startsWith('\r\n', newline) ? 2 : 1;
      // A lone \r at the end may be the first half of \r\n: wait for the next piece.
      if (width === 1 && this.buffer[newline] === '\r' && newline === this.buffer.length - 1) break;
      this.buffer = this.buffer.slice(newline + width);
      this.line(line, items);
    }
    return items;
  }

  /** The stream ended: an event without its blank line still counts. */
  end(): StreamItem[] {
    const items: StreamItem[] = [];
    if (this.buffer !== '') this.line(this.buffer, items);
    this.buffer = '';
    this.line('', items);
    return items;
  }

  private line(line: string, items: StreamItem[]): void {
    if (line === '') {
      if (this.data.length === 0) return;
      const data = this.data.join('\n');
      this.data = [];
      items.push(data === '[DONE]' ? { type: 'done' } : { type: 'data', data });
    } else if (line.startsWith(':')) {
      const queue = parseQueueComment(line.slice(1));
      if (queue) items.push({ type: 'queue', ...queue });
    } else if (line.startsWith('data:')) {
      this.data.push(line.slice(line.startsWith('data: ') ? 6 : 5));
    }
    // event:, id:, retry: carry nothing these streams use.
  }
}

/** The items of a response body, as they arrive. */
export async function* readSse(body: ReadableStream<Uint8Array>): AsyncGenerator<StreamItem> {
  const parser = new SseParser();
  const decoder = new TextDecoder();
  const reader = body.getReader();
  let finished = false;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      yield* parser.push(decoder.decode(value, { stream: true }));
    }
    finished = true;
    yield* parser.push(decoder.decode());
    yield* parser.end();
  } finally {
    // The reader left early: close the connection rather than leave it streaming.
    if (!finished) await reader.cancel().catch(() => undefined);
  }
}
