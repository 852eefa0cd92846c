/**
 * Replies followed across gateway replicas through Redis (REDIS_URL).
 *
 * - `skylark:reply:live:{conversation}` says which gateway writes the conversation's
 *   reply: `"{gateway} {messageId}"` (`"{gateway} -"` while the message is being created).
 *   Taken with SET NX, so two gateways can never start two replies in one conversation;
 *   kept alive by this gateway's heartbeat, so a killed gateway's claim is gone within
 *   `markerTtlMs` and its reply reads as interrupted.
 * - `skylark:reply:events:{messageId}` is a Redis Stream of the run's events (XADD, capped
 *   with MAXLEN ~); its TTL is refreshed while the run lives and cut to `lingerMs` at the
 *   end. Every `snapshotEvery`-th delta also carries the whole text so far, so a follower
 *   reading from the beginning (XRANGE) gets the full text even after the cap trimmed
 *   the oldest entries; it then reads on live with XREAD BLOCK from the last id.
 * - `skylark:reply:stop:{gateway}` is the channel a stop travels on to the gateway
 *   writing the reply.
 *
 * Writes are fire-and-forget on the shared client (one connection: Redis applies them in
 * order). Each follower blocks on a connection of its own, closed when it leaves.
 */
import type { Redis } from 'ioredis';
import { newId } from '../core/ids.js';
import type { EtaRange } from '../gateway/queue-notice.js';
import type { SharedRedis } from '../store/redis.js';
import type { ChatRun, RunEnd, RunEvent } from './chat-runs.js';
import type { RemoteEvent, RemoteReply, ReplyRelay } from './reply-relay.js';

export interface RedisReplyRelayOptions {
  onError?: (error: unknown, what: string) => void;
  /** How long a claim outlives its gateway's last heartbeat. */
  markerTtlMs?: number;
  /** How long a finished reply's events stay readable (ChatRuns' linger). */
  lingerMs?: number;
  /** Entries a reply's stream keeps (approximately, never fewer). */
  maxLen?: number;
  snapshotEvery?: number;
  /** How long a follower's XREAD blocks before it checks the writer is still alive. */
  blockMs?: number;
}

/** One stream entry's `e` field: begin, delta (with the whole text when `all`), queue, end. */
type Entry =
  | { t: 'b' }
  | { t: 'd'; x: string; all?: string }
  | { t: 'q'; position: number; etaMs: number; range?: EtaRange }
  | { t: 'e'; end: RunEnd };

type StreamEntries = [id: string, fields: string[]][];

const liveKey = (conversationId: string) => `skylark:reply:live:${conversationId}`;
const eventsKey = (messageId: number) => `skylark:reply:events:${messageId}`;
const stopChannel = (gateway: string) => `skylark:reply:stop:${gateway}`;
/** While a run lives its stream outlives the gateway by this much at most. */
const liveStreamTtlMs = 60_000;

/**
 * Sets the marker to ARGV[1] for ARGV[2] ms unless another gateway (a value not starting
 * with ARGV[3]) holds it, and refreshes the stream's TTL (KEYS[2], ARGV[4]) when given.
 * A marker that expired while this gateway stalled is taken back if nobody took it.
 */
const holdScript = `
local held = redis.call('GET', KEYS[1])
if held and string.sub(held, 1, #ARGV[3]) ~= ARGV[3] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
if KEYS[2] then redis.call('PEXPIRE', KEYS[2], ARGV[4]) end
return 1`;

const releaseScript = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

interface Claim {
  value: string;
  run?: ChatRun;
}

export class RedisReplyRelay implements ReplyRelay {
  readonly gateway = newId('gw');
  private readonly claims = new Map<string, Claim>();
  private readonly followers = new Set<Redis>();
  private readonly hold;
  private readonly release;
  private readonly options: Required<RedisReplyRelayOptions>;
  private subscriber: Redis | undefined;
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(
    private readonly redis: SharedRedis,
    options: RedisReplyRelayOptions = {},
  ) {
    this.options = { onError: () => {}, markerTtlMs: 5000, lingerMs: 30_000, maxLen: 5000, snapshotEvery: 200, blockMs: 1000, ...options };
    this.hold = redis.script(holdScript);
    this.release = redis.script(releaseScript);
  }

