/**
 * What every engine that talks to a remote server shares (`openai-compatible`, `anthropic`):
 * one keep-alive undici Pool per upstream, the requests in flight (so close() can abort
 * them all and capacity() can count them), and the one loop that turns an upstream answer —
 * a JSON body or an event stream — into parts through a protocol's own decoder.
 */
import { Pool } from 'undici';
import type { IncomingHttpHeaders } from 'node:http';
import { SkylarkError } from '../../core/errors.js';
import type { EngineHealth, FinishReason, GenerationPart } from '../engine.js';
import { ChunkReader } from './body-reader.js';
import { SseParser } from './sse-reader.js';
import { badResponse, errorFromTransport, type TransportTimeouts } from './upstream-errors.js';

/** A protocol's answer, part by part; the loop below drives it. */
export interface PartDecoder {
  /** A whole (non-streamed) answer as parts, the terminal one last. */
  response(json: unknown): GenerationPart[];
  /** One server-sent event's data. */
  event(data: string): readonly GenerationPart[];
  /** The upstream sent its last event. */
  readonly done: boolean;
  /** The answer is whole, even if the connection drops before the stream's tail. */
  readonly complete: boolean;
  readonly finishReason: FinishReason | undefined;
  /** `sent`: whether the prompt reached the upstream (nothing is billed when it did not). */
  finish(reason: FinishReason, sent?: boolean): GenerationPart;
  error(error: SkylarkError, sent?: boolean): GenerationPart;
}

export type StatusError = (status: number, headers: IncomingHttpHeaders, body: string, model: string) => SkylarkError;

export interface UpstreamCall {
  path: string;
  headers: Record<string, string>;
  body: string;
  signal: AbortSignal;
  stream: boolean;
  model: string;
}

export interface Occupied {
  /** The caller's signal (close() fails the request through the pool instead). */
  readonly signal: AbortSignal;
  /** The response body, once there is one: released to the pool or destroyed with the request. */
  reader: ChunkReader | undefined;
  release(completed: boolean): void;
}

export interface UpstreamConnectionOptions {
  origin: string;
  maxConnections: number;
  connectTimeoutMs: number;
  timeouts: TransportTimeouts;
}

/** Error bodies are read only to find a message; a huge one is cut off. */
export const errorBodyLimit = 64 * 1024;

export class UpstreamConnection {
  /** Upstream requests running now. */
  busy = 0;
  readonly timeouts: TransportTimeouts;
  private pool: Pool | undefined;
  private state: 'new' | 'ready' | 'closed' = 'new';
  /** One controller per tracked request in flight (embeddings, Anthropic), so close() can abort them all. */
  private readonly inFlight = new Set<AbortController>();

  constructor(private readonly options: UpstreamConnectionOptions) {
    this.timeouts = options.timeouts;
  }

  /** Opens no connection: an upstream that is down at boot may come up later. */
  start(): void {
    if (this.state === 'closed') throw new SkylarkError('engine_unavailable', 'The engine has been closed.');
    this.pool ??= new Pool(this.options.origin, {
      connections: this.options.maxConnections,
      pipelining: 1,
      connectTimeout: this.options.connectTimeoutMs,
      headersTimeout: this.timeouts.firstByteTimeoutMs,
      bodyTimeout: this.timeouts.idleTimeoutMs,
    });
    this.state = 'ready';
  }

  get closed(): boolean {
    return this.state === 'closed';
  }

