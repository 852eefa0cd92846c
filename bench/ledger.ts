/**
 * Settlement throughput of the usage ledger: requests settled per second through the
 * group-committing UsageWriter (one transaction per batch) against the baseline of one
 * transaction per settlement, on embedded SQLite (WAL, synchronous=NORMAL) and on a
 * PostgreSQL the bench starts itself (durable: fsync and synchronous_commit on).
 * Every run ends with verify(): the figures only count if the money adds up.
 *
 * SQLite runs twice: as `serve` opens it (WAL checkpoints in a worker thread) and with
 * SQLite's automatic checkpoint inside whichever commit crosses 1,000 WAL pages; the p99 of
 * a single settlement shows the difference.
 *
 * Run: npm run bench:ledger [-- --quick] [-- --rows N --baseline N --dialects sqlite,sqlite-inline-checkpoint,postgres]
 * Goal: ≥ 20,000 settlements/s on SQLite.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ledger } from '../src/billing/ledger.js';
import type { Settlement } from '../src/billing/settlement.js';
import { Tenants } from '../src/tenancy/tenants.js';
import { UsageWriter } from '../src/billing/usage-writer.js';
import { openDatabase, type Store } from '../src/store/database.js';
import { migrateToLatest } from '../src/store/migrations/index.js';
import { startPostgres, type PostgresServer } from '../test/support/postgres.js';
import { benchArgs } from './lib/args.js';
import { describeMachine } from './lib/machine.js';
import { fixed, Samples, table, thousands } from './lib/stats.js';

const args = benchArgs({ duration: 0, warmup: 0, quickDuration: 0, quickWarmup: 0 }, ['rows', 'baseline', 'dialects', 'tenants']);
const rows = Number(args.values.rows ?? (args.quick ? 20_000 : 100_000));
const baselineRows = Number(args.values.baseline ?? (args.quick ? 2_000 : 5_000));
const tenantCount = Number(args.values.tenants ?? 16);
const dialectNames = String(args.values.dialects ?? 'sqlite,sqlite-inline-checkpoint,postgres').split(',');
const goal = 20_000;

interface Row {
  dialect: string;
  mode: string;
  settled: number;
  seconds: number;
  /** This process's CPU time (user + system), ms: on a shared machine, wall time also counts other loads. */
  cpuMs: number;
  batches?: number;
  /** Per settlement, ms (the transaction rows only). */
  latency?: Samples;
}

let sequence = 0;
/** What each tenant should have been charged, to check the balances at the end. */
const charged = new Map<string, number>();
const cost = 1672;
function makeSettlements(tenantIds: string[], count: number): Settlement[] {
  for (let i = 0; i < count; i++) charged.set(tenantIds[i % tenantIds.length]!, (charged.get(tenantIds[i % tenantIds.length]!) ?? 0) + cost);
  return Array.from({ length: count }, (_, i) => ({
    requestId: `bench-${sequence++}`,
    tenantId: tenantIds[i % tenantIds.length]!,
    apiKeyId: null,
    endpointId: null,
    modelId: 'doubao-pro',
    usage: { promptTokens: 1000, cachedPromptTokens: 200, completionTokens: 500 },
    priceId: null,
    costMicros: cost,
    queueMs: 2,
    generationMs: 150,
    status: 'ok',
  }));
}

