import { describe, expect, it } from 'vitest';
import type { Clock } from '../../src/core/clock.js';
import { StoredResponses, type StoredResponse } from '../../src/responses/stored-responses.js';
import { dialects, useStore } from './dialects.js';
import { tenantWith } from './fixtures.js';

const day = 86_400_000;

function wallClock(start: number): Clock & { advance(ms: number): void } {
  let now = start;
  return { now: () => now, wallNow: () => new Date(now), advance: (ms) => void (now += ms) };
}

function response(id: string, tenantId: string, createdAt: number): StoredResponse {
  return {
    id,
    tenantId,
    model: 'skylark-tiny',
    status: 'completed',
    previousResponseId: null,
    inputItems: [{ type: 'message', role: 'user', content: 'hi' }],
    outputItems: [],
    response: { id, object: 'response' },
    createdAt,
  };
}

describe.each(dialects)('stored responses retention on $name', (dialect) => {
  const store = useStore(dialect);

  it('reads a response until its retention ends, then as missing, and the sweep deletes only expired rows', async () => {
    const tenant = await tenantWith(store(), 0);
    const clock = wallClock(Date.UTC(2026, 0, 1));
    const responses = new StoredResponses(store().db, { retentionMs: 30 * day, clock });
    const start = clock.wallNow().getTime();
    await responses.save(response('resp_old', tenant.id, start));
    await responses.save(response('resp_new', tenant.id, start + 10 * day));

    clock.advance(30 * day - 1);
    expect((await responses.get(tenant.id, 'resp_old'))?.id).toBe('resp_old');
    expect(await responses.sweep()).toBe(0);

    clock.advance(2);
    expect(await responses.get(tenant.id, 'resp_old')).toBeUndefined();
    expect((await responses.get(tenant.id, 'resp_new'))?.id).toBe('resp_new');
    expect(await responses.sweep()).toBe(1);
    const left = await store().db.selectFrom('stored_responses').select('id').where('tenant_id', '=', tenant.id).execute();
    expect(left.map((row) => row.id)).toEqual(['resp_new']);
  });

  it('sweeps a backlog larger than one batch', async () => {
    const tenant = await tenantWith(store(), 0);
    const clock = wallClock(Date.UTC(2026, 1, 1));
    const responses = new StoredResponses(store().db, { retentionMs: day, clock });
    for (let i = 0; i < 7; i++) await responses.save(response(`resp_batch_${i}`, tenant.id, clock.wallNow().getTime()));
    clock.advance(2 * day);
    // Earlier tests' rows in this database are expired by now too: count this tenant's.
    expect(await responses.sweep(3)).toBeGreaterThanOrEqual(7);
    const left = await store().db.selectFrom('stored_responses').select('id').where('tenant_id', '=', tenant.id).execute();
    expect(left).toEqual([]);
    expect(await responses.sweep(3)).toBe(0);
  });

  it('keeps everything when retention is off', async () => {
    const tenant = await tenantWith(store(), 0);
    const clock = wallClock(Date.UTC(2026, 2, 1));
    const responses = new StoredResponses(store().db, { retentionMs: null, clock });
    await responses.save(response('resp_forever', tenant.id, clock.wallNow().getTime()));
    clock.advance(10_000 * day);
    expect((await responses.get(tenant.id, 'resp_forever'))?.id).toBe('resp_forever');
    expect(await responses.sweep()).toBe(0);
  });
});
