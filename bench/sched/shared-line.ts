/**
 * An in-process model of the shared line and slot leases that gateways keep in Redis
 * (src/gateway/shared-scheduling/lease-scripts.ts), for bench:sched --gateways in virtual
 * time. It is a transcription of the scripts' rules, not the scripts: no Redis, no round
 * trips, no heartbeats or sweeps (no gateway dies in the benchmark). What it keeps exactly:
 *
 *  - one line per model, ordered by score then member (Redis sorts equal scores by member,
 *    and a member starts with its tier's rank and its 15-digit arrival number, so ties go
 *    to the higher tier, then by arrival);
 *  - start-time fair queuing: on joining, start = max(v, finish tag of the flow), the flow's
 *    tag becomes start + step (step = cost / tier weight), score = start + offset (1e15 for
 *    batch: behind every interactive request); v, the start tag of the last interactive
 *    grant, only moves forward; a flow is `<tier>:<tenant>`;
 *  - a grant only when the request's 0-based rank < the free slots summed over its
 *    candidates, on the preferred candidate if it has room, else the one with the most room
 *    (the first such); the grant leaves the line;
 *  - release corrects the flow's tag by (actual − charged) / weight; withdraw (never served)
 *    gives the step back;
 *  - aging (`promote` in the scripts), at the start of every acquire and release: members
 *    whose rescue moment has come get score rescueAt − 1e15 (before everyone, earliest
 *    first), then members whose aging moment has come and whose score is above v get v;
 *  - a release names the first `heads` members of the line (head()), after aging;
 *  - tags written with HSET go through Lua's tostring (14 significant digits), as in Redis.
 *
 * test/sched-shared-line.test.ts checks it answers as the real scripts do, op for op.
 */
import { batchOffset, rescueOffset } from '../../src/gateway/shared-scheduling/lease-scripts.js';
import type { HeldLease, LeaseAnswer, LeaseRequest } from '../../src/gateway/shared-scheduling/slot-leases.js';
import type { Tier } from '../../src/scheduler/types.js';

/** A member starts with its tier's rank: at equal scores the higher tier goes first. */
const tierRank: Record<Tier, string> = { priority: '0', standard: '1', free: '2', batch: '3' };

/** Lua's tostring(number): '%.14g'. */
const luaNumber = (value: number): number => Number(value.toPrecision(14));

interface Entry {
  score: number;
  member: string;
}

const before = (a: Entry, b: Entry): boolean => a.score < b.score || (a.score === b.score && a.member < b.member);

class Line {
  /** Sorted by (score, member). */
  readonly entries: Entry[] = [];
  readonly scores = new Map<string, number>();

