/**
 * Slot leases and the global line in Redis (lease-scripts.ts), owned by this gateway and
 * kept alive by a heartbeat. Every gateway sweeps once a second: a gateway that stops
 * beating (kill -9, cut off) loses its leases and places within `heartbeatTtlMs` plus one
 * sweep, under 5 s, and the others are told at once (pub/sub) so they fill the slots.
 */
import type { Redis } from 'ioredis';
import type { SharedRedis } from '../../store/redis.js';
import type { Tier } from '../../scheduler/types.js';
import { acquireScript, batchOffset, freedChannel, keyPrefix, releaseScript, sweepScript, withdrawScript } from './lease-scripts.js';
import type { Freed, HeldLease, LeaseAnswer, LeaseRequest, SlotLeases } from './slot-leases.js';

export interface RedisSlotLeasesOptions {
  owner: string;
  tierWeights: Record<Tier, number>;
  heartbeatTtlMs?: number;
  sweepEveryMs?: number;
  onError?: (error: unknown) => void;
}

const lineKey = (model: string) => `${keyPrefix}line:${model}`;
const fairKey = (model: string) => `${keyPrefix}fair:${model}`;
const agingKey = (model: string) => `${keyPrefix}aging:${model}`;
const rescueKey = (model: string) => `${keyPrefix}rescue:${model}`;
const leaseKey = (replicaId: string) => `${keyPrefix}lease:${replicaId}`;
const moment = (ms: number | undefined): string | number => (ms === undefined || !Number.isFinite(ms) ? '' : Math.round(ms));
const flowOf = (tier: Tier, tenantId: string) => `${tier}:${tenantId}`;

export class RedisSlotLeases implements SlotLeases {
  private readonly acquireRun;
  private readonly releaseRun;
  private readonly withdrawRun;
  private readonly sweepRun;
  private readonly listeners: Array<(freed: Freed | undefined) => void> = [];
  private readonly heartbeatTtlMs: number;
  private timers: NodeJS.Timeout[] = [];
  private subscriber: Redis | undefined;

  private constructor(
    private readonly redis: SharedRedis,
    private readonly options: RedisSlotLeasesOptions,
  ) {
    this.acquireRun = redis.script(acquireScript);
    this.releaseRun = redis.script(releaseScript);
    this.withdrawRun = redis.script(withdrawScript);
    this.sweepRun = redis.script(sweepScript);
    this.heartbeatTtlMs = options.heartbeatTtlMs ?? 3_500;
  }

  /** Beats, sweeps once, subscribes to freed slots, and keeps beating and sweeping. */
  static async start(redis: SharedRedis, options: RedisSlotLeasesOptions): Promise<RedisSlotLeases> {
    const leases = new RedisSlotLeases(redis, options);
    await leases.beat();
    await leases.sweep();
    const subscriber = redis.client.duplicate();
    subscriber.on('error', (error) => options.onError?.(error));
    subscriber.on('message', (_channel: string, message: string) => leases.freed(message));
    await subscriber.subscribe(freedChannel);
    leases.subscriber = subscriber;
    const report = (error: unknown) => options.onError?.(error);
    const beatEvery = Math.max(100, Math.floor(leases.heartbeatTtlMs / 5));
    leases.timers = [
      setInterval(() => leases.beat().catch(report), beatEvery),
      setInterval(() => leases.sweep().catch(report), options.sweepEveryMs ?? 1_000),
    ];
    for (const timer of leases.timers) timer.unref();
    return leases;
  }

  async acquire(request: LeaseRequest): Promise<LeaseAnswer> {
    const keys = [lineKey(request.model), fairKey(request.model), agingKey(request.model), rescueKey(request.model), ...request.candidates.map((c) => leaseKey(c.id))];
    const preferred = request.preferred === undefined ? 0 : request.candidates.findIndex((c) => c.id === request.preferred) + 1;
    const weight = this.options.tierWeights[request.tier];
    const args: (string | number)[] = [
      request.member,
      this.options.owner,
      request.requestId,
      flowOf(request.tier, request.tenantId),
      request.cost / weight,
      request.tier === 'batch' ? batchOffset : 0,
      preferred,
      Math.round(request.now ?? Date.now()),
      moment(request.agingAt),
      moment(request.rescueAt),
      ...request.candidates.map((c) => c.slots),
    ];
    const answer = (await this.acquireRun(keys, args)) as [number, string, number, number, string, string, number];
    const [granted, member, third, fourth] = answer;
    if (granted === 1) return { granted: true, member, replicaId: request.candidates[third - 1]!.id, rank: fourth, v: Number(answer[4]), waiting: Number(answer[5]) };
    return { granted: false, member, rank: third, free: fourth, tag: Number(answer[4]), v: Number(answer[5]), waiting: Number(answer[6]) };
  }

  async release(lease: HeldLease, correction: number, heads: number, now?: number): Promise<void> {
    const step = correction / this.options.tierWeights[lease.tier];
    await this.releaseRun(
      [leaseKey(lease.replicaId), fairKey(lease.model), lineKey(lease.model), agingKey(lease.model), rescueKey(lease.model)],
      [lease.member, flowOf(lease.tier, lease.tenantId), step, lease.model, Math.max(0, Math.floor(heads)), Math.round(now ?? Date.now())],
    );
  }

  async withdraw(request: Pick<LeaseRequest, 'member' | 'model' | 'tenantId' | 'tier' | 'cost'>): Promise<void> {
    if (request.member === '') return;
    const step = request.cost / this.options.tierWeights[request.tier];
    await this.withdrawRun([lineKey(request.model), fairKey(request.model), agingKey(request.model), rescueKey(request.model)], [request.member, flowOf(request.tier, request.tenantId), step]);
  }

  onFreed(listener: (freed: Freed | undefined) => void): void {
    this.listeners.push(listener);
  }

  async leases(replicaIds: readonly string[]): Promise<number[]> {
    const pipeline = this.redis.client.pipeline();
    for (const id of replicaIds) pipeline.hlen(leaseKey(id));
    const results = (await pipeline.exec()) ?? [];
    return results.map(([error, value]) => {
      if (error) throw error;
      return Number(value);
    });
  }

  /** Drops dead gateways' leases and places now (also run every second). */
  async sweep(): Promise<{ freed: number; dropped: number }> {
    const [freed, dropped] = (await this.sweepRun([], [])) as [number, number];
    return { freed, dropped };
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    await this.subscriber?.quit().catch(() => this.subscriber?.disconnect());
    // Leases still held end with their requests; without a heartbeat the sweep frees them.
    await this.redis.client.del(`${keyPrefix}alive:${this.options.owner}`).catch(() => {});
  }

  private freed(message: string): void {
    const [model, ...head] = message.split('\n');
    const freed = model === undefined || model === '' ? undefined : { model, head };
    for (const listener of this.listeners) listener(freed);
  }

  private async beat(): Promise<void> {
    await this.redis.client.set(`${keyPrefix}alive:${this.options.owner}`, '1', 'PX', this.heartbeatTtlMs);
  }
}
