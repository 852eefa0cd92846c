/**
 * Funds holds and rate limits, in one process and shared by two "replicas" through a real
 * Redis: the same arithmetic, and never more admitted than one replica would admit.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Clock } from '../../src/core/clock.js';
import { Funds, MemoryFundsBackend, type FundsAccount, type FundsBackend } from '../../src/billing/funds.js';
import { RedisFundsBackend } from '../../src/billing/redis-funds.js';
import { RedisRateLimits } from '../../src/billing/redis-rate-limits.js';
import { openRedis, type SharedRedis } from '../../src/store/redis.js';
import { redisUrlKey, startRedis, type RedisServer } from '../support/redis.js';
import './provided-context.js';

const clock: Clock = { now: () => performance.now(), wallNow: () => new Date() };
const account = (id: string, ceiling: number): FundsAccount => ({ id, readCeiling: async () => ceiling });

let own: RedisServer | undefined;
let url = '';
const connections: SharedRedis[] = [];
const connect = async () => {
  const redis = await openRedis(url);
  connections.push(redis);
  return redis;
};

beforeAll(async () => {
  const provided = inject(redisUrlKey as 'skylarkRedisUrl');
  url = typeof provided === 'string' && provided !== '' ? provided : (own = await startRedis()).url;
});

afterAll(async () => {
  await Promise.all(connections.map((redis) => redis.close()));
  await own?.stop();
});

const backends: Array<{ name: string; make(owner: string): Promise<FundsBackend> }> = [
  { name: 'memory', make: async () => new MemoryFundsBackend() },
  { name: 'redis', make: async (owner) => new RedisFundsBackend(await connect(), owner) },
];

describe.each(backends)('funds holds ($name)', ({ name, make }) => {
  it('holds up to the ceiling, counts committed spend, frees what was not spent', async () => {
    // The "database": a balance that drops when a usage row commits, as the ledger's does.
    let balance = 1_000;
    const tenant: FundsAccount = { id: `t:${name}-${Math.random()}`, readCeiling: async () => balance };
    const funds = new Funds(await make('gw-a'), 'gw-a', clock);
    const first = await funds.hold([tenant], 600);
    expect(first.ok).toBe(true);
    expect(await funds.held(tenant.id)).toBe(600);
    expect(await funds.hold([tenant], 600)).toEqual({ ok: false, refusedBy: 0 });
    balance -= 100; // its usage row committed: it cost 100 of the 600 held…
    if (first.ok) await first.hold.finish(100); // …and only then does the hold end
    // Whether the snapshot is the cached 1,000 or a re-read 900, exactly 900 is left.
    expect((await funds.hold([tenant], 900)).ok).toBe(true);
    expect(await funds.hold([tenant], 1)).toEqual({ ok: false, refusedBy: 0 });
  });

  it('refuses on the first account that cannot pay and holds on none', async () => {
    const tenant = `t:${name}-${Math.random()}`;
    const budget = `k:${name}-${Math.random()}`;
    const funds = new Funds(await make('gw-a'), 'gw-a', clock);
    expect(await funds.hold([account(tenant, 10_000), account(budget, 50)], 60)).toEqual({ ok: false, refusedBy: 1 });
    expect((await funds.hold([account(tenant, 10_000)], 10_000)).ok).toBe(true);
  });
});

describe('funds shared by two replicas through redis', () => {
  it('never lets two gateways hold more than the balance between them', async () => {
    const id = `t:race-${Math.random()}`;
    const replicas = await Promise.all(
      ['gw-1', 'gw-2'].map(async (owner) => new Funds(new RedisFundsBackend(await connect(), owner), owner, clock)),
    );
    const attempts = await Promise.all(
      Array.from({ length: 200 }, (_, i) => replicas[i % 2]!.hold([account(id, 10_000)], 100)),
    );
    expect(attempts.filter((attempt) => attempt.ok)).toHaveLength(100);
  });

  it("releases a dead gateway's holds once its heartbeat is gone", async () => {
    const id = `t:dead-${Math.random()}`;
    const deadRedis = await connect();
    const dead = new RedisFundsBackend(deadRedis, 'gw-dead');
    await dead.start();
    expect((await new Funds(dead, 'gw-dead', clock).hold([account(id, 1_000)], 1_000)).ok).toBe(true);
    await dead.stop(); // what expiry of its heartbeat does after a kill -9
    const alive = new RedisFundsBackend(await connect(), 'gw-alive');
    const recovered = await alive.start();
    expect(recovered.released).toBeGreaterThanOrEqual(1);
    expect((await new Funds(alive, 'gw-alive', clock).hold([account(id, 1_000)], 1_000)).ok).toBe(true);
    await alive.stop();
  });
});

describe('rate limits shared through redis', () => {
  it('admits exactly rpm requests across two gateways, then refuses with Retry-After', async () => {
    const limits = [new RedisRateLimits(await connect()), new RedisRateLimits(await connect())];
    const bucket = { id: `key:${Math.random()}`, rpm: 50, tpm: 1_000_000 };
    const results = await Promise.all(Array.from({ length: 120 }, (_, i) => limits[i % 2]!.admit([bucket], 10)));
    expect(results.filter((result) => result.ok)).toHaveLength(50);
    const refused = results.find((result) => !result.ok);
    expect(refused).toMatchObject({ ok: false, exceeded: 'requests' });
    expect(refused!.ok === false && refused!.retryAfterMs).toBeGreaterThan(0);
    expect(refused!.requests.limit).toBe(50);
  });

  it('charges the token estimate on every bucket and corrects it with actual usage', async () => {
    const limits = new RedisRateLimits(await connect());
    const key = { id: `key:${Math.random()}`, rpm: 100, tpm: 1_000 };
    const endpoint = { id: `ep:${Math.random()}`, rpm: 100, tpm: 10_000 };
    const first = await limits.admit([key, endpoint], 800);
    expect(first.ok && first.tokens.remaining).toBe(200);
    expect(await limits.admit([key, endpoint], 500)).toMatchObject({ ok: false, exceeded: 'tokens' });
    if (first.ok) first.settle(100);
    await new Promise((resolve) => setTimeout(resolve, 50)); // the correction is sent off the response path
    const second = await limits.admit([key, endpoint], 500);
    expect(second.ok).toBe(true);
    expect(second.tokens.remaining).toBeGreaterThanOrEqual(400);
    expect(second.tokens.remaining).toBeLessThan(410); // + what refilled meanwhile
  });
});
