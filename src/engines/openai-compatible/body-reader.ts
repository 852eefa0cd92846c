/**
 * Pull-based reading of an undici response body. Unlike `for await`, stopping early does
 * not destroy the body: after `[DONE]` the rest is drained so the keep-alive connection
 * goes back to the pool instead of being torn down.
 */
import type { Readable } from 'node:stream';

/** After the answer is complete, at most this much trailing junk is drained before giving up on the socket. */
const drainLimitBytes = 64 * 1024;

const ignore = (): void => {};

export class ChunkReader {
  private ended = false;
  private failure: unknown;
  private wake: (() => void) | undefined;
  private readonly onReadable = (): void => this.signal();
  private readonly onEnd = (): void => {
    this.ended = true;
    this.signal();
  };
  private readonly onError = (error: unknown): void => {
    this.failure ??= error;
    this.signal();
  };
  private readonly onClose = (): void => {
    if (!this.ended) this.failure ??= new Error('The response body closed before it ended.');
    this.signal();
  };

  constructor(private readonly body: Readable) {
    body.on('readable', this.onReadable);
    body.on('end', this.onEnd);
    body.on('error', this.onError);
    body.on('close', this.onClose);
  }

  /** The next chunk as soon as it arrives; null at the end; rejects on a transport error. */
  async read(): Promise<Buffer | null> {
    for (;;) {
      if (this.failure !== undefined) throw this.failure;
      const chunk = this.body.read() as Buffer | null;
      if (chunk !== null) return chunk;
      if (this.ended) return null;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  /** Reads the whole body as text, keeping at most `limit` bytes (error bodies). */
  async text(limit: number): Promise<string> {
    const chunks: Buffer[] = [];
    let size = 0;
    for (let chunk = await this.read(); chunk !== null; chunk = await this.read()) {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= limit) {
        this.destroy();
        break;
      }
    }
    // A small answer is one chunk: decoded as it is, without concatenating a copy first.
    const text = chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8');
    return text.slice(0, limit);
  }

  /** Stops reading but lets the response finish so the connection can be reused. */
  release(): void {
    this.detach();
    if (this.body.destroyed || this.ended) return;
    const dump = (this.body as Readable & { dump?: (o: { limit: number }) => Promise<unknown> }).dump;
    if (dump === undefined) this.body.destroy();
    else dump.call(this.body, { limit: drainLimitBytes }).catch(() => {});
  }

  /** Stops reading and tears the upstream request down (frees the upstream's slot at once). */
  destroy(): void {
    this.detach();
    if (!this.body.destroyed) this.body.destroy();
  }

  private detach(): void {
    this.body.off('readable', this.onReadable);
    this.body.off('end', this.onEnd);
    this.body.off('close', this.onClose);
    this.body.off('error', this.onError);
    // A late error after we stopped listening must not become an unhandled 'error' event.
    this.body.on('error', ignore);
    this.signal();
  }

  private signal(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
