/**
 * Two gateways on one PostgreSQL database and one files directory: the batch is run by
 * the gateway holding its lease; when that one stops, the other takes the batch over and
 * finishes it, every line answered and billed once.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI, { toFile } from 'openai';
import { expect, it } from 'vitest';
import { processDatabases } from './support/process-databases.js';
import { startTestPlatform, testAdminKey, type TestPlatform } from './support/platform.js';

const { cleanups, postgresUrl } = processDatabases();

it('runs a batch on one gateway and moves it to the other when that one stops', { timeout: 90_000 }, async () => {
  const url = await postgresUrl();
  const filesDir = await mkdtemp(join(tmpdir(), 'skylark-shared-files-'));
  cleanups.push(() => rm(filesDir, { recursive: true, force: true }));
  const config = {
    engines: { sim: { kind: 'sim', slots: 1, answerTokens: 60 } },
    models: [{ id: 'sim-chat', engine: 'sim', capabilities: ['chat'] }],
    batches: { filesDir, pollMs: 100, leaseMs: 1000, concurrency: 2 },
  };
  const first: TestPlatform = await startTestPlatform(config, { env: { DATABASE_URL: url } });
  cleanups.push(() => first.close());
  const client = (sky: TestPlatform) => new OpenAI({ baseURL: sky.baseURL, apiKey: testAdminKey, maxRetries: 0 });

  const ids = Array.from({ length: 60 }, (_, i) => `g${i}`);
  const input = ids.map((id) => JSON.stringify({ custom_id: id, method: 'POST', url: '/v1/chat/completions', body: { model: 'sim-chat', messages: [{ role: 'user', content: id }] } }));
  const file = await client(first).files.create({ file: await toFile(Buffer.from(input.join('\n')), 'in.jsonl'), purpose: 'batch' });
  const batch = await client(first).batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
  while ((await client(first).batches.retrieve(batch.id)).request_counts!.completed < 5) await new Promise((resolve) => setTimeout(resolve, 50));

  const second = await startTestPlatform(config, { env: { DATABASE_URL: url } });
  cleanups.push(() => second.close());
  const db = second.platform.store.db;
  const ownerBefore = (await db.selectFrom('batches').select('owner').where('id', '=', batch.id).executeTakeFirstOrThrow()).owner;
  expect(ownerBefore).not.toBeNull();
  const before = (await client(first).batches.retrieve(batch.id)).request_counts!.completed;
  expect(before).toBeLessThan(60); // the second gateway has lines left to run
  await first.close(); // gives its lease back; the second gateway's runner takes the batch

  let done;
  for (;;) {
    done = await client(second).batches.retrieve(batch.id);
    if (done.status === 'completed') break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  expect(done.request_counts).toEqual({ total: 60, completed: 60, failed: 0 });
  const text = await (await client(second).files.content(done.output_file_id!)).text();
  expect(text.trim().split('\n').map((line) => (JSON.parse(line) as { custom_id: string }).custom_id)).toEqual(ids);
  const rows = await db.selectFrom('usage_records').select('request_id').where('request_id', 'like', `${batch.id}-%`).execute();
  expect(rows).toHaveLength(60);
});
