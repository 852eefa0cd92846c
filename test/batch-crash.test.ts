/**
 * Issue 11's crash test: kill -9 the gateway (the built `skylark serve`) in the middle of
 * a 500-line batch, start it again on the same database, and check that the batch
 * completes with every custom_id answered exactly once, one usage row per line, and a
 * ledger that verifies.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI, { toFile } from 'openai';
import { describe, expect, it } from 'vitest';
import { Ledger } from '../src/billing/ledger.js';
import { openDatabase, type Store } from '../src/store/database.js';
import { runCliToEnd } from './support/cli-process.js';
import { processDatabases } from './support/process-databases.js';
import { serveTiny, type Served } from './support/served.js';
import { tenantWithKey } from './support/tenants.js';

const { cleanups, databases } = processDatabases();

const lines = 500;
// A short lease, so the restarted gateway takes over the dead one's batch in 2 s, not 10.
const batchConfig = { batches: { leaseMs: 2000, pollMs: 200 } };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(databases)('kill -9 in the middle of a 500-line batch ($name)', (database) => {
  it('resumes after restart: completed, each custom_id once, one usage row per line, ledger verifies', { timeout: 110_000 }, async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'skylark-batch-crash-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const location = await database.url(dataDir);
    const env = database.env(location);
    let served: Served = await serveTiny(dataDir, env, { parallel: 8, contextSize: 2048 }, batchConfig);
    cleanups.push(async () => void served.proc.child.kill('SIGKILL'));

    const store: Store = await openDatabase(location);
    cleanups.push(() => store.close());
    const { tenant, key } = await tenantWithKey(store.db, { rpm: 10_000, tpm: 10_000_000 });
    await new Ledger(store.db).topUp(tenant.id, 100_000_000, 'batch-crash-test');
    const client = (url: string) => new OpenAI({ baseURL: `${url}/v1`, apiKey: key, maxRetries: 0 });

    const ids = Array.from({ length: lines }, (_, i) => `line-${i}`);
    const input = ids
      .map((id, i) =>
        JSON.stringify({
          custom_id: id,
          method: 'POST',
          url: '/v1/chat/completions',
          body: { model: 'skylark-tiny', messages: [{ role: 'user', content: `Count: ${i}` }], max_tokens: 3, temperature: 0 },
        }),
      )
      .join('\n');
    const file = await client(served.url).files.create({ file: await toFile(Buffer.from(input), 'crash.jsonl'), purpose: 'batch' });
    const batch = await client(served.url).batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });

    let before = 0;
    while (before < 40) {
      before = (await client(served.url).batches.retrieve(batch.id)).request_counts!.completed;
      await sleep(50);
    }
    served.proc.child.kill('SIGKILL');
    await served.proc.exited;
    expect(before).toBeLessThan(lines); // killed mid-batch, not after

    served = await serveTiny(dataDir, env, { parallel: 8, contextSize: 2048 }, batchConfig);
    let done;
    for (;;) {
      done = await client(served.url).batches.retrieve(batch.id);
      if (!['validating', 'in_progress', 'finalizing'].includes(done.status)) break;
      await sleep(200);
    }
    expect(done).toMatchObject({ status: 'completed', request_counts: { total: lines, completed: lines, failed: 0 } });
    expect(done.error_file_id ?? null).toBeNull();
    const text = await (await client(served.url).files.content(done.output_file_id!)).text();
    const answered = text.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as { custom_id: string; response: { status_code: number } });
    expect(answered.map((line) => line.custom_id)).toEqual(ids); // each exactly once, in input order
    expect(answered.every((line) => line.response.status_code === 200)).toBe(true);

    const rows = await store.db.selectFrom('usage_records').select(['request_id', 'batch']).where('tenant_id', '=', tenant.id).execute();
    expect(rows).toHaveLength(lines);
    expect(new Set(rows.map((row) => row.request_id)).size).toBe(lines);
    expect(rows.every((row) => Number(row.batch) === 1)).toBe(true);

    const verify = await runCliToEnd(['ledger', 'verify', '--data', dataDir], env);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    served.proc.child.kill('SIGTERM');
    await served.proc.exited;
  });
});
