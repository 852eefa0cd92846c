/**
 * `skylark batch list|show|cancel` (the built CLI) beside a running gateway on the same
 * data dir: a cancel from the shell reaches the gateway's runner.
 */
import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCliToEnd } from './support/cli-process.js';
import { startTestPlatform, testAdminKey, type TestPlatform } from './support/platform.js';

let sky: TestPlatform;
beforeAll(async () => {
  sky = await startTestPlatform({
    engines: { slow: { kind: 'sim', slots: 1, answerTokens: 200 } },
    models: [{ id: 'sim-slow', engine: 'slow', capabilities: ['chat'] }],
    batches: { pollMs: 100 },
  });
});
afterAll(async () => {
  await sky?.close();
});

const cli = (...args: string[]) => runCliToEnd(['batch', ...args, '--data', sky.dataDir], { SKYLARK_ADMIN_KEY: testAdminKey });

it('lists, shows and cancels batches from the shell', { timeout: 60_000 }, async () => {
  const client = new OpenAI({ baseURL: sky.baseURL, apiKey: testAdminKey, maxRetries: 0 });
  const lines = Array.from({ length: 20 }, (_, i) =>
    JSON.stringify({ custom_id: `c${i}`, method: 'POST', url: '/v1/chat/completions', body: { model: 'sim-slow', messages: [{ role: 'user', content: 'hi' }] } }),
  );
  const file = await client.files.create({ file: await toFile(Buffer.from(lines.join('\n')), 'in.jsonl'), purpose: 'batch' });
  const batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });

  const listed = await cli('list', '--json');
  expect(listed.code, listed.stderr).toBe(0);
  expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ id: batch.id, tenant_id: 'ten_operator', endpoint: '/v1/chat/completions' })]);
  const table = await cli('list');
  expect(table.stdout).toMatch(new RegExp(`^${batch.id}\\s+ten_operator`, 'm'));

  const cancelled = await cli('cancel', batch.id);
  expect(cancelled.code, cancelled.stderr).toBe(0);
  expect(cancelled.stdout).toMatch(/: cancell(ing|ed)\n$/);
  let status = '';
  while (status !== 'cancelled') {
    status = (await client.batches.retrieve(batch.id)).status;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const shown = await cli('show', batch.id);
  expect(shown.stdout).toMatch(/status\s+cancelled/);
  expect(shown.stdout).toMatch(/total\s+20/);
  const again = await cli('cancel', 'batch_missing');
  expect(again.code).toBe(2);
  expect(again.stderr).toContain("No batch found with id 'batch_missing'");
});
