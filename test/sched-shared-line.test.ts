/**
 * bench:sched --gateways models the shared line in process (bench/sched/shared-line.ts).
 * Here: it orders as the scripts promise (fair share across gateways, tier weights, batch
 * last, aging and rescue), it answers op for op as the real Lua scripts in a real Redis do
 * (the line's order and scores too), and N gateways
 * behind it never give a simulated replica more than its slots — unlike N independent ones.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { SharedLineModel } from '../bench/sched/shared-line.js';
import { run, type Job } from '../bench/sched/simulation.js';
import { mulberry32 } from '../src/core/random.js';
import { RedisSlotLeases } from '../src/gateway/shared-scheduling/redis-slot-leases.js';
import type { HeldLease, LeaseAnswer, LeaseRequest } from '../src/gateway/shared-scheduling/slot-leases.js';
import { defaultSchedulerConfig } from '../src/scheduler/index.js';
import type { Tier } from '../src/scheduler/types.js';
import { openRedis, type SharedRedis } from '../src/store/redis.js';
import { redisUrlKey, startRedis, type RedisServer } from './support/redis.js';
import './store/provided-context.js';

const weights = defaultSchedulerConfig.tierWeights;
const unique = () => Math.random().toString(36).slice(2, 10);

function ask(model: string, requestId: string, tenantId: string, tier: Tier, candidates: LeaseRequest['candidates'], cost = 100): LeaseRequest {
  return { member: '', requestId, model, tenantId, tier, cost, candidates };
}

describe('the shared line model', () => {
  it('orders fairly across tenants, weights tiers 16:4:2, and puts batch last', () => {
    const line = new SharedLineModel(weights);
    const replica = [{ id: 'r', slots: 1 }];
    expect(line.acquire('a', ask('m', 'blocker', 'tz', 'standard', replica)).granted).toBe(true);
    const rank = (answer: LeaseAnswer) => (answer.granted ? -1 : answer.rank);
    // Tenant "heavy" queues 6 through gateway a before "light" queues 3 through b: interleaved.
    for (let i = 0; i < 6; i++) line.acquire('a', ask('m', `h${i}`, 'heavy', 'standard', replica));
    expect([0, 1, 2].map((i) => rank(line.acquire('b', ask('m', `l${i}`, 'light', 'standard', replica))))).toEqual([1, 3, 5]);
    // Batch goes behind everyone. A priority tenant starts at the line's virtual time like
    // anyone, ahead of the two heads there (equal tags go to the higher tier), and is
    // charged a quarter of standard's step: its next requests stay ahead of the standard
    // ones' second (tag 25).
    expect(rank(line.acquire('a', ask('m', 'b0', 'tb', 'batch', replica)))).toBe(9);
    expect([0, 1, 2].map((i) => rank(line.acquire('b', ask('m', `p${i}`, 'tp', 'priority', replica))))).toEqual([0, 3, 4]);
    expect(line.waiting('m')).toBe(13);
  });

  it('ages a waiting member to the head of fair order, then rescues it before everyone', () => {
    const line = new SharedLineModel(weights);
    const replica = [{ id: 'r', slots: 1 }];
    const rank = (answer: LeaseAnswer) => (answer.granted ? -1 : answer.rank);
    expect(line.acquire('a', { ...ask('m', 'blocker', 'tz', 'standard', replica), now: 0 }).granted).toBe(true);
    // A heavy tenant's third request queues behind a light tenant's later ones...
    for (let i = 0; i < 3; i++) line.acquire('a', { ...ask('m', `h${i}`, 'heavy', 'standard', replica), now: 0, agingAt: 1_000, rescueAt: 2_000 });
    const late = line.acquire('a', { ...ask('m', 'h2', 'heavy', 'standard', replica), member: line.head('m', 3)[2]!, now: 0 });
    expect(rank(late)).toBe(2);
    for (let i = 0; i < 3; i++) line.acquire('b', { ...ask('m', `l${i}`, 'light', 'standard', replica), now: 500 });
    expect(line.head('m', 6).map((m) => m.split('|')[2])).toEqual(['h0', 'l0', 'h1', 'l1', 'h2', 'l2']);
    // ...until it has waited its aging fraction: then at v, ahead of every tag above v.
    line.acquire('b', { ...ask('m', 'x0', 'other', 'standard', replica), now: 1_000, agingAt: 1_800, rescueAt: 1_900 });
    expect(line.head('m', 7).map((m) => m.split('|')[2])).toEqual(['h0', 'h1', 'h2', 'l0', 'x0', 'l1', 'l2']);
    // At its rescue moment it goes before everyone, earliest deadline first; aging reorders
    // only its own tier, so a priority newcomer at v still goes before the aged standard ones.
    line.acquire('b', { ...ask('m', 'p0', 'tp', 'priority', replica), now: 1_950 });
    expect(line.head('m', 5).map((m) => m.split('|')[2])).toEqual(['x0', 'p0', 'h0', 'h1', 'h2']);
  });

  it('grants only within the free slots, preferring the named replica', () => {
    const line = new SharedLineModel(weights);
    const replicas = [{ id: 'x', slots: 2 }, { id: 'y', slots: 1 }];
    const first = line.acquire('a', { ...ask('m', 'q0', 't', 'standard', replicas), preferred: 'y' });
    expect(first).toMatchObject({ granted: true, replicaId: 'y' });
    expect(line.acquire('a', ask('m', 'q1', 't', 'standard', replicas))).toMatchObject({ granted: true, replicaId: 'x' });
    expect(line.acquire('b', ask('m', 'q2', 'u', 'standard', replicas))).toMatchObject({ granted: true, replicaId: 'x' });
    const waiting = line.acquire('b', ask('m', 'q3', 'u', 'standard', replicas));
    expect(waiting).toMatchObject({ granted: false, rank: 0, free: 0 });
    expect(line.leases(['x', 'y'])).toEqual([2, 1]);
    if (!first.granted) throw new Error('unreachable');
    line.release({ member: first.member, model: 'm', tenantId: 't', tier: 'standard', replicaId: 'y' }, 0);
    expect(line.acquire('b', { ...ask('m', 'q3', 'u', 'standard', replicas), member: waiting.member })).toMatchObject({ granted: true, replicaId: 'y' });
  });
});

describe('the shared line model against the real scripts', () => {
  let own: RedisServer | undefined;
  const closers: Array<() => Promise<void>> = [];
  let url = '';

  beforeAll(async () => {
    const provided = inject(redisUrlKey as 'skylarkRedisUrl');
    url = typeof provided === 'string' && provided !== '' ? provided : (own = await startRedis()).url;
  });

  afterAll(async () => {
    for (const close of closers.reverse()) await close();
    await own?.stop();
  });

  it('answers every acquire, release and withdraw as Redis does', async () => {
    const owners = [`gw-a-${unique()}`, `gw-b-${unique()}`];
    const real: RedisSlotLeases[] = [];
    for (const owner of owners) {
      const redis: SharedRedis = await openRedis(url);
      const leases = await RedisSlotLeases.start(redis, { owner, tierWeights: weights });
      closers.push(async () => {
        await leases.close();
        await redis.close();
      });
      real.push(leases);
    }
    const model = new SharedLineModel(weights);
    const modelName = `m-${unique()}`;
    const candidates = [{ id: `r1-${unique()}`, slots: 2 }, { id: `r2-${unique()}`, slots: 3 }, { id: `r3-${unique()}`, slots: 1 }];
    const tiers: Tier[] = ['priority', 'standard', 'standard', 'free', 'batch'];
    const random = mulberry32(42);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;

    interface Open { request: LeaseRequest; owner: number; memberModel: string; memberReal: string }
    const waiting: Open[] = [];
    const held: Array<{ lease: Omit<HeldLease, 'member'>; memberModel: string; memberReal: string; owner: number }> = [];
    const project = (answer: LeaseAnswer) =>
      answer.granted
        ? { granted: true, replicaId: answer.replicaId, rank: answer.rank, v: answer.v, waiting: answer.waiting }
        : { granted: false, rank: answer.rank, free: answer.free, tag: answer.tag, v: answer.v, waiting: answer.waiting };
    const probe = await openRedis(url);
    closers.push(() => probe.close());
    // The line's order and scores, members named by request id (Redis's seq differs from the model's).
    const realLine = async () => {
      const flat = await probe.client.zrange(`skylark:sched:line:${modelName}`, '0', '-1', 'WITHSCORES');
      const out: Array<[string, number]> = [];
      for (let i = 0; i < flat.length; i += 2) out.push([flat[i]!.split('|')[2]!, Number(flat[i + 1])]);
      return out;
    };
    const modelLine = () => model.entries(modelName).map((e): [string, number] => [e.member.split('|')[2]!, e.score]);
    let now = 1_000_000;
    let next = 0;
    for (let step = 0; step < 400; step++) {
      now += Math.floor(random() * 250);
      const roll = random();
      if (roll < 0.45 || (waiting.length === 0 && held.length === 0)) {
        const owner = Math.floor(random() * owners.length);
        const tier = pick(tiers);
        const request: LeaseRequest = {
          ...ask(modelName, `q${next++}`, `t${Math.floor(random() * 4)}`, tier, candidates, 50 + Math.floor(random() * 500)),
          ...(random() < 0.5 ? { preferred: pick(candidates).id } : {}),
          now,
          ...(random() < 0.8 ? { agingAt: now + 200 + Math.floor(random() * 1_500), rescueAt: now + 1_700 + Math.floor(random() * 1_000) } : {}),
        };
        const expected = model.acquire(owners[owner]!, request);
        const actual = await real[owner]!.acquire(request);
        expect(project(actual)).toEqual(project(expected));
        const open = { request, owner, memberModel: expected.member, memberReal: actual.member };
        if (expected.granted) held.push({ ...open, lease: { model: modelName, tenantId: request.tenantId, tier: request.tier, replicaId: expected.replicaId } });
        else waiting.push(open);
      } else if (roll < 0.75 && waiting.length > 0) {
        // A waiter asks again (after a release, or its retry timer), through its own gateway.
        const i = Math.floor(random() * waiting.length);
        const w = waiting[i]!;
        const expected = model.acquire(owners[w.owner]!, { ...w.request, member: w.memberModel, now });
        const actual = await real[w.owner]!.acquire({ ...w.request, member: w.memberReal, now });
        expect(project(actual)).toEqual(project(expected));
        if (expected.granted) {
          waiting.splice(i, 1);
          held.push({ ...w, lease: { model: modelName, tenantId: w.request.tenantId, tier: w.request.tier, replicaId: expected.replicaId } });
        }
      } else if (roll < 0.93 && held.length > 0) {
        const [h] = held.splice(Math.floor(random() * held.length), 1);
        const correction = Math.floor(random() * 400) - 200;
        model.release({ ...h!.lease, member: h!.memberModel }, correction, now);
        await real[h!.owner]!.release({ ...h!.lease, member: h!.memberReal }, correction, 4, now);
      } else if (waiting.length > 0) {
        const [w] = waiting.splice(Math.floor(random() * waiting.length), 1);
        model.withdraw({ ...w!.request, member: w!.memberModel });
        await real[w!.owner]!.withdraw({ ...w!.request, member: w!.memberReal });
      }
      expect(await real[0]!.leases(candidates.map((c) => c.id))).toEqual(model.leases(candidates.map((c) => c.id)));
      expect(await realLine()).toEqual(modelLine());
    }
  });
});

describe('gateways in front of simulated replicas (virtual time)', () => {
  const job = (variant: 'shared' | 'independent'): Job => ({
    workload: 'flood', policy: 'skylark', load: 2, seed: 1, requestsPerSecond: 60, durationMs: 20_000, warmupMs: 0,
    clientTimeoutMs: 30_000, replicaSlots: 8, gateways: { variant, count: 3, split: 'round-robin' },
  });

  it('three gateways sharing the line never give a replica more than its slots; three independent ones do', () => {
    const shared = run(job('shared'));
    expect(shared.records.filter((r) => r.state === 'done').length).toBeGreaterThan(100);
    expect(shared.overAdmission.maxOver).toBe(0);
    expect(shared.overAdmission.timeShare()).toBe(0);
    const independent = run(job('independent'));
    expect(independent.overAdmission.maxOver).toBeGreaterThan(0);
  });
});
