/**
 * Places in the global line, readable from every gateway: a client polling
 * `GET /v1/queue/{id}` may reach any replica behind the load balancer, but only the gateway
 * holding the request knows its place. That gateway publishes each place it tells (and
 * again every `refreshMs` while it stands still) under the request id, and the client's own
 * id where it sent one; the others read it from there. An entry whose owner has stopped
 * beating is a request that died with its gateway: it reads as missing, and expires.
 */
import type { QueuePosition } from '../../scheduler/types.js';
import type { SharedRedis } from '../../store/redis.js';
import { keyPrefix } from './lease-scripts.js';

export interface PublishedPlace {
  requestId: string;
  tenantId: string;
  /** The client's id for the request (X-Client-Request-Id), if it sent one. */
  clientRequestId?: string;
  place: QueuePosition;
}

export interface SharedPositions {
  publish(entry: PublishedPlace): void;
  remove(requestId: string, tenantId: string, clientRequestId?: string): void;
  /** The place another gateway published, for its own tenant (or the operator). */
  lookup(id: string, tenantId: string, operator: boolean): Promise<QueuePosition | undefined>;
}

interface Stored {
  tenantId: string;
  owner: string;
  place: QueuePosition;
}

const placeKey = (requestId: string) => `${keyPrefix}place:${requestId}`;
const aliasKey = (tenantId: string, clientRequestId: string) => `${keyPrefix}place-alias:${tenantId}:${clientRequestId}`;

export class RedisSharedPositions implements SharedPositions {
  /** What was last written per request, so an unchanged place is rewritten only to refresh it. */
  private readonly written = new Map<string, { position: number; etaMs: number; at: number }>();

  constructor(
    private readonly redis: SharedRedis,
    private readonly options: { owner: string; now?: () => number; refreshMs?: number; ttlMs?: number; onError?: (error: unknown) => void },
  ) {}

  publish({ requestId, tenantId, clientRequestId, place }: PublishedPlace): void {
    const now = (this.options.now ?? Date.now)();
    const refreshMs = this.options.refreshMs ?? 10_000;
    const last = this.written.get(requestId);
    if (last && last.position === place.position && last.etaMs === place.etaMs && now - last.at < refreshMs) return;
    this.written.set(requestId, { position: place.position, etaMs: place.etaMs, at: now });
    const ttl = this.options.ttlMs ?? 3 * refreshMs;
    const stored: Stored = { tenantId, owner: this.options.owner, place };
    const write = this.redis.client.multi().set(placeKey(requestId), JSON.stringify(stored), 'PX', ttl);
    if (clientRequestId !== undefined) write.set(aliasKey(tenantId, clientRequestId), requestId, 'PX', ttl);
    write.exec().catch((error) => this.options.onError?.(error));
  }

  remove(requestId: string, tenantId: string, clientRequestId?: string): void {
    if (!this.written.delete(requestId)) return; // never published: nothing to take back
    const keys = [placeKey(requestId), ...(clientRequestId === undefined ? [] : [aliasKey(tenantId, clientRequestId)])];
    this.redis.client.del(...keys).catch((error) => this.options.onError?.(error));
  }

  async lookup(id: string, tenantId: string, operator: boolean): Promise<QueuePosition | undefined> {
    const requestId = (await this.redis.client.get(aliasKey(tenantId, id))) ?? id;
    const text = await this.redis.client.get(placeKey(requestId));
    if (text === null) return undefined;
    const stored = JSON.parse(text) as Stored;
    if (stored.tenantId !== tenantId && !operator) return undefined;
    const alive = await this.redis.client.exists(`${keyPrefix}alive:${stored.owner}`);
    return alive === 1 ? stored.place : undefined;
  }
}