  /** Listens for stops sent to this gateway and starts the heartbeat. */
  async start(): Promise<void> {
    this.subscriber = this.redis.client.duplicate();
    this.subscriber.on('error', (error) => this.options.onError(error, 'reply stop channel'));
    this.subscriber.on('message', (_channel: string, text: string) => this.stopLocal(text));
    await this.subscriber.subscribe(stopChannel(this.gateway));
    this.heartbeat = setInterval(() => this.beat(), Math.max(200, Math.floor(this.options.markerTtlMs / 5)));
    this.heartbeat.unref();
  }

  async claim(conversationId: string): Promise<boolean> {
    const value = `${this.gateway} -`;
    const taken = await this.redis.client.set(liveKey(conversationId), value, 'PX', this.options.markerTtlMs, 'NX');
    if (taken !== 'OK') return false;
    this.claims.set(conversationId, { value });
    return true;
  }

  async unclaim(conversationId: string): Promise<void> {
    const claim = this.claims.get(conversationId);
    if (claim === undefined || claim.run !== undefined) return;
    this.claims.delete(conversationId);
    await this.release([liveKey(conversationId)], [claim.value]);
  }

  mirror(run: ChatRun): void {
    const claim: Claim = { value: `${this.gateway} ${run.messageId}`, run };
    this.claims.set(run.conversationId, claim);
    const key = eventsKey(run.messageId);
    // The stream exists before the marker names it, so a follower never reads a missing one.
    this.append(key, { t: 'b' });
    this.refresh(run.conversationId, claim);
    let deltas = 0;
    run.follow((event) => {
      if (event.type === 'delta') {
        deltas += 1;
        this.append(key, deltas % this.options.snapshotEvery === 0 ? { t: 'd', x: event.text, all: run.text } : { t: 'd', x: event.text });
      } else if (event.type === 'queue') {
        const { type: _type, ...place } = event;
        this.append(key, { t: 'q', ...place });
      } else {
        this.append(key, { t: 'e', end: event.end });
        this.redis.client.pexpire(key, this.options.lingerMs).catch((error) => this.options.onError(error, 'reply stream linger'));
        if (this.claims.get(run.conversationId) === claim) this.claims.delete(run.conversationId);
        this.release([liveKey(run.conversationId)], [claim.value]).catch((error) => this.options.onError(error, 'reply marker release'));
      }
    });
  }

  async writing(conversationId: string): Promise<boolean> {
    return (await this.writer(conversationId)) !== undefined;
  }

  async follow(conversationId: string, signal: AbortSignal): Promise<RemoteReply | undefined> {
    const writer = await this.writer(conversationId);
    if (writer === undefined || writer.gateway === this.gateway) return undefined;
    const key = eventsKey(writer.messageId);
    const entries = (await this.redis.client.xrange(key, '-', '+')) as StreamEntries;
    const reply: RemoteReply = { messageId: writer.messageId, text: '', live: this.live(conversationId, writer.messageId, entries.at(-1)?.[0] ?? '0-0', signal) };
    for (const [, fields] of entries) {
      const entry = decode(fields);
      if (entry.t === 'd') {
        reply.text = entry.all ?? reply.text + entry.x;
        delete reply.queue;
      } else if (entry.t === 'q') {
        const { t: _t, ...place } = entry;
        reply.queue = place;
      } else if (entry.t === 'e') {
        reply.end = entry.end;
      }
    }
    return reply;
  }

  async stop(conversationId: string): Promise<boolean> {
    const writer = await this.writer(conversationId);
    if (writer === undefined || writer.gateway === this.gateway) return false;
    const receivers = await this.redis.client.publish(stopChannel(writer.gateway), JSON.stringify({ c: conversationId, m: writer.messageId }));
    return receivers > 0;
  }

