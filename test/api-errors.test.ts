import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeUpstream, type FakeUpstream } from './support/fake-upstream.js';
import { expectOpenAI } from './support/openapi-schemas.js';
import { startTestPlatform, testAdminKey, type TestPlatform } from './support/platform.js';

let upstream: FakeUpstream;
let sky: TestPlatform;

beforeAll(async () => {
  upstream = await startFakeUpstream();
  sky = await startTestPlatform({
    server: { bodyLimit: '16kb' },
    engines: { remote: { kind: 'openai-compatible', baseUrl: upstream.url } },
    models: [{ id: 'pro-32k', engine: 'remote', upstreamModel: 'fake-ok', capabilities: ['chat'] }],
  });
});

afterAll(async () => {
  await sky?.close();
  await upstream?.close();
});

async function post(path: string, body: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${sky.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${testAdminKey}`, 'content-type': 'application/json', ...headers },
    body,
  });
  const json = await response.json();
  expectOpenAI('ErrorResponse', json);
  return { status: response.status, error: json.error as { message: string; type: string; param: string | null; code: string } };
}

const chat = (extra: Record<string, unknown>) =>
  JSON.stringify({ model: 'pro-32k', messages: [{ role: 'user', content: 'hi' }], ...extra });

describe('errors in the OpenAI shape', () => {
  it('401 without a key or with a wrong one, without leaking the key', async () => {
    const missing = await fetch(`${sky.baseURL}/models`);
    expect(missing.status).toBe(401);
    expect((await missing.json()).error.code).toBe('invalid_api_key');
    const wrong = await post('/v1/chat/completions', chat({}), { authorization: 'Bearer sk-wrong-key-123456' });
    expect(wrong.status).toBe(401);
    expect(wrong.error.message).not.toContain('sk-wrong-key-123456');
  });

  it('404 model_not_found for an unknown model, naming the param', async () => {
    const { status, error } = await post('/v1/chat/completions', chat({ model: 'nope' }));
    expect(status).toBe(404);
    expect(error).toMatchObject({ code: 'model_not_found', param: 'model', type: 'invalid_request_error' });
    const get = await sky.request('/v1/models/nope');
    expect(get.status).toBe(404);
  });

  it('400 invalid_json for a malformed body', async () => {
    const { status, error } = await post('/v1/chat/completions', '{"model": "pro-32k", ');
    expect(status).toBe(400);
    expect(error.code).toBe('invalid_json');
  });

  it('400 with param naming the field for wrong types and ranges', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ messages: [{ role: 'user', content: 42 }] }, 'messages[0].content'],
      [{ messages: [{ role: 'wizard', content: 'x' }] }, 'messages[0].role'],
      [{ messages: [] }, 'messages'],
      [{ temperature: 'hot' }, 'temperature'],
      [{ temperature: 3 }, 'temperature'],
      [{ max_tokens: -1 }, 'max_tokens'],
      [{ stop: ['a', 'b', 'c', 'd', 'e'] }, 'stop'],
      [{ tools: [{ type: 'function', function: { name: 'bad name!' } }] }, 'tools[0].function.name'],
      [{ n: 2 }, 'n'],
      [{ model: 7 }, 'model'],
    ];
    for (const [extra, param] of cases) {
      const { status, error } = await post('/v1/chat/completions', chat(extra));
      expect({ extra, status, param: error.param }).toEqual({ extra, status: 400, param });
      expect(error.message.length).toBeGreaterThan(10);
    }
    const missing = await post('/v1/chat/completions', JSON.stringify({ model: 'pro-32k' }));
    expect(missing.error).toMatchObject({ param: 'messages', message: 'Missing required parameter: \'messages\'.' });
  });

  it('400 for a model without the capability the endpoint needs', async () => {
    const { status, error } = await post('/v1/embeddings', JSON.stringify({ model: 'pro-32k', input: 'x' }));
    expect(status).toBe(400);
    expect(error.param).toBe('model');
  });

  it('413 for a body over the configured limit', async () => {
    const { status, error } = await post('/v1/chat/completions', chat({ pad: 'x'.repeat(32 * 1024) }));
    expect(status).toBe(413);
    expect(error.code).toBe('request_too_large');
  });

  it('415 for a body that is not JSON', async () => {
    const { status, error } = await post('/v1/chat/completions', 'hello', { 'content-type': 'text/plain' });
    expect(status).toBe(415);
    expect(error.code).toBe('unsupported_media_type');
  });

  it('404 JSON for unknown routes', async () => {
    const response = await sky.request('/v1/nothing-here');
    expect(response.status).toBe(404);
    expect((await response.json()).error.code).toBe('not_found');
  });

  it('stays up and keeps serving after all of the above', async () => {
    const response = await sky.client.chat.completions.create({ model: 'pro-32k', messages: [{ role: 'user', content: 'x' }] });
    expect(response.choices[0]!.message.content).toBe('Hello from upstream.');
    expect((await fetch(`${sky.url}/healthz`)).status).toBe(200);
  });
});
