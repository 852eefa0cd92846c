/**
 * Issue 11: an interactive request takes the one slot of a sim replica from a batch line
 * running on it (scheduler/preemption.ts). The line is stopped mid-generation, runs again
 * once the slot is idle, and is billed exactly once — for its final answer, at the batch
 * price; the stopped run leaves no usage row and the ledger verifies.
 */
import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ledger } from '../src/billing/ledger.js';
import { PriceCatalog } from '../src/billing/price-catalog.js';
import { costMicros } from '../src/billing/pricing.js';
import { verifyLedger } from '../src/billing/verify.js';
import { startTestPlatform, type TestPlatform } from './support/platform.js';
import { tenantWithKey } from './support/tenants.js';

let sky: TestPlatform;
let alice: OpenAI;
let aliceTenant: string;
const answerTokens = 300;

beforeAll(async () => {
  sky = await startTestPlatform({
    // One slot; about 8 ms a token in real time, so a line runs for a few seconds.
    engines: { sim: { kind: 'sim', slots: 1, answerTokens, timeScale: 1 } },
    models: [{ id: 'sim-one', engine: 'sim', capabilities: ['chat'] }],
    scheduler: { batchPreemptMinRunMs: 100 },
    batches: { pollMs: 50 },
  });
  await new PriceCatalog(sky.platform.store.db).setPrice({
    modelId: 'sim-one', currency: 'CNY', inputPerMMicros: 1_000_000, cachedInputPerMMicros: 500_000, outputPerMMicros: 2_000_000, batchDiscountPct: 50,
  });
  const a = await tenantWithKey(sky.platform.store.db, { rpm: 10_000, tpm: 10_000_000 });
  await new Ledger(sky.platform.store.db).topUp(a.tenant.id, 100_000_000, 'preemption-test');
  aliceTenant = a.tenant.id;
  alice = new OpenAI({ baseURL: sky.baseURL, apiKey: a.key, maxRetries: 0 });
}, 60_000);

afterAll(async () => {
  await sky?.close();
});

async function replicaBusy(): Promise<number> {
  const snapshot = (await (await sky.request('/v1/queue')).json()) as { models: Array<{ model: string; replicas: Array<{ busy: number }> }> };
  return snapshot.models.find((m) => m.model === 'sim-one')!.replicas[0]!.busy;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('batch preemption', () => {
  it('stops a running batch line for an interactive request, runs it again, and bills it once', { timeout: 60_000 }, async () => {
    const line = { custom_id: 'long', method: 'POST', url: '/v1/chat/completions', body: { model: 'sim-one', messages: [{ role: 'user', content: 'Tell me a long story.' }] } };
    const file = await alice.files.create({ file: await toFile(Buffer.from(`${JSON.stringify(line)}\n`), 'input.jsonl'), purpose: 'batch' });
    const batch = await alice.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    while ((await replicaBusy()) === 0) await sleep(20);
    // The line is generating (past the minimum run time, far from its end).
    await sleep(300);

    const interactive = await alice.chat.completions.create({ model: 'sim-one', messages: [{ role: 'user', content: 'Now, please.' }], max_tokens: 4 });
    expect(interactive.usage!.completion_tokens).toBe(4);
    // With one slot, it can have been served first only by taking the line's place.
    expect((await alice.batches.retrieve(batch.id)).request_counts!.completed).toBe(0);

    let done = await alice.batches.retrieve(batch.id);
    while (!['completed', 'failed', 'expired', 'cancelled'].includes(done.status)) {
      await sleep(100);
      done = await alice.batches.retrieve(batch.id);
    }
    expect(done).toMatchObject({ status: 'completed', request_counts: { total: 1, completed: 1, failed: 0 } });
    const output = (await (await alice.files.content(done.output_file_id!)).text()).trim().split('\n').map((text) => JSON.parse(text));
    expect(output).toHaveLength(1);
    expect(output[0]).toMatchObject({ custom_id: 'long', error: null, response: { status_code: 200 } });
    // The answer is the whole one, from the run that finished.
    expect(output[0].response.body.usage.completion_tokens).toBe(answerTokens);

    // Usage rows = lines (+ the interactive request): the stopped run left none.
    const db = sky.platform.store.db;
    const rows = await db.selectFrom('usage_records').selectAll().where('tenant_id', '=', aliceTenant).execute();
    const batchRows = rows.filter((row) => row.batch === 1);
    expect(batchRows).toHaveLength(1);
    expect(batchRows[0]).toMatchObject({ request_id: output[0].response.request_id, status: 'ok', completion_tokens: answerTokens });
    expect(rows.filter((row) => row.batch !== 1)).toHaveLength(1);
    const price = (await new PriceCatalog(db).priceAt('sim-one'))!;
    const row = batchRows[0]!;
    const usage = { promptTokens: row.prompt_tokens, cachedPromptTokens: row.cached_tokens, completionTokens: row.completion_tokens };
    expect(Number(row.cost_micros)).toBeGreaterThan(0);
    expect(Number(row.cost_micros)).toBe(costMicros(price, usage, { batch: true }));
    expect(await verifyLedger(db)).toEqual([]);
  });
});