  async close(): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    for (const connection of this.followers) connection.disconnect();
    this.followers.clear();
    await this.subscriber?.quit().catch(() => this.subscriber?.disconnect());
  }

  /** Events after `lastId` until the end, or `lost` once the writer's marker is gone. */
  private async *live(conversationId: string, messageId: number, lastId: string, signal: AbortSignal): AsyncGenerator<RemoteEvent> {
    const key = eventsKey(messageId);
    const connection = this.redis.client.duplicate();
    connection.on('error', () => {}); // a failed read ends this follower; the page reconnects
    this.followers.add(connection);
    const leave = () => connection.disconnect();
    signal.addEventListener('abort', leave, { once: true });
    try {
      for (;;) {
        if (signal.aborted) return;
        const read = (await connection.xread('BLOCK', this.options.blockMs, 'STREAMS', key, lastId)) as [string, StreamEntries][] | null;
        let entries = read?.[0]?.[1] ?? [];
        let lost = false;
        if (entries.length === 0) {
          if ((await this.writer(conversationId))?.messageId === messageId) continue;
          // The writer is gone: whatever it wrote before going is still in the stream.
          const tail = (await connection.xread('STREAMS', key, lastId)) as [string, StreamEntries][] | null;
          entries = tail?.[0]?.[1] ?? [];
          lost = true;
        }
        for (const [id, fields] of entries) {
          lastId = id;
          const event = toRunEvent(decode(fields));
          if (event === undefined) continue;
          yield event;
          if (event.type === 'end') return;
        }
        if (lost) {
          yield { type: 'lost' };
          return;
        }
      }
    } catch (error) {
      if (!signal.aborted) this.options.onError(error, 'reply follower');
    } finally {
      signal.removeEventListener('abort', leave);
      this.followers.delete(connection);
      connection.disconnect();
    }
  }

  private async writer(conversationId: string): Promise<{ gateway: string; messageId: number } | undefined> {
    const value = await this.redis.client.get(liveKey(conversationId));
    const [gateway, message] = (value ?? '').split(' ');
    const messageId = Number(message);
    return gateway && Number.isInteger(messageId) ? { gateway, messageId } : undefined;
  }

  private append(key: string, entry: Entry): void {
    this.redis.client
      .xadd(key, 'MAXLEN', '~', this.options.maxLen, '*', 'e', JSON.stringify(entry))
      .catch((error) => this.options.onError(error, 'reply stream write'));
  }

  private beat(): void {
    for (const [conversationId, claim] of this.claims) this.refresh(conversationId, claim);
  }

  private refresh(conversationId: string, claim: Claim): void {
    const keys = claim.run === undefined ? [liveKey(conversationId)] : [liveKey(conversationId), eventsKey(claim.run.messageId)];
    this.hold(keys, [claim.value, this.options.markerTtlMs, `${this.gateway} `, liveStreamTtlMs]).catch((error) =>
      this.options.onError(error, 'reply marker heartbeat'),
    );
  }

  private stopLocal(text: string): void {
    try {
      const { c, m } = JSON.parse(text) as { c: string; m: number };
      const run = this.claims.get(c)?.run;
      if (run?.messageId === m) run.stop();
    } catch (error) {
      this.options.onError(error, 'reply stop message');
    }
  }
}

function decode(fields: string[]): Entry {
  const at = fields.indexOf('e');
  return JSON.parse(fields[at + 1] ?? '{"t":"b"}') as Entry;
}

function toRunEvent(entry: Entry): RunEvent | undefined {
  if (entry.t === 'd') return { type: 'delta', text: entry.x };
  if (entry.t === 'q') {
    const { t: _t, ...place } = entry;
    return { type: 'queue', ...place };
  }
  if (entry.t === 'e') return { type: 'end', end: entry.end };
  return undefined;
}
