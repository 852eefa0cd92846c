/**
 * An incremental Server-Sent Events parser that only cares about `data:` payloads, which
 * is all OpenAI-compatible upstreams use. Bytes go in as they arrive; each complete event
 * comes out at once, so nothing is held back waiting for more of the body.
 */
import { StringDecoder } from 'node:string_decoder';
import { SkylarkError } from '../../core/errors.js';

/** No real event line comes near this; a body without newlines must not grow memory forever. */
const maxLineLength = 16 * 1024 * 1024;

export class SseParser {
  // A multi-byte UTF-8 character may be split across TCP reads.
  private readonly decoder = new StringDecoder('utf8');
  private buffer = '';
  // The current event's data lines: nearly every event has one, kept as a string; an array
  // only for the rare multi-line event (one array and a join per event was most of this
  // parser's garbage; bench:alloc).
  private data: string | undefined;
  private moreData: string[] | undefined;
  // A CR at the very end of a read may be the first half of a CRLF split across reads.
  private pendingCr = false;

  /** Feeds bytes; returns the data of every event completed by them, in order. */
  push(chunk: Buffer | string): string[] {
    const text = typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    return this.consume(text, false);
  }

  /**
   * Ends the input. Per the SSE spec an unterminated last event is dropped, but some
   * upstreams omit the final blank line, so a pending event is delivered instead.
   */
  end(): string[] {
    const events = this.consume(this.decoder.end(), true);
    this.dispatch(events);
    return events;
  }

  private consume(text: string, final: boolean): string[] {
    const events: string[] = [];
    // The held-over buffer has no line break in it, so scanning resumes where it ended.
    let scanFrom = this.buffer.length;
    let input = this.buffer + text;
    if (this.pendingCr && input.startsWith('\n')) {
      input = input.slice(1);
      scanFrom = 0;
    }
    this.pendingCr = false;
    let start = 0;
    const length = input.length;
    while (start < length) {
      let end = Math.max(start, scanFrom);
      let code = 0;
      while (end < length) {
        code = input.charCodeAt(end);
        if (code === 10 || code === 13) break;
        end++;
      }
      if (end === length) break;
      this.line(input.slice(start, end), events);
      if (code === 13) {
        if (end + 1 < length) {
          start = input.charCodeAt(end + 1) === 10 ? end + 2 : end + 1;
        } else {
          this.pendingCr = true;
          start = end + 1;
        }
      } else {
        start = end + 1;
      }
    }
    this.buffer = start === 0 ? input : input.slice(start);
    if (this.buffer.length > maxLineLength) {
      throw new SkylarkError('upstream_bad_response', 'The upstream sent an over-long line in its event stream.');
    }
    if (final && this.buffer.length > 0) {
      this.line(this.buffer, events);
      this.buffer = '';
    }
    return events;
  }

  private line(line: string, events: string[]): void {
    if (line.length === 0) {
      this.dispatch(events);
      return;
    }
    if (line.charCodeAt(0) === 58 /* ':' comment, e.g. keep-alive pings */) return;
    const colon = line.indexOf(':');
    // The field name is compared in place rather than sliced out of every line.
    if (colon === -1 ? line !== 'data' : colon !== 4 || !line.startsWith('data')) return;
    let from = colon === -1 ? line.length : colon + 1;
    if (line.charCodeAt(from) === 32) from++;
    const value = line.slice(from);
    if (this.data === undefined) this.data = value;
    else (this.moreData ??= []).push(value);
  }

  /** Ends the current event, if it has data: its lines joined by newlines, as the spec says. */
  private dispatch(events: string[]): void {
    if (this.data === undefined) return;
    events.push(this.moreData === undefined ? this.data : `${this.data}\n${this.moreData.join('\n')}`);
    this.data = undefined;
    this.moreData = undefined;
  }
}
