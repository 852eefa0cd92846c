import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, testAdminKey, tinyModelConfig, type TestPlatform } from './support/platform.js';
import { sseData } from './support/sse.js';
import { tinyTokenId } from './support/tiny-vocab.js';

let sky: TestPlatform;

beforeAll(async () => {
  sky = await startTestPlatform(tinyModelConfig({ parallel: 8, contextSize: 4096 }));
});

afterAll(async () => {
  await sky?.close();
});

async function engineCapacity(): Promise<{ slots: number; busy: number }> {
  const body = await sky.request('/admin/engines').then((r) => r.json());
  return body.data[0].capacity;
}

/** A request that would run for thousands of tokens: '.' (the only way to end) is banned. */
async function endlessBody(stream: boolean) {
  return JSON.stringify({
    model: 'skylark-tiny',
    messages: [{ role: 'user', content: 'abc' }],
    temperature: 0,
    max_tokens: 3500,
    logit_bias: { [await tinyTokenId('.')]: -100 },
    stream,
  });
}

describe('concurrency on one llama.cpp context', () => {
  it('finishes 32 concurrent streams, each with its own exact answer and usage', async () => {
    const runs = Array.from({ length: 32 }, async (_, i) => {
      const digit = i % 9;
      const stream = await sky.client.chat.completions.create({
        model: 'skylark-tiny',
        messages: [{ role: 'user', content: `Count: ${digit}` }],
        temperature: 0,
        stream: true,
        stream_options: { include_usage: true },
      });
      let text = '';
      let usage;
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta.content ?? '';
        usage = chunk.usage ?? usage;
      }
      const expected = '0123456789'.slice(digit + 1) + '.';
      return { text, expected, usage };
    });
    const results = await Promise.all(runs);
    for (const { text, expected, usage } of results) {
      expect(text).toBe(expected);
      expect(usage).toMatchObject({ prompt_tokens: 17, completion_tokens: expected.length + 1 });
    }
    expect(await engineCapacity()).toEqual({ slots: 8, busy: 0 });
  });

  it('stops generating and frees the slot when a streaming client disconnects', async () => {
    const controller = new AbortController();
    const response = await fetch(`${sky.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${testAdminKey}`, 'content-type': 'application/json' },
      body: await endlessBody(true),
      signal: controller.signal,
    });
    expect(response.status).toBe(200);
    let events = 0;
    for await (const _data of sseData(response)) {
      if (++events >= 3) break;
    }
    expect((await engineCapacity()).busy).toBe(1);
    controller.abort();
    await expect.poll(async () => (await engineCapacity()).busy, { timeout: 5000, interval: 20 }).toBe(0);
  });

  it('frees the slot when a non-streaming client disconnects', async () => {
    const controller = new AbortController();
    const pending = fetch(`${sky.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${testAdminKey}`, 'content-type': 'application/json' },
      body: await endlessBody(false),
      signal: controller.signal,
    }).catch(() => undefined);
    await expect.poll(async () => (await engineCapacity()).busy, { timeout: 5000, interval: 10 }).toBe(1);
    controller.abort();
    await pending;
    await expect.poll(async () => (await engineCapacity()).busy, { timeout: 5000, interval: 20 }).toBe(0);
  });

  it('queues requests beyond the slot count and serves them all', async () => {
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        sky.client.completions.create({ model: 'skylark-tiny', prompt: 'Count: 5', temperature: 0 }),
      ),
    );
    expect(answers.map((a) => a.choices[0]!.text)).toEqual(Array(20).fill('6789.'));
  });
});
