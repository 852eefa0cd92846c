import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Redis } from 'ioredis';
import { redisUrlKey, startRedis, type RedisServer } from '../support/redis.js';
import './provided-context.js';

describe('redis test harness', () => {
  let own: RedisServer | undefined;
  let url = '';

  beforeAll(async () => {
    const provided = inject(redisUrlKey as 'skylarkRedisUrl');
    if (typeof provided === 'string' && provided !== '') url = provided;
    else url = (own = await startRedis()).url;
  });

  afterAll(async () => {
    await own?.stop();
  });

  it('serves a real redis on 127.0.0.1 that shared limits can count in', async () => {
    expect(url).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
    const a = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    const b = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await Promise.all([a.connect(), b.connect()]);
    try {
      expect(await a.ping()).toBe('PONG');
      const key = `rpm:test:${Date.now()}`;
      // Two "replicas" incrementing one counter see each other's counts.
      const counts = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).incr(key)));
      expect(counts.sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    } finally {
      a.disconnect();
      b.disconnect();
    }
  });

  it('stops and cleans up a server it started', async () => {
    const server = await startRedis();
    const client = new Redis(server.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    await client.connect();
    expect(await client.ping()).toBe('PONG');
    client.disconnect();
    await server.stop();
    const after = new Redis(server.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    after.on('error', () => {}); // the refusal is what we expect; keep ioredis from logging it
    await expect(after.connect()).rejects.toThrow();
    after.disconnect();
  });
});