  health(): EngineHealth {
    if (this.state === 'new') return { state: 'loading' };
    if (this.state === 'closed') return { state: 'failed', reason: 'The engine has been closed.' };
    return { state: 'ready' };
  }

  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    for (const controller of this.inFlight) controller.abort();
    const pool = this.pool;
    this.pool = undefined;
    if (pool !== undefined) await pool.destroy();
  }

  requirePool(): Pool {
    if (this.pool === undefined || this.state !== 'ready') {
      const message = this.state === 'closed' ? 'The engine has been closed.' : 'The engine has not been started.';
      throw new SkylarkError('engine_unavailable', message);
    }
    return this.pool;
  }

  /** Links the caller's signal to a controller that close() can also abort. */
  track(signal: AbortSignal): { controller: AbortController; untrack: () => void } {
    const controller = new AbortController();
    const onAbort = (): void => controller.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    this.inFlight.add(controller);
    return {
      controller,
      untrack: () => {
        signal.removeEventListener('abort', onAbort);
        this.inFlight.delete(controller);
      },
    };
  }

  /**
   * One upstream request's hold on this connection: counted as busy until released — once,
   * whichever path ends it. A completed body goes back to the pool's keep-alive; anything
   * else tears the request down. The caller's own signal aborts it (no second controller
   * linked to it per request); close() ends it by destroying the pool, which fails every
   * request and body in flight.
   */
  occupy(signal: AbortSignal): Occupied {
    this.busy++;
    let released = false;
    const occupied: Occupied = {
      signal,
      reader: undefined,
      release: (completed) => {
        if (released) return;
        released = true;
        if (completed) occupied.reader?.release();
        else occupied.reader?.destroy();
        this.busy--;
      },
    };
    return occupied;
  }

  /** A transport failure (or a closed engine) as the SkylarkError a caller sees. */
  failure(error: unknown, gotHeaders: boolean): SkylarkError {
    if (this.state === 'closed') return new SkylarkError('engine_unavailable', 'The engine was closed.', { cause: error });
    return errorFromTransport(error, gotHeaders, this.timeouts);
  }

  /**
   * One generation: never throws, and every outcome, a failure before the first byte
   * included, ends in exactly one terminal part. Resources are released *before* the
   * terminal part is yielded, so a consumer that stops pulling right after it leaks nothing.
   */
  async *generate(call: UpstreamCall, decoder: PartDecoder, statusError: StatusError): AsyncGenerator<GenerationPart> {
    let pool: Pool;
    try {
      pool = this.requirePool();
    } catch (error) {
      yield decoder.error(error as SkylarkError, false);
      return;
    }
    // Aborted before anything reached the upstream: nothing was spent.
    if (call.signal.aborted) {
      yield decoder.finish('abort', false);
      return;
    }

    const occupied = this.occupy(call.signal);
    const { release } = occupied;

    let terminal: GenerationPart;
    let gotHeaders = false;
    try {
      const response = await pool.request({ path: call.path, method: 'POST', headers: call.headers, body: call.body, signal: occupied.signal });
      gotHeaders = true;
      const reader = (occupied.reader = new ChunkReader(response.body));
      if (response.statusCode < 200 || response.statusCode >= 300) {
        const text = await reader.text(errorBodyLimit);
        throw statusError(response.statusCode, response.headers, text, call.model);
      }
      const contentType = String(response.headers['content-type'] ?? '');
      // Some upstreams ignore `stream` and answer JSON; that is still a usable answer.
      if (!call.stream || contentType.includes('json')) {
        const text = await reader.text(Number.MAX_SAFE_INTEGER);
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch (error) {
          throw badResponse('The upstream response is not valid JSON.', error);
        }
        const parts = decoder.response(json);
        const last = parts.pop()!;
        for (const part of parts) yield part;
        release(true);
        yield last;
        return;
      }
      if (contentType.includes('html')) {
        throw badResponse('The upstream answered with an HTML page instead of an event stream.');
      }
      const parser = new SseParser();
      for (let chunk = await reader.read(); ; chunk = await reader.read()) {
        const events = chunk === null ? parser.end() : parser.push(chunk);
        // Indexed loops: this runs per upstream event, and for-of would allocate an array
        // iterator per read and per event inside this generator (bench:alloc).
        for (let e = 0; e < events.length; e++) {
          // A part may have been suspended in a yield while the client left; stop there.
          if (occupied.signal.aborted) throw new Error('aborted');
          const parts = decoder.event(events[e]!);
          for (let p = 0; p < parts.length; p++) yield parts[p]!;
          if (decoder.done) break;
        }
        if (chunk === null || decoder.done) break;
      }
      if (occupied.signal.aborted) throw new Error('aborted');
      terminal = decoder.complete
        ? decoder.finish(decoder.finishReason ?? 'stop')
        : decoder.error(new SkylarkError('upstream_error', 'The upstream closed the stream before it finished.'));
      release(true);
    } catch (error) {
      terminal = this.terminalFailure(decoder, error, gotHeaders, call.signal);
      release(false);
    } finally {
      // Reached without a terminal part only when the consumer stopped iterating early.
      release(false);
    }
    yield terminal;
  }

  private terminalFailure(decoder: PartDecoder, error: unknown, gotHeaders: boolean, signal: AbortSignal): GenerationPart {
    if (signal.aborted) return decoder.finish('abort');
    // The answer was complete; only the tail (usage or the end marker) was lost to a transport error.
    if (!this.closed && decoder.complete && !(error instanceof SkylarkError)) return decoder.finish(decoder.finishReason ?? 'stop');
    return decoder.error(this.failure(error, gotHeaders));
  }
}
