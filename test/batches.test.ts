/**
 * Issue 11: the Files and Batch APIs through the official `openai` SDK, on the tiny model
 * (and a one-slot sim replica for a batch slow enough to cancel): upload, batch, poll,
 * read the output and error files; failed validation naming the line; cancel; lists with
 * cursors; another tenant's ids answer 404; each line billed once at the batch discount.
 */
import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ledger } from '../src/billing/ledger.js';
import { PriceCatalog } from '../src/billing/price-catalog.js';
import { costMicros } from '../src/billing/pricing.js';
import { verifyLedger } from '../src/billing/verify.js';
import { expectOpenAI } from './support/openapi-schemas.js';
import { startTestPlatform, tinyModelConfig, type TestPlatform } from './support/platform.js';
import { tenantWithKey } from './support/tenants.js';

let sky: TestPlatform;
let alice: OpenAI;
let bob: OpenAI;
let aliceTenant: string;
let carol: OpenAI;
const maxFileSize = 64 * 1024;

beforeAll(async () => {
  const tiny = tinyModelConfig({ parallel: 4, contextSize: 2048 }) as { engines: object; models: object[] };
  sky = await startTestPlatform({
    engines: { ...tiny.engines, slow: { kind: 'sim', slots: 1, answerTokens: 80 } },
    models: [...tiny.models, { id: 'sim-slow', engine: 'slow', capabilities: ['chat'] }],
    batches: { maxFileSize, pollMs: 100 },
  });
  const db = sky.platform.store.db;
  const a = await tenantWithKey(db, { rpm: 10_000, tpm: 10_000_000 });
  const b = await tenantWithKey(db, { rpm: 10_000, tpm: 10_000_000 });
  await new Ledger(db).topUp(a.tenant.id, 100_000_000, 'batch-test');
  aliceTenant = a.tenant.id;
  const c = await tenantWithKey(db, { rpm: 10_000, tpm: 10_000_000 });
  await new Ledger(db).topUp(c.tenant.id, 100_000_000, 'batch-test');
  carol = new OpenAI({ baseURL: sky.baseURL, apiKey: c.key, maxRetries: 0 });
  alice = new OpenAI({ baseURL: sky.baseURL, apiKey: a.key, maxRetries: 0 });
  bob = new OpenAI({ baseURL: sky.baseURL, apiKey: b.key, maxRetries: 0 });
}, 60_000);

afterAll(async () => {
  await sky?.close();
});

const jsonl = (lines: object[]) => lines.map((line) => JSON.stringify(line)).join('\n') + '\n';
const chatLine = (customId: string, content: string, model = 'skylark-tiny') => ({
  custom_id: customId,
  method: 'POST',
  url: '/v1/chat/completions',
  body: { model, messages: [{ role: 'user', content }], max_tokens: 8, temperature: 0 },
});

async function upload(client: OpenAI, text: string, name = 'input.jsonl') {
  const file = await client.files.create({ file: await toFile(Buffer.from(text), name), purpose: 'batch' });
  expectOpenAI('OpenAIFile', file);
  return file;
}