async function bench(dialect: string, store: Store): Promise<Row[]> {
  await migrateToLatest(store.db);
  const ledger = new Ledger(store.db);
  const tenants = new Tenants(store.db);
  const tenantIds: string[] = [];
  for (let i = 0; i < tenantCount; i++) {
    const t = await tenants.create({ name: `bench-${i}` });
    await ledger.topUp(t.id, 1_000_000_000_000, 'bench');
    tenantIds.push(t.id);
  }
  const out: Row[] = [];

  // Unmeasured warm-up of both paths: JIT, the statement cache, the pool's connections.
  for (const s of makeSettlements(tenantIds, 500)) await ledger.settle(s);
  const warm = new UsageWriter(ledger);
  for (const s of makeSettlements(tenantIds, 5_000)) warm.enqueue(s);
  await warm.close();

  // Baseline 1: one transaction per settlement, awaited one after another.
  let list = makeSettlements(tenantIds, baselineRows);
  let start = performance.now();
  let cpu = process.cpuUsage();
  const cpuMs = () => {
    const used = process.cpuUsage(cpu);
    return (used.user + used.system) / 1000;
  };
  let latency = new Samples();
  for (const s of list) {
    const began = performance.now();
    await ledger.settle(s);
    latency.add(performance.now() - began);
  }
  out.push({ dialect, mode: '1 txn/settlement, sequential', settled: list.length, seconds: (performance.now() - start) / 1000, cpuMs: cpuMs(), latency });

  // Baseline 2: one transaction per settlement, 10 in flight (as concurrent requests would).
  list = makeSettlements(tenantIds, baselineRows);
  start = performance.now();
  cpu = process.cpuUsage();
  let next = 0;
  latency = new Samples();
  await Promise.all(
    Array.from({ length: 10 }, async () => {
      while (next < list.length) {
        const began = performance.now();
        await ledger.settle(list[next++]!);
        latency.add(performance.now() - began);
      }
    }),
  );
  out.push({ dialect, mode: '1 txn/settlement, 10 concurrent', settled: list.length, seconds: (performance.now() - start) / 1000, cpuMs: cpuMs(), latency });

  // Group commit: requests arrive in bursts of 1,000 (yielding between them so the writer's
  // timer can fire, as on a live server); measured until everything is committed.
  list = makeSettlements(tenantIds, rows);
  const writer = new UsageWriter(ledger, { flushIntervalMs: 20, maxBatchRows: 500 });
  start = performance.now();
  cpu = process.cpuUsage();
  for (let i = 0; i < list.length; i++) {
    writer.enqueue(list[i]!);
    if (i % 1000 === 999) await new Promise((r) => setImmediate(r));
  }
  await writer.close();
  const seconds = (performance.now() - start) / 1000;
  const writerCpuMs = cpuMs();
  if (writer.stats.failed > 0) throw new Error(`${writer.stats.failed} settlements failed`);
  out.push({ dialect, mode: 'UsageWriter (20 ms / 500 rows)', settled: writer.stats.settled, seconds, cpuMs: writerCpuMs, batches: writer.stats.batches });

  const problems = await ledger.verify();
  if (problems.length > 0) throw new Error(`ledger does not add up after the bench: ${JSON.stringify(problems.slice(0, 5))}`);
  for (const tenantId of tenantIds) {
    const balance = await ledger.balance(tenantId);
    const expected = 1_000_000_000_000 - (charged.get(tenantId) ?? 0);
    if (balance?.balanceMicros !== expected) throw new Error(`tenant ${tenantId}: balance ${balance?.balanceMicros}, expected ${expected}`);
  }
  return out;
}

async function main(): Promise<void> {
  console.log(`# Ledger settlement throughput\n\n${describeMachine()}\n`);
  console.log(`${thousands(rows)} settlements through UsageWriter, ${thousands(baselineRows)} per baseline, ${tenantCount} tenants\n`);
  const results: Row[] = [];
  for (const name of dialectNames) {
    if (name === 'sqlite' || name === 'sqlite-inline-checkpoint') {
      const dir = mkdtempSync(join(tmpdir(), 'skylark-bench-'));
      const served = name === 'sqlite';
      const store = await openDatabase(`sqlite:${join(dir, 'ledger.db')}`, { backgroundCheckpoints: served });
      try {
        results.push(...(await bench(served ? 'sqlite' : 'sqlite, checkpoint in commit', store)));
      } finally {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      }
    } else if (name === 'postgres') {
      let server: PostgresServer | undefined;
      try {
        server = await startPostgres({ durable: true });
        const store = await openDatabase(await server.createDatabase('bench'), { poolSize: 10 });
        try {
          results.push(...(await bench('postgres (fsync on)', store)));
        } finally {
          await store.close();
        }
      } finally {
        await server?.stop();
      }
    } else {
      throw new Error(`unknown dialect ${name}`);
    }
  }
  const baselineOf = (dialect: string) => results.find((r) => r.dialect === dialect)!;
  console.log(
    table(
      ['database', 'mode', 'settled', 'seconds', 'settled/s', 'vs sequential', 'rows/batch', 'client CPU µs/settle', 'p50 ms', 'p99 ms'],
      results.map((r) => {
        const base = baselineOf(r.dialect);
        const rate = r.settled / r.seconds;
        return [
          r.dialect,
          r.mode,
          thousands(r.settled),
          fixed(r.seconds, 2),
          thousands(rate),
          `${fixed(rate / (base.settled / base.seconds), 1)}×`,
          r.batches === undefined ? '–' : fixed(r.settled / r.batches, 0),
          fixed((r.cpuMs * 1000) / r.settled, 1),
          fixed(r.latency?.percentile(50), 3),
          fixed(r.latency?.percentile(99), 3),
        ];
      }),
    ),
  );
  const sqliteWriter = results.find((r) => r.dialect === 'sqlite' && r.batches !== undefined);
  if (sqliteWriter !== undefined) {
    const rate = sqliteWriter.settled / sqliteWriter.seconds;
    const cpuRate = sqliteWriter.settled / (sqliteWriter.cpuMs / 1000);
    console.log(
      `\nSQLite goal ≥ ${thousands(goal)}/s through UsageWriter: ${rate >= goal ? 'met' : 'NOT met'} (${thousands(rate)}/s wall; ` +
        `${thousands(cpuRate)}/s per CPU-second of this process — the ceiling on an idle core)`,
    );
  }
  console.log('verify(): every tenant adds up');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
