/**
 * Issue 3's crash test: kill -9 a gateway while 50 streams run, start it again on the same
 * database, and check that every request the clients saw finish has exactly one usage row
 * and that every balance still equals its top-ups minus its settled usage.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Ledger } from '../src/billing/ledger.js';
import { openDatabase, type Store } from '../src/store/database.js';
import { runCliToEnd } from './support/cli-process.js';
import { processDatabases } from './support/process-databases.js';
import { serveTiny, type Served } from './support/served.js';
import { sseData } from './support/sse.js';
import { tenantWithKey } from './support/tenants.js';
import { tinyTokenId } from './support/tiny-vocab.js';

const { cleanups, databases } = processDatabases();

/** One stream: resolves with its request id and whether the client saw it end with [DONE]. */
async function stream(url: string, key: string, body: object, onFirstToken: () => void = () => {}) {
  let requestId: string | null = null;
  let finished = false;
  let tokens = 0;
  try {
    const response = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'skylark-tiny', stream: true, temperature: 0, ...body }),
    });
    requestId = response.headers.get('x-request-id');
    for await (const data of sseData(response)) {
      if (data === '[DONE]') finished = true;
      else if (++tokens === 2) onFirstToken();
    }
  } catch {
    // the gateway died mid-stream
  }
  return { requestId, finished };
}

describe.each(databases)('kill -9 with 50 streams running ($name)', (database) => {
  it('keeps exactly one usage row per finished request, and the ledger verifies after restart', { timeout: 120_000 }, async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'skylark-crash-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const location = await database.url(dataDir);
    const env = database.env(location);
    // One sequence per stream, so all 50 really run at the moment of the kill.
    let served: Served = await serveTiny(dataDir, env, { parallel: 50, contextSize: 1024 });
    cleanups.push(async () => void served.proc.child.kill('SIGKILL'));

    const store: Store = await openDatabase(location);
    cleanups.push(() => store.close());
    const { tenant, key } = await tenantWithKey(store.db, { rpm: 10_000, tpm: 10_000_000 });
    await new Ledger(store.db).topUp(tenant.id, 100_000_000, 'crash-test');

    // 25 short answers that finish, and 25 endless ones ('.' banned) still streaming at the kill.
    const endless = { messages: [{ role: 'user', content: 'abc' }], max_tokens: 900, logit_bias: { [await tinyTokenId('.')]: -100 } };
    let streaming = 0;
    let allStreaming!: () => void;
    const allStreamingNow = new Promise<void>((resolve) => (allStreaming = resolve));
    const shortDone = Promise.all(
      Array.from({ length: 25 }, () => stream(served.url, key, { messages: [{ role: 'user', content: 'Count: 7' }] })),
    );
    const long = Array.from({ length: 25 }, () =>
      stream(served.url, key, endless, () => {
        if (++streaming === 25) allStreaming();
      }),
    );
    const finishedShort = await shortDone;
    await allStreamingNow;
    served.proc.child.kill('SIGKILL');
    await served.proc.exited;
    const results = [...finishedShort, ...(await Promise.all(long))];

    const finished = results.filter((result) => result.finished).map((result) => result.requestId);
    const cut = results.filter((result) => !result.finished);
    expect(finished.length).toBeGreaterThanOrEqual(25);
    expect(cut.length).toBeGreaterThan(0);

    served = await serveTiny(dataDir, env);
    const rows = await store.db
      .selectFrom('usage_records')
      .select(['request_id', 'status', 'completion_tokens'])
      .where('tenant_id', '=', tenant.id)
      .execute();
    const byId = new Map(rows.map((row) => [row.request_id, row]));
    for (const requestId of finished) expect(byId.get(requestId!), requestId!).toMatchObject({ status: 'ok' });
    expect(rows.length).toBe(new Set(rows.map((row) => row.request_id)).size); // never twice

    const verify = await runCliToEnd(['ledger', 'verify', '--data', dataDir], env);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    // The restarted gateway serves the same tenant at once: nothing of the dead one is still held.
    const after = await stream(served.url, key, { messages: [{ role: 'user', content: 'Count: 7' }] });
    expect(after.finished).toBe(true);
    served.proc.child.kill('SIGTERM');
    await served.proc.exited;
  });
});
