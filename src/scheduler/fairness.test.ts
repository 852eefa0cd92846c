import { describe, expect, it } from 'vitest';
import { Cluster, FakeReplica, serviceByTenant, work, type Tracked } from './fake-cluster.test-helper.js';

const patient = 1e9;

/** The largest |service(a) − service(b)| over every prefix of `grants`, counting only grants before `until`. */
function maxGap(grants: readonly Tracked[], a: string, b: string, until = Number.POSITIVE_INFINITY): { ahead: number; behind: number } {
  let gap = 0;
  let ahead = 0;
  let behind = 0;
  for (const g of grants) {
    if (g.grantedAt! >= until) break;
    const cost = g.item.promptTokens + 2 * g.item.maxOutputTokens;
    if (g.item.tenantId === a) gap += cost;
    else if (g.item.tenantId === b) gap -= cost;
    ahead = Math.max(ahead, gap);
    behind = Math.min(behind, gap);
  }
  return { ahead, behind: -behind };
}

describe('fair share (VTC)', () => {
  it('gives two backlogged tenants equal service in tokens, not in requests', () => {
    const cluster = new Cluster({ replicas: [new FakeReplica('r1', 2)], config: { priorOutputTokens: 250 } });
    for (let i = 0; i < 60; i++) {
      cluster.submit(work({ tenantId: 'small', promptTokens: 100, maxOutputTokens: 100, maxWaitMs: patient }));
      cluster.submit(work({ tenantId: 'large', promptTokens: 400, maxOutputTokens: 250, maxWaitMs: patient }));
    }
    cluster.run();
    // Both stay backlogged until `large`'s 60 × 900 is matched by `small`'s 300s: 180 grants of small would be needed.
    const bothBacklogged = cluster.grants.findIndex((g, i) => cluster.grants.slice(0, i + 1).filter((x) => x.item.tenantId === 'small').length === 60);
    const window = cluster.grants.slice(0, bothBacklogged);
    const { ahead, behind } = maxGap(window, 'small', 'large');
    // VTC's bound: twice the largest request's service (900 here).
    expect(Math.max(ahead, behind)).toBeLessThanOrEqual(2 * 900);
    const counts = { small: window.filter((g) => g.item.tenantId === 'small').length, large: window.filter((g) => g.item.tenantId === 'large').length };
    expect(counts.small / counts.large).toBeGreaterThan(2.5);
    expect(counts.small / counts.large).toBeLessThan(3.5);
  });

  it('keeps a light tenant fast while another floods the same replica', () => {
    const cluster = new Cluster({ replicas: [new FakeReplica('r1', 4)] });
    for (let i = 0; i < 400; i++) cluster.submit(work({ tenantId: 'flood', maxWaitMs: patient }));
    const light: Tracked[] = [];
    for (let t = 500; t < 40_000; t += 2000) cluster.at(t, () => light.push(cluster.submit(work({ tenantId: 'light', maxWaitMs: patient }))));
    cluster.run();
    expect(light).toHaveLength(20);
    // The flood's four slots free together every second; the light tenant is the least
    // served, so it takes one of the very next ones instead of queueing behind 400.
    for (const t of light) expect(t.grantedAt! - t.submittedAt).toBeLessThanOrEqual(500);
  });

  it('lifts a tenant returning from idle so it cannot spend banked credit in a burst', () => {
    const cluster = new Cluster({ replicas: [new FakeReplica('r1', 4)], config: { maxQueuedPerTenant: 1000 } });
    for (let i = 0; i < 400; i++) cluster.submit(work({ tenantId: 'steady', maxWaitMs: patient }));
    cluster.at(30_000, () => {
      for (let i = 0; i < 100; i++) cluster.submit(work({ tenantId: 'returning', maxWaitMs: patient }));
    });
    cluster.run();
    const after = cluster.grants.filter((g) => g.grantedAt! >= 30_000);
    const lastReturning = after.map((g) => g.item.tenantId).lastIndexOf('returning');
    const { ahead, behind } = maxGap(after.slice(0, lastReturning + 1), 'returning', 'steady');
    // Without lifting, `returning` would take ~120 grants in a row (36,000 of service) to catch up.
    expect(ahead).toBeLessThanOrEqual(2 * 300);
    expect(behind).toBeLessThanOrEqual(2 * 300);
  });

  it('gives a lone tenant every slot of every replica', () => {
    const replicas = [new FakeReplica('r1', 4), new FakeReplica('r2', 4)];
    const cluster = new Cluster({ replicas });
    for (let i = 0; i < 40; i++) cluster.submit(work({ tenantId: 'alone', tier: 'free', maxWaitMs: patient }));
    expect(replicas.map((r) => r.busy)).toEqual([4, 4]);
    cluster.run(2500);
    expect(replicas.map((r) => r.busy)).toEqual([4, 4]);
    cluster.run();
    // 40 requests, 8 at a time, 1 s each: 5 s of full use.
    expect(Math.max(...cluster.grants.map((g) => g.grantedAt!))).toBe(4000);
  });

  it('charges the output estimate at grant and corrects it with the real usage', () => {
    // `short` declares 1000 max tokens but produces 10; after its first completions the
    // correction refunds it, so it is not starved by the estimate.
    const cluster = new Cluster({
      replicas: [new FakeReplica('r1', 1)],
      config: { priorOutputTokens: 1000 },
      outcome: (item) => ({ ok: true, promptTokens: item.promptTokens, cachedTokens: 0, completionTokens: item.tenantId === 'short' ? 10 : item.maxOutputTokens }),
    });
    for (let i = 0; i < 40; i++) {
      cluster.submit(work({ tenantId: 'short', promptTokens: 100, maxOutputTokens: 1000, maxWaitMs: patient }));
      cluster.submit(work({ tenantId: 'long', promptTokens: 100, maxOutputTokens: 1000, maxWaitMs: patient }));
    }
    cluster.run(40_000);
    const served = serviceByTenant(cluster.grants);
    const grants = (tenant: string) => cluster.grants.filter((g) => g.item.tenantId === tenant).length;
    // Real service per request: short 120, long 2100 → short gets many more grants.
    expect(grants('short')).toBeGreaterThan(3 * grants('long'));
    expect(served.get('short')).toBeGreaterThan(0);
  });
});