async function settled(client: OpenAI, id: string, until: readonly string[] = ['completed', 'failed', 'expired', 'cancelled']) {
  for (;;) {
    const batch = await client.batches.retrieve(id);
    expectOpenAI('Batch', batch);
    if (until.includes(batch.status)) return batch;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function linesOf(client: OpenAI, fileId: string | null | undefined) {
  if (!fileId) return [];
  const text = await (await client.files.content(fileId)).text();
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as { id: string; custom_id: string; response: { status_code: number; request_id: string; body: any } | null; error: any });
}

describe('Files API', () => {
  it('uploads, lists by purpose with a cursor, reads back and deletes', async () => {
    const first = await upload(alice, 'one\n', 'a.jsonl');
    const second = await upload(alice, 'two\n', 'b.jsonl');
    expect(first).toMatchObject({ object: 'file', bytes: 4, filename: 'a.jsonl', purpose: 'batch' });
    expect(await (await alice.files.content(first.id)).text()).toBe('one\n');
    expect(await alice.files.retrieve(second.id)).toEqual(second);

    const raw = await fetch(`${sky.baseURL}/files?purpose=batch&limit=1`, { headers: { authorization: `Bearer ${alice.apiKey}` } });
    const page = await raw.json();
    expectOpenAI('ListFilesResponse', page);
    expect(page).toMatchObject({ has_more: true, data: [{ id: second.id }] });
    const next = await alice.files.list({ purpose: 'batch', limit: 1, after: page.last_id });
    expect(next.data.map((file) => file.id)).toEqual([first.id]);

    const deleted = await alice.files.delete(first.id);
    expectOpenAI('DeleteFileResponse', deleted);
    expect(deleted).toEqual({ id: first.id, object: 'file', deleted: true });
    await expect(alice.files.retrieve(first.id)).rejects.toMatchObject({ status: 404 });
  });

  it('refuses a file over the size cap with 413, and a bad purpose with 400', async () => {
    const big = await fetch(`${sky.baseURL}/files`, {
      method: 'POST',
      headers: { authorization: `Bearer ${alice.apiKey}` },
      body: form(new Blob([Buffer.alloc(maxFileSize + 1, 97)]), 'batch'),
    });
    expect(big.status).toBe(413);
    expect((await big.json()).error).toMatchObject({ code: 'request_too_large', param: 'file', type: 'invalid_request_error' });
    await expect(alice.files.create({ file: await toFile(Buffer.from('x'), 'x.txt'), purpose: 'nonsense' as 'batch' })).rejects.toMatchObject({
      status: 400,
      param: 'purpose',
    });
    expect((await alice.files.list()).data.every((file) => file.bytes <= maxFileSize)).toBe(true);
  });
});

function form(blob: Blob, purpose: string): FormData {
  const body = new FormData();
  body.append('file', blob, 'big.jsonl');
  body.append('purpose', purpose);
  return body;
}

describe('Batch API', () => {
  it('runs a chat batch to completion, with output and error files, billed once per line at the batch discount', { timeout: 60_000 }, async () => {
    const good = ['q1', 'q2', 'q3', 'q4'].map((id, i) => chatLine(id, `Count: ${i + 1}`));
    const bad = { custom_id: 'bad', method: 'POST', url: '/v1/chat/completions', body: { model: 'skylark-tiny' } };
    const file = await upload(alice, jsonl([...good.slice(0, 2), bad, ...good.slice(2)]));
    const created = await alice.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
      metadata: { job: 'nightly' },
    });
    expectOpenAI('Batch', created);
    expect(created).toMatchObject({ object: 'batch', status: 'validating', input_file_id: file.id, metadata: { job: 'nightly' } });

    const done = await settled(alice, created.id);
    expect(done).toMatchObject({ status: 'completed', request_counts: { total: 5, completed: 4, failed: 1 }, model: 'skylark-tiny' });
    expect(done.in_progress_at).toBeGreaterThanOrEqual(done.created_at);
    expect(done.completed_at).toBeGreaterThanOrEqual(done.finalizing_at!);

    const outputs = await linesOf(alice, done.output_file_id);
    expect(outputs.map((line) => line.custom_id)).toEqual(['q1', 'q2', 'q3', 'q4']);
    for (const line of outputs) {
      expect(line.response!.status_code).toBe(200);
      expect(line.error).toBeNull();
      expectOpenAI('CreateChatCompletionResponse', line.response!.body);
    }
    const errors = await linesOf(alice, done.error_file_id);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ custom_id: 'bad', response: { status_code: 400, body: { error: { param: 'messages' } } }, error: null });
    expect((await alice.files.retrieve(done.output_file_id!)).purpose).toBe('batch_output');

    // One usage row per line that ran, marked batch and charged at the catalog's batch discount.
    const db = sky.platform.store.db;
    const rows = await db.selectFrom('usage_records').selectAll().where('tenant_id', '=', aliceTenant).where('request_id', 'in', outputs.map((line) => line.response!.request_id)).execute();
    expect(rows).toHaveLength(4);
    const price = (await new PriceCatalog(db).priceAt('skylark-tiny'))!;
    expect(price.batchDiscountPct).toBe(50);
    for (const row of rows) {
      const usage = { promptTokens: row.prompt_tokens, cachedPromptTokens: row.cached_tokens, completionTokens: row.completion_tokens };
      expect(row).toMatchObject({ batch: 1, status: 'ok' });
      expect(Number(row.cost_micros)).toBe(costMicros(price, usage, { batch: true }));
      expect(Number(row.cost_micros)).toBeLessThan(costMicros(price, usage));
    }
    expect(await verifyLedger(db)).toEqual([]);
  });

  it('fails a batch whose input has a malformed line, naming the line', async () => {
    const text = `${JSON.stringify(chatLine('a', 'hi'))}\n{not json\n${JSON.stringify({ ...chatLine('b', 'hi'), url: '/v1/embeddings' })}\n${JSON.stringify(chatLine('a', 'again'))}\n`;
    const file = await upload(alice, text);
    const created = await alice.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    const failed = await settled(alice, created.id);
    expect(failed.status).toBe('failed');
    expect(failed.failed_at).toBeTypeOf('number');
    expect(failed.errors!.data!.map((error) => [error.code, error.line])).toEqual([
      ['invalid_json_line', 2],
      ['invalid_url', 3],
      ['duplicate_custom_id', 4],
    ]);
    expect(failed.output_file_id ?? null).toBeNull();
  });

  it('refuses a bad request to create a batch', async () => {
    const file = await upload(alice, jsonl([chatLine('x', 'hi')]));
    await expect(
      alice.batches.create({ input_file_id: file.id, endpoint: '/v1/images' as '/v1/completions', completion_window: '24h' }),
    ).rejects.toMatchObject({ status: 400, param: 'endpoint' });
    await expect(
      alice.batches.create({ input_file_id: 'file-nope', endpoint: '/v1/completions', completion_window: '24h' }),
    ).rejects.toMatchObject({ status: 404, param: 'input_file_id' });
  });

  it('cancels a running batch within seconds, keeping the finished lines', { timeout: 60_000 }, async () => {
    const ids = Array.from({ length: 30 }, (_, i) => `slow-${i}`);
    const file = await upload(alice, jsonl(ids.map((id) => chatLine(id, 'Tell me a story.', 'sim-slow'))));
    const created = await alice.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    for (;;) {
      const batch = await alice.batches.retrieve(created.id);
      if (batch.request_counts!.completed >= 1) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const cancelling = await alice.batches.cancel(created.id);
    expectOpenAI('Batch', cancelling);
    expect(['cancelling', 'cancelled']).toContain(cancelling.status);
    const cancelled = await settled(alice, created.id);
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.cancelled_at).toBeTypeOf('number');
    const outputs = await linesOf(alice, cancelled.output_file_id);
    const errors = await linesOf(alice, cancelled.error_file_id);
    expect(outputs.length).toBeGreaterThanOrEqual(1);
    expect(outputs.length).toBeLessThan(ids.length);
    expect(errors.filter((line) => line.error?.code === 'batch_cancelled').length).toBeGreaterThan(0);
    // Every request answered exactly once, across the two files.
    expect([...outputs, ...errors].map((line) => line.custom_id).sort()).toEqual([...ids].sort());
    await expect(alice.batches.cancel(created.id)).resolves.toMatchObject({ status: 'cancelled' });
  });

  it('lists batches newest first with a cursor; the SDK pages through them all', async () => {
    const file = await upload(alice, jsonl([{ ...chatLine('e', 'x'), url: '/v1/embeddings', body: { model: 'skylark-tiny', input: 'hello' } }]));
    const made = [];
    for (let i = 0; i < 3; i++) made.push((await alice.batches.create({ input_file_id: file.id, endpoint: '/v1/embeddings', completion_window: '24h' })).id);
    const raw = await fetch(`${sky.baseURL}/batches?limit=2`, { headers: { authorization: `Bearer ${alice.apiKey}` } });
    const page = await raw.json();
    expectOpenAI('ListBatchesResponse', page);
    expect(page.has_more).toBe(true);
    expect(page.data.map((batch: { id: string }) => batch.id)).toEqual([made[2], made[1]]);
    const all: string[] = [];
    for await (const batch of alice.batches.list({ limit: 2 })) all.push(batch.id);
    expect(all.slice(0, 3)).toEqual(made.reverse());
    expect(new Set(all).size).toBe(all.length);
    const embedded = await settled(alice, made[0]!);
    expect(embedded.status).toBe('completed');
    const [line] = await linesOf(alice, embedded.output_file_id);
    expectOpenAI('CreateEmbeddingResponse', line!.response!.body);
  });

  it("answers another tenant's file or batch with 404, like a missing one", async () => {
    const file = await upload(alice, jsonl([chatLine('mine', 'hi')]));
    const batch = await alice.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    await expect(bob.files.retrieve(file.id)).rejects.toMatchObject({ status: 404 });
    await expect(bob.files.content(file.id)).rejects.toMatchObject({ status: 404 });
    await expect(bob.files.delete(file.id)).rejects.toMatchObject({ status: 404 });
    await expect(bob.batches.retrieve(batch.id)).rejects.toMatchObject({ status: 404 });
    await expect(bob.batches.cancel(batch.id)).rejects.toMatchObject({ status: 404 });
    await expect(bob.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })).rejects.toMatchObject({
      status: 404,
    });
    expect((await bob.files.list()).data).toEqual([]);
    expect((await bob.batches.list()).data).toEqual([]);
    await settled(alice, batch.id);
  });

  it('expires a batch past its completion window, with the lines finished so far', { timeout: 60_000 }, async () => {
    const ids = Array.from({ length: 30 }, (_, i) => `late-${i}`);
    const file = await upload(alice, jsonl(ids.map((id) => chatLine(id, 'Tell me a story.', 'sim-slow'))));
    const created = await alice.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    expect(created.expires_at! - created.created_at).toBe(24 * 3600);
    await completedAtLeast(alice, created.id, 1);
    // 24 hours pass: the window's end moved to now, as the clock would have.
    await sky.platform.store.db.updateTable('batches').set({ expires_at: Date.now() - 1 }).where('id', '=', created.id).execute();
    const expired = await settled(alice, created.id);
    expect(expired.status).toBe('expired');
    expect(expired.expired_at).toBeTypeOf('number');
    const outputs = await linesOf(alice, expired.output_file_id);
    const errors = await linesOf(alice, expired.error_file_id);
    expect(outputs.length).toBeGreaterThanOrEqual(1);
    expect(errors.every((line) => line.error?.code === 'batch_expired' && line.response === null)).toBe(true);
    expect([...outputs, ...errors].map((line) => line.custom_id).sort()).toEqual([...ids].sort());
  });

  it("shares idle capacity between tenants' batches and yields it to interactive requests", { timeout: 60_000 }, async () => {
    const big = Array.from({ length: 24 }, (_, i) => chatLine(`a-${i}`, 'Tell me a story.', 'sim-slow'));
    const small = Array.from({ length: 3 }, (_, i) => chatLine(`c-${i}`, 'Tell me a story.', 'sim-slow'));
    const first = await alice.batches.create({ input_file_id: (await upload(alice, jsonl(big))).id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    await completedAtLeast(alice, first.id, 1);
    const second = await carol.batches.create({ input_file_id: (await upload(carol, jsonl(small))).id, endpoint: '/v1/chat/completions', completion_window: '24h' });

    // An interactive request on the same one-slot replica is served while the backlog waits.
    const interactive = await alice.chat.completions.create({ model: 'sim-slow', messages: [{ role: 'user', content: 'Now, please.' }] });
    expect(interactive.choices[0]!.finish_reason).toBe('stop');
    // It waited for the line running when it came, not for the backlog queued before it.
    expect((await alice.batches.retrieve(first.id)).request_counts!.completed).toBeLessThan(big.length / 2);

    const carolDone = await settled(carol, second.id);
    expect(carolDone.status).toBe('completed');
    // Carol's batch, created after Alice's, did not wait for Alice's backlog to drain.
    const aliceNow = await alice.batches.retrieve(first.id);
    expect(aliceNow.request_counts!.completed).toBeLessThan(big.length);
    expect((await settled(alice, first.id)).status).toBe('completed');
  });
});

async function completedAtLeast(client: OpenAI, id: string, count: number) {
  for (;;) {
    const batch = await client.batches.retrieve(id);
    if (batch.request_counts!.completed >= count) return batch;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
