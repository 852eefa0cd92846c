/**
 * The billing-on column of bench:gateway: JSON requests paced at a constant rate (open loop,
 * one every millisecond at the default 1,000 req/s; see lib/paced-load.ts), straight to the upstream and through the gateway with the
 * whole paid path on — a tenant's key with RPM/TPM limits, a funds hold against its
 * balance, and settlement whose commit the response waits for — plus the operator's key
 * (no limits, no hold) for comparison. Goal: added p99 ≤ 2 ms.
 */
import { join } from 'node:path';
import { Ledger } from '../src/billing/ledger.js';
import { openDatabase } from '../src/store/database.js';
import { ApiKeys } from '../src/tenancy/api-keys.js';
import { Tenants } from '../src/tenancy/tenants.js';
import type { LoadTarget } from './lib/json-load.js';
import { pacedLoad, type PacedResult } from './lib/paced-load.js';
import { cpuTimeMs, type Spawned } from './lib/processes.js';
import { fixed, signed, table, thousands } from './lib/stats.js';

export interface RateRow {
  via: string;
  result: PacedResult;
  cpuPerRequest: number;
}

const goalAddedP99Ms = 2;

/** A tenant with a key whose limits never bind and a balance that never runs out. */
export async function benchTenantKey(dataDir: string): Promise<string> {
  const store = await openDatabase(join(dataDir, 'skylark.db'));
  try {
    const tenant = await new Tenants(store.db).create({ name: 'bench' });
    await new Ledger(store.db).topUp(tenant.id, 1_000_000_000_000, 'bench');
    const { key } = await new ApiKeys(store.db).create({ tenantId: tenant.id, name: 'bench', rpm: 1_000_000_000, tpm: 1_000_000_000_000 });
    return key;
  } finally {
    await store.close();
  }
}

export async function measureAtRate(
  via: string,
  target: LoadTarget,
  rate: number,
  seconds: number,
  warmup: number,
  gateway?: Spawned,
): Promise<RateRow> {
  await pacedLoad(target, rate, warmup);
  const before = gateway ? cpuTimeMs(gateway.pid) : 0;
  const result = await pacedLoad(target, rate, seconds);
  const cpuPerRequest = gateway ? (cpuTimeMs(gateway.pid) - before) / result.ok : Number.NaN;
  process.stderr.write(`  ${via.padEnd(28)} at ${rate} req/s: ${thousands(result.ok / result.seconds)} req/s served\n`);
  return { via, result, cpuPerRequest };
}

export function reportAtRate(rows: RateRow[], rate: number): void {
  const direct = rows.find((row) => row.via === 'direct');
  const p = (row: RateRow | undefined, q: number) => row?.result.latency.percentile(q) ?? Number.NaN;
  const added = (row: RateRow, q: number) => (row === direct ? '' : signed(p(row, q) - p(direct, q)));
  console.log(`\nBilling on, JSON at a constant ${thousands(rate)} req/s (open loop, one request every ${fixed(1000 / rate, 3)} ms)\n`);
  console.log(
    table(
      ['path', 'req/s', 'p50 ms', 'p99 ms', 'p99.9 ms', 'added p50', 'added p99', 'gw CPU ms/req', 'most in flight', 'sent late p99 ms', 'errors'],
      rows.map((row) => [
        row.via,
        thousands(row.result.ok / row.result.seconds),
        fixed(p(row, 50)),
        fixed(p(row, 99)),
        fixed(p(row, 99.9)),
        added(row, 50),
        added(row, 99),
        row === direct ? '' : fixed(row.cpuPerRequest, 3),
        String(row.result.maxInFlight),
        fixed(row.result.lateness.percentile(99)),
        String(row.result.failed),
      ]),
    ),
  );
  const paid = rows.find((row) => row.via.startsWith('skylark (tenant key'));
  if (paid) {
    const value = p(paid, 99) - p(direct, 99);
    console.log(`  [${value <= goalAddedP99Ms ? 'met   ' : 'MISSED'}] ${paid.via}: added p99 ≤ ${goalAddedP99Ms} ms at ${thousands(rate)} req/s with billing on: ${fixed(value, 3)}`);
    const bare = rows.find((row) => row.via.startsWith('bare proxy'));
    if (bare) {
      console.log(
        `  (info)   over the bare proxy (the floor of a Node.js proxy here): p50 ${signed(p(paid, 50) - p(bare, 50))} ms, p99 ${signed(p(paid, 99) - p(bare, 99))} ms, ` +
          `CPU ${signed(paid.cpuPerRequest - bare.cpuPerRequest, 3)} ms/request`,
      );
    }
  }
}
