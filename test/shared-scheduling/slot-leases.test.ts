/**
 * The shared line's Lua scripts against a real Redis, with two or more "gateways" (each its
 * own connection and owner) in one process: leases are exclusive however requests race,
 * the global line orders tenants fairly whichever gateway they reached, a freed slot is
 * announced to the waiters at the head of the line (so the line's order is what gets served),
 * and a gateway that stops beating loses its leases and places to the sweep.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { defaultSchedulerConfig } from '../../src/scheduler/index.js';
import { RedisSlotLeases } from '../../src/gateway/shared-scheduling/redis-slot-leases.js';
import type { Freed, LeaseAnswer, LeaseRequest } from '../../src/gateway/shared-scheduling/slot-leases.js';
import { openRedis, type SharedRedis } from '../../src/store/redis.js';
import { redisUrlKey, startRedis, type RedisServer } from '../support/redis.js';
import '../store/provided-context.js';

let own: RedisServer | undefined;
let url = '';
const closers: Array<() => Promise<void>> = [];

beforeAll(async () => {
  const provided = inject(redisUrlKey as 'skylarkRedisUrl');
  url = typeof provided === 'string' && provided !== '' ? provided : (own = await startRedis()).url;
});

afterAll(async () => {
  for (const close of closers.reverse()) await close();
  await own?.stop();
});

async function gateway(owner: string): Promise<{ leases: RedisSlotLeases; redis: SharedRedis }> {
  const redis = await openRedis(url);
  const leases = await RedisSlotLeases.start(redis, { owner, tierWeights: defaultSchedulerConfig.tierWeights });
  closers.push(async () => {
    await leases.close();
    await redis.close();
  });
  return { leases, redis };
}

const unique = () => Math.random().toString(36).slice(2, 10);

function request(model: string, requestId: string, tenantId: string, candidates: LeaseRequest['candidates']): LeaseRequest {
  return { member: '', requestId, model, tenantId, tier: 'standard', cost: 100, candidates };
}

describe('shared slot leases (real Redis)', () => {
  it('never leases more than a replica has, however many gateways race for it', async () => {
    const a = await gateway(`gw-a-${unique()}`);
    const b = await gateway(`gw-b-${unique()}`);
    const model = `m-${unique()}`;
    const candidates = [
      { id: `r1-${unique()}`, slots: 3 },
      { id: `r2-${unique()}`, slots: 3 },
    ];
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? a : b).leases.acquire(request(model, `req-${i}`, `t${i % 4}`, candidates))),
    );
    const granted = answers.filter((answer) => answer.granted);
    expect(granted).toHaveLength(6);
    for (const replica of candidates) expect(granted.filter((g) => g.granted && g.replicaId === replica.id)).toHaveLength(3);
    expect(await a.leases.leases(candidates.map((c) => c.id))).toEqual([3, 3]);
    const waiting = answers.filter((answer): answer is Extract<LeaseAnswer, { granted: false }> => !answer.granted);
    expect(waiting.map((w) => w.free)).toEqual(waiting.map(() => 0));

    // One slot back: of 34 waiters asking at once, exactly one gets it, and it is the head.
    const first = granted[0]!;
    if (!first.granted) throw new Error('unreachable');
    await a.leases.release({ member: first.member, model, tenantId: 't0', tier: 'standard', replicaId: first.replicaId }, 0, 6);
    const ranks = await Promise.all(waiting.map((w, i) => b.redis.client.zrank(`skylark:sched:line:${model}`, w.member).then((rank) => ({ i, rank }))));
    const head = ranks.find((r) => r.rank === 0)!;
    const again = await Promise.all(
      waiting.map((w, i) => (i % 2 === 0 ? b : a).leases.acquire({ ...request(model, `req-x${i}`, 'tx', candidates), member: w.member })),
    );
    expect(again.filter((answer) => answer.granted).map((answer) => answer.member)).toEqual([waiting[head.i]!.member]);
    expect(await a.leases.leases(candidates.map((c) => c.id))).toEqual([3, 3]);
  });

  it('orders one line across gateways by fair share, not by which gateway asks first', async () => {
    const a = await gateway(`gw-a-${unique()}`);
    const b = await gateway(`gw-b-${unique()}`);
    const model = `m-${unique()}`;
    const replica = { id: `r-${unique()}`, slots: 1 };
    const blocker = await a.leases.acquire(request(model, 'blocker', 'tz', [replica]));
    expect(blocker.granted).toBe(true);
    // Tenant "heavy" queues 6 through gateway a before tenant "light" queues 3 through b.
    const heavy: LeaseAnswer[] = [];
    for (let i = 0; i < 6; i++) heavy.push(await a.leases.acquire(request(model, `h${i}`, 'heavy', [replica])));
    const light: LeaseAnswer[] = [];
    for (let i = 0; i < 3; i++) light.push(await b.leases.acquire(request(model, `l${i}`, 'light', [replica])));
    // Fair order interleaves the light tenant with the heavy one's backlog.
    expect(light.map((answer) => answer.granted === false && answer.rank)).toEqual([1, 3, 5]);

    // Each time the slot frees, every waiter asks — the light tenant's gateway first — and
    // only the head of the global line is granted.
    const order: string[] = [];
    let holder = blocker;
    const waiting = new Map<string, { gw: typeof a; member: string }>();
    heavy.forEach((answer, i) => waiting.set(`h${i}`, { gw: a, member: answer.member }));
    light.forEach((answer, i) => waiting.set(`l${i}`, { gw: b, member: answer.member }));
    while (waiting.size > 0) {
      if (!holder.granted) throw new Error('unreachable');
      await a.leases.release({ member: holder.member, model, tenantId: 'x', tier: 'standard', replicaId: replica.id }, 0, 1);
      const tries = [...waiting].sort(([x], [y]) => (x < y ? 1 : -1));
      const answers = await Promise.all(tries.map(([id, w]) => w.gw.leases.acquire({ ...request(model, id, 'x', [replica]), member: w.member }).then((answer) => ({ id, answer }))));
      const won = answers.filter(({ answer }) => answer.granted);
      expect(won).toHaveLength(1);
      order.push(won[0]!.id);
      waiting.delete(won[0]!.id);
      holder = won[0]!.answer;
    }
    expect(order).toEqual(['h0', 'l0', 'h1', 'l1', 'h2', 'l2', 'h3', 'h4', 'h5']);
  });

  it('names the head of the line when a slot frees, so a waiter told a far place hears its turn', async () => {
    const a = await gateway(`gw-a-${unique()}`);
    const b = await gateway(`gw-b-${unique()}`);
    const model = `m-${unique()}`;
    const replica = { id: `r-${unique()}`, slots: 2 };
    const heard: Array<Freed | undefined> = [];
    b.leases.onFreed((freed) => heard.push(freed));
    const holders: LeaseAnswer[] = [];
    for (const id of ['z0', 'z1']) holders.push(await a.leases.acquire(request(model, id, 'z', [replica])));
    // The heavy tenant queues 8 through a, then the light one 4 through b: fair order puts the
    // light ones at places 1, 3, 5, 7 when they join.
    const told = new Map<string, LeaseAnswer>();
    for (let i = 0; i < 8; i++) told.set(`h${i}`, await a.leases.acquire(request(model, `h${i}`, 'heavy', [replica])));
    for (let i = 0; i < 4; i++) told.set(`l${i}`, await b.leases.acquire(request(model, `l${i}`, 'light', [replica])));
    expect(['l0', 'l1', 'l2', 'l3'].map((id) => told.get(id)!.granted === false && (told.get(id) as { rank: number }).rank)).toEqual([1, 3, 5, 7]);

    // Each release names the first `slots` members; only those ask, nobody else ever does.
    // Before the release named anyone, a gateway woke the waiters whose last-heard place was
    // within the slots: l2 and l3 (told 5 and 7, never told again) would have waited for the
    // periodic retry while the slot went idle or to someone behind them.
    const order: string[] = [];
    const memberOf = new Map([...told].map(([id, answer]) => [answer.member, id]));
    let freeing = holders.map((holder) => holder as Extract<LeaseAnswer, { granted: true }>);
    while (order.length < 12) {
      const holder = freeing.shift()!;
      const before = heard.length;
      await a.leases.release({ member: holder.member, model, tenantId: 'x', tier: 'standard', replicaId: replica.id }, 0, replica.slots);
      await waitUntil(() => heard.length > before);
      const freed = heard.at(-1)!;
      expect(freed?.model).toBe(model);
      const named = freed!.head.map((member) => memberOf.get(member)!);
      const answers = await Promise.all(named.map((id) => (id.startsWith('h') ? a : b).leases.acquire({ ...request(model, id, 'x', [replica]), member: told.get(id)!.member })));
      const won = answers.filter((answer): answer is Extract<LeaseAnswer, { granted: true }> => answer.granted);
      expect(won).toHaveLength(1); // the slot never stays idle while someone waits
      order.push(memberOf.get(won[0]!.member)!);
      freeing.push(won[0]!);
    }
    expect(order).toEqual(['h0', 'l0', 'h1', 'l1', 'h2', 'l2', 'h3', 'l3', 'h4', 'h5', 'h6', 'h7']);
  });

  it('gives back the leases and places of a gateway whose heartbeat stopped, and tells the others', async () => {
    const survivor = await gateway(`gw-s-${unique()}`);
    const ghostRedis = await openRedis(url);
    closers.push(() => ghostRedis.close());
    const ghost = await RedisSlotLeases.start(ghostRedis, { owner: `gw-g-${unique()}`, tierWeights: defaultSchedulerConfig.tierWeights, heartbeatTtlMs: 300 });
    closers.push(() => ghost.close());
    const model = `m-${unique()}`;
    const replica = { id: `r-${unique()}`, slots: 3 };
    expect((await survivor.leases.acquire(request(model, 's1', 't', [replica]))).granted).toBe(true);
    expect((await ghost.acquire(request(model, 'g1', 't', [replica]))).granted).toBe(true);
    expect((await ghost.acquire(request(model, 'g2', 't', [replica]))).granted).toBe(true);
    const waits = await ghost.acquire(request(model, 'g3', 't', [replica]));
    expect(waits.granted).toBe(false);
    expect(await survivor.leases.leases([replica.id])).toEqual([3]);

    const freed = new Promise<void>((resolve) => survivor.leases.onFreed(() => resolve()));
    // Its process stops (timers gone, nothing beats), as under kill -9: the key expires by TTL.
    stopBeating(ghost);
    await new Promise((resolve) => setTimeout(resolve, 400));
    await survivor.leases.sweep();
    await freed;
    expect(await survivor.leases.leases([replica.id])).toEqual([1]);
    expect(await survivor.redis.client.zcard(`skylark:sched:line:${model}`)).toBe(0);
  });
});

/** What a killed process leaves: its timers stop, its heartbeat key is not deleted. */
function stopBeating(leases: RedisSlotLeases): void {
  for (const timer of (leases as unknown as { timers: NodeJS.Timeout[] }).timers) clearInterval(timer);
}

async function waitUntil(done: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !done(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  if (!done()) throw new Error('timed out waiting');
}
