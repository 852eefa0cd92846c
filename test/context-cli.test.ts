/**
 * `skylark context list|show|delete` and `skylark price set --context-storage` (the built
 * CLI) beside a running gateway on the same data dir: a delete from the shell frees the
 * context the gateway serves and charges its storage, and the ledger still verifies.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCliToEnd } from './support/cli-process.js';
import { startTestPlatform, testAdminKey, tinyModelConfig, type TestPlatform } from './support/platform.js';

let sky: TestPlatform;
beforeAll(async () => {
  sky = await startTestPlatform(tinyModelConfig({ parallel: 2, contextSize: 2048 }));
});
afterAll(async () => {
  await sky?.close();
});

const cli = (...args: string[]) => runCliToEnd([...args, '--data', sky.dataDir], { SKYLARK_ADMIN_KEY: testAdminKey });

it('sets the storage price, lists, shows and deletes contexts from the shell', { timeout: 120_000 }, async () => {
  const price = await cli('price', 'set', 'skylark-tiny', '--input', '1', '--output', '2', '--context-storage', '3600', '--json');
  expect(price.code, price.stderr).toBe(0);
  expect(JSON.parse(price.stdout)).toMatchObject({ modelId: 'skylark-tiny', contextStoragePerMHourMicros: 3_600_000_000, contextStorage: '3600.000000' });
  const prices = await cli('price', 'list');
  expect(prices.stdout).toMatch(/CTX\/1M\/H/);
  expect(prices.stdout).toMatch(/^skylark-tiny .* 3600\.000000 /m);

  const client = new OpenAI({ baseURL: sky.baseURL, apiKey: testAdminKey, maxRetries: 0 });
  const context = await client.post<{ id: string; tokens: number }>('/context/create', {
    body: { model: 'skylark-tiny', mode: 'common_prefix', messages: [{ role: 'system', content: 'You count.' }], ttl: 3600 },
  });

  const listed = await cli('context', 'list', '--json');
  expect(listed.code, listed.stderr).toBe(0);
  expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ id: context.id, tenantId: 'ten_operator', model: 'skylark-tiny', mode: 'common_prefix', tokens: context.tokens, messageCount: 1 })]);
  const table = await cli('context', 'list');
  expect(table.stdout).toMatch(new RegExp(`^${context.id}\\s+ten_operator\\s+skylark-tiny\\s+common_prefix`, 'm'));
  const shown = await cli('context', 'show', context.id);
  expect(shown.stdout).toMatch(/status\s+active/);

  const deleted = await cli('context', 'delete', context.id, '--json');
  expect(deleted.code, deleted.stderr).toBe(0);
  const freed = JSON.parse(deleted.stdout) as { status: string; storageChargedMicros: number; freedAt: number; createdAt: number };
  expect(freed.status).toBe('deleted');
  expect(freed.storageChargedMicros).toBe(Math.floor((context.tokens * (freed.freedAt - freed.createdAt) * 3_600_000_000) / 3_600_000_000_000));
  const gone = await fetch(`${sky.baseURL}/contexts/${context.id}`, { headers: { authorization: `Bearer ${testAdminKey}` } });
  expect(gone.status).toBe(404);
  const again = await cli('context', 'delete', context.id);
  expect(again.code).toBe(2);
  expect(again.stderr).toContain(`no context '${context.id}'`);
  expect((await cli('context', 'list', '--status', 'deleted')).stdout).toContain(context.id);

  await sky.platform.usageWriter.flush();
  const verified = await cli('ledger', 'verify');
  expect(verified.code, verified.stdout + verified.stderr).toBe(0);
});