  private indexOf(entry: Entry): number {
    let low = 0;
    let high = this.entries.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (before(this.entries[mid]!, entry)) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  add(member: string, score: number): void {
    const entry = { member, score };
    this.entries.splice(this.indexOf(entry), 0, entry);
    this.scores.set(member, score);
  }

  rank(member: string): number {
    return this.indexOf({ member, score: this.scores.get(member)! });
  }

  /** ZADD XX: a new score for a member already in. */
  rescore(member: string, score: number): void {
    if (this.remove(member)) this.add(member, score);
  }

  remove(member: string): boolean {
    const score = this.scores.get(member);
    if (score === undefined) return false;
    this.entries.splice(this.indexOf({ member, score }), 1);
    this.scores.delete(member);
    return true;
  }
}

interface Fair {
  v: number;
  tags: Map<string, number>;
  /** Member → the moment it ages / needs rescue (the scripts' `aging:` and `rescue:` sets). */
  aging: Map<string, number>;
  rescue: Map<string, number>;
}

/** ZRANGEBYSCORE -inf now of a set kept as a map: members due, by (score, member). */
function due(set: Map<string, number>, now: number): Array<[string, number]> {
  return [...set].filter(([, at]) => at <= now).sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

export class SharedLineModel {
  private seq = 0;
  private readonly lines = new Map<string, Line>();
  private readonly fair = new Map<string, Fair>();
  /** Replica id → member → owner. */
  private readonly leaseTable = new Map<string, Map<string, string>>();

  constructor(private readonly tierWeights: Record<Tier, number>) {}

  /** The acquire script (one call, as one round trip). */
  acquire(owner: string, request: LeaseRequest): LeaseAnswer {
    const line = this.line(request.model);
    const fair = this.fairOf(request.model);
    this.promote(request.model, Math.round(request.now ?? 0));
    const flow = `${request.tier}:${request.tenantId}`;
    const offset = request.tier === 'batch' ? batchOffset : 0;
    let member = request.member;
    let score = member === '' ? undefined : line.scores.get(member);
    if (score === undefined) {
      if (member === '') member = `${tierRank[request.tier]}${String(++this.seq).padStart(15, '0')}|${owner}|${request.requestId}`;
      const start = Math.max(fair.v, fair.tags.get(flow) ?? 0);
      fair.tags.set(flow, luaNumber(start + request.cost / this.tierWeights[request.tier]));
      score = start + offset;
      line.add(member, score);
      if (request.agingAt !== undefined && Number.isFinite(request.agingAt)) fair.aging.set(member, Math.round(request.agingAt));
      if (request.rescueAt !== undefined && Number.isFinite(request.rescueAt)) fair.rescue.set(member, Math.round(request.rescueAt));
    }
    const rank = line.rank(member);
    const preferred = request.preferred === undefined ? 0 : request.candidates.findIndex((c) => c.id === request.preferred) + 1;
    let free = 0;
    let best = 0;
    let bestRoom = 0;
    request.candidates.forEach((candidate, i) => {
      const room = candidate.slots - this.leasesOn(candidate.id).size;
      if (room <= 0) return;
      free += room;
      if (i + 1 === preferred) [best, bestRoom] = [i + 1, 1e18];
      else if (room > bestRoom) [best, bestRoom] = [i + 1, room];
    });
    if (rank >= free || best === 0) return { granted: false, member, rank, free, tag: luaNumber(Math.max(0, score - offset)), v: fair.v, waiting: line.entries.length };
    const replicaId = request.candidates[best - 1]!.id;
    this.leasesOn(replicaId).set(member, owner);
    line.remove(member);
    fair.aging.delete(member);
    fair.rescue.delete(member);
    if (offset === 0 && score > fair.v) fair.v = luaNumber(score);
    return { granted: true, member, replicaId, rank, v: fair.v, waiting: line.entries.length };
  }

  /** The release script; `correction` is service received minus the cost charged. */
  release(lease: HeldLease, correction: number, now = 0): void {
    this.leasesOn(lease.replicaId).delete(lease.member);
    const step = correction / this.tierWeights[lease.tier];
    const fair = this.fairOf(lease.model);
    if (step !== 0) {
      const flow = `${lease.tier}:${lease.tenantId}`;
      fair.tags.set(flow, (fair.tags.get(flow) ?? 0) + step);
    }
    this.promote(lease.model, Math.round(now));
  }

  /** The first `count` members of the line, head first (what a release names). */
  head(model: string, count: number): string[] {
    return this.line(model).entries.slice(0, Math.max(0, count)).map((entry) => entry.member);
  }

  /** The scripts' `promote`: rescue those due, then age those due. */
  private promote(model: string, now: number): void {
    const line = this.line(model);
    const fair = this.fairOf(model);
    for (const [member, at] of due(fair.rescue, now)) {
      if (line.scores.has(member)) line.rescore(member, at - rescueOffset);
      fair.aging.delete(member);
      fair.rescue.delete(member);
    }
    for (const [member] of due(fair.aging, now)) {
      const score = line.scores.get(member);
      if (score !== undefined && score > fair.v) line.rescore(member, fair.v);
      fair.aging.delete(member);
    }
  }

  /** The withdraw script: leaves the line unserved; true when it was waiting. */
  withdraw(request: Pick<LeaseRequest, 'member' | 'model' | 'tenantId' | 'tier' | 'cost'>): boolean {
    if (request.member === '') return false;
    const fair = this.fairOf(request.model);
    fair.aging.delete(request.member);
    fair.rescue.delete(request.member);
    if (!this.line(request.model).remove(request.member)) return false;
    const flow = `${request.tier}:${request.tenantId}`;
    fair.tags.set(flow, (fair.tags.get(flow) ?? 0) - request.cost / this.tierWeights[request.tier]);
    return true;
  }

  leases(replicaIds: readonly string[]): number[] {
    return replicaIds.map((id) => this.leasesOn(id).size);
  }

  /** The line, head first (for tests). */
  entries(model: string): ReadonlyArray<{ member: string; score: number }> {
    return this.line(model).entries;
  }

  waiting(model: string): number {
    return this.line(model).entries.length;
  }

  private line(model: string): Line {
    let line = this.lines.get(model);
    if (line === undefined) this.lines.set(model, (line = new Line()));
    return line;
  }

  private fairOf(model: string): Fair {
    let fair = this.fair.get(model);
    if (fair === undefined) this.fair.set(model, (fair = { v: 0, tags: new Map(), aging: new Map(), rescue: new Map() }));
    return fair;
  }

  private leasesOn(replicaId: string): Map<string, string> {
    let table = this.leaseTable.get(replicaId);
    if (table === undefined) this.leaseTable.set(replicaId, (table = new Map()));
    return table;
  }
}
