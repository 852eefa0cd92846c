/**
 * Replies being generated for the web app, in memory, by conversation. A run belongs to
 * the server, not to a browser tab: it keeps going when every follower has left, holds
 * the text so far (so a reconnect replays it), and ends by storing the answer. A finished
 * run lingers briefly so a follower that reconnects right at the end still gets its end.
 *
 * In memory, so per process; the relay (reply-relay.ts) publishes each run so a follower
 * on another gateway replica can follow it too.
 */
import type { WireMessage } from '../contracts/apps-api.js';
import type { EtaRange } from '../gateway/queue-notice.js';
import { localReplies, type ReplyRelay } from './reply-relay.js';

export interface RunEnd {
  /** The stored assistant message, as the API shows it. */
  message: WireMessage;
  error?: { code: string; message: string; retryAfterMs: number | null };
}

export type RunEvent =
  | { type: 'delta'; text: string }
  | { type: 'queue'; position: number; etaMs: number; range?: EtaRange }
  | { type: 'end'; end: RunEnd };

export class ChatRun {
  readonly controller = new AbortController();
  text = '';
  queue: { position: number; etaMs: number; range?: EtaRange } | undefined;
  ended: RunEnd | undefined;
  stoppedByUser = false;
  private readonly followers = new Set<(event: RunEvent) => void>();

  constructor(
    readonly conversationId: string,
    readonly messageId: number,
  ) {}

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  push(text: string): void {
    this.queue = undefined;
    this.text += text;
    this.emit({ type: 'delta', text });
  }

  /** Where the request waits for compute; for the scheduler to call while it queues. */
  reportQueue(position: number, etaMs: number, range?: EtaRange): void {
    this.queue = range === undefined ? { position, etaMs } : { position, etaMs, range };
    this.emit({ type: 'queue', ...this.queue });
  }

  end(end: RunEnd): void {
    this.ended = end;
    this.emit({ type: 'end', end });
    this.followers.clear();
  }

  /** Aborts the run at the user's request; it still ends normally, storing what it had. */
  stop(): boolean {
    if (this.ended !== undefined) return false;
    this.stoppedByUser = true;
    this.controller.abort(new Error('stopped by the user'));
    return true;
  }

  /** Live events from now on; call after reading `text` and `queue` for what came before. */
  follow(listener: (event: RunEvent) => void): () => void {
    this.followers.add(listener);
    return () => this.followers.delete(listener);
  }

  private emit(event: RunEvent): void {
    for (const listener of this.followers) listener(event);
  }
}

export class ChatRuns {
  private readonly runs = new Map<string, ChatRun>();
  private readonly working = new Set<Promise<void>>();
  /** Conversations between "may I start?" and start(): a second request must not slip in. */
  private readonly reserved = new Set<string>();

  constructor(
    private readonly relay: ReplyRelay = localReplies,
    private readonly lingerMs = 30_000,
  ) {}

  /** The conversation's run: going, or ended less than lingerMs ago. */
  get(conversationId: string): ChatRun | undefined {
    return this.runs.get(conversationId);
  }

  active(conversationId: string): boolean {
    const run = this.runs.get(conversationId);
    return run !== undefined && run.ended === undefined;
  }

  /** Claims the conversation for a new run; false while one is going or claimed. */
  reserve(conversationId: string): boolean {
    if (this.active(conversationId) || this.reserved.has(conversationId)) return false;
    this.reserved.add(conversationId);
    return true;
  }

  release(conversationId: string): void {
    this.reserved.delete(conversationId);
  }

  /** Starts `work` in the background; its result ends the run. It must not throw. */
  start(conversationId: string, messageId: number, work: (run: ChatRun) => Promise<RunEnd>): ChatRun {
    this.reserved.delete(conversationId);
    const run = new ChatRun(conversationId, messageId);
    this.runs.set(conversationId, run);
    this.relay.mirror(run); // before `work` can push anything
    const done = work(run).then(
      (end) => run.end(end),
      // `work` stores its own failures; this is the last resort if storing itself failed.
      () =>
        run.end({
          message: { id: messageId, role: 'assistant', content: run.text, status: 'error', error_code: 'internal_error', model: null, created_at: Date.now() },
          error: { code: 'internal_error', message: 'The reply could not be stored.', retryAfterMs: null },
        }),
    );
    const tracked = done.finally(() => {
      this.working.delete(tracked);
      setTimeout(() => {
        if (this.runs.get(conversationId) === run) this.runs.delete(conversationId);
      }, this.lingerMs).unref();
    });
    this.working.add(tracked);
    return run;
  }

  /** Aborts the conversation's run; it still ends normally, storing what it had. */
  stop(conversationId: string): boolean {
    return this.runs.get(conversationId)?.stop() ?? false;
  }

  get count(): number {
    return this.working.size;
  }

  /** Shutdown: let runs finish for up to graceMs, then abort them and wait for their stores. */
  async drain(graceMs: number): Promise<void> {
    if (this.working.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(this.working),
      new Promise((resolve) => (timer = setTimeout(resolve, graceMs))),
    ]);
    clearTimeout(timer);
    for (const run of this.runs.values()) if (run.ended === undefined) run.controller.abort(new Error('server shutting down'));
    await Promise.all(this.working);
  }
}
