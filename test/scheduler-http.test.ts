/**
 * The scheduler behind HTTP, on simulated GPUs (`sim` engines in real time): a stream that
 * has to wait shows its place in line as SSE comments and then its tokens; a JSON request
 * can be looked up while it waits; what cannot be served in time is refused at once with
 * 429 server_overloaded and Retry-After; a load test over two replicas is served whole.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliToEnd } from './support/cli-process.js';
import { expectOpenAI } from './support/openapi-schemas.js';
import { startTestPlatform, testAdminKey, type TestPlatform } from './support/platform.js';

let sky: TestPlatform;

beforeAll(async () => {
  sky = await startTestPlatform({
    engines: {
      // One slot each: the second request on a replica has to wait.
      gpu1: { kind: 'sim', slots: 1, answerTokens: 40 },
      gpu2: { kind: 'sim', slots: 1, answerTokens: 40 },
      lone: { kind: 'sim', slots: 1, answerTokens: 60 },
    },
    // Refuse on the scheduler's prior too (4 s a request), not only once service is measured.
    scheduler: { minMeasuredToRefuse: 0 },
    costs: { currency: 'CNY', perHour: { gpu1: '18', gpu2: '18', lone: '9' } },
    models: [
      { id: 'sim-8b', engine: ['gpu1', 'gpu2'], tier: 'pro', capabilities: ['chat', 'completions'] },
      { id: 'sim-lone', engine: 'lone', tier: 'lite', capabilities: ['chat'] },
    ],
  });
});

afterAll(async () => {
  await sky?.close();
});

function chat(model: string, extra: Record<string, string> = {}, body: Record<string, unknown> = {}) {
  return fetch(`${sky.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${testAdminKey}`, 'content-type': 'application/json', ...extra },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'Tell me a story.' }], ...body }),
  });
}

/** The raw SSE text, in order, comments included. */
async function sseText(response: Response): Promise<string> {
  return new TextDecoder().decode(await response.arrayBuffer());
}

describe('the scheduler over HTTP', () => {
  it('shows a waiting stream its place in line, then its tokens', async () => {
    const first = chat('sim-lone', {}, { stream: true });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const waiting = await chat('sim-lone', { 'x-skylark-max-wait-ms': '30000' }, { stream: true });
    expect(waiting.status).toBe(200);
    const text = await sseText(waiting);
    await (await first).arrayBuffer();
    const comment = /^: queue position=(\d+) eta_ms=(\d+)$/m.exec(text);
    expect(comment, text.slice(0, 300)).not.toBeNull();
    expect(Number(comment![1])).toBe(1);
    expect(Number(comment![2])).toBeGreaterThan(0);
    // Every comment comes before the first data line, and the stream then completes normally.
    expect(text.indexOf(': queue')).toBeLessThan(text.indexOf('data: '));
    const chunks = text.split('\n').filter((line) => line.startsWith('data: ') && line !== 'data: [DONE]').map((line) => JSON.parse(line.slice(6)));
    for (const chunk of chunks) expectOpenAI('CreateChatCompletionStreamResponse', chunk);
    expect(chunks.map((chunk) => chunk.choices[0]?.delta?.content ?? '').join('').length).toBeGreaterThan(0);
    expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true);
  });

  it('lets a waiting JSON request be looked up by its client id, and reports its queue time', async () => {
    const first = chat('sim-lone');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const second = chat('sim-lone', { 'x-skylark-max-wait-ms': '30000', 'x-client-request-id': 'my-call-1' });
    let seen: { position: number; eta_ms: number } | undefined;
    for (let i = 0; i < 100 && !seen; i++) {
      const response = await sky.request('/v1/queue/my-call-1', { headers: { authorization: `Bearer ${testAdminKey}` } });
      if (response.status === 200) seen = (await response.json()) as typeof seen;
      else await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(seen).toMatchObject({ position: 1 });
    const answered = await second;
    expect(answered.status).toBe(200);
    expectOpenAI('CreateChatCompletionResponse', await answered.json());
    expect(Number(answered.headers.get('x-skylark-queue-ms'))).toBeGreaterThan(0);
    await (await first).arrayBuffer();
    const gone = await sky.request('/v1/queue/my-call-1', { headers: { authorization: `Bearer ${testAdminKey}` } });
    expect(gone.status).toBe(404);
  });

  it('refuses at once, with Retry-After, what cannot start within its deadline', async () => {
    const running = [chat('sim-lone', {}, { max_tokens: 60 }), chat('sim-lone', { 'x-skylark-max-wait-ms': '30000' }, { max_tokens: 60 })];
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    const refused = await chat('sim-lone', { 'x-skylark-max-wait-ms': '1' });
    expect(Date.now() - started).toBeLessThan(1000); // early, not after a timeout
    expect(refused.status).toBe(429);
    const body = (await refused.json()) as { error: { code: string } };
    expectOpenAI('ErrorResponse', body);
    expect(body.error.code).toBe('server_overloaded');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    await Promise.all(running.map(async (response) => (await response).arrayBuffer()));
  });

  it('serves a burst over two replicas, each answer whole, and reports the queue snapshot', async () => {
    const responses = await Promise.all(
      Array.from({ length: 12 }, () => chat('sim-8b', { 'x-skylark-max-wait-ms': '60000' }, { max_tokens: 20 })),
    );
    const bodies = await Promise.all(responses.map(async (response) => ({ status: response.status, body: (await response.json()) as { usage: { completion_tokens: number } } })));
    expect(bodies.map((b) => b.status)).toEqual(Array(12).fill(200));
    for (const { body } of bodies) expect(body.usage.completion_tokens).toBe(20);
    const snapshot = (await (await sky.request('/v1/queue', { headers: { authorization: `Bearer ${testAdminKey}` } })).json()) as {
      models: Array<{ model: string; replicas: Array<{ id: string; breaker: string }> }>;
    };
    const sim = snapshot.models.find((model) => model.model === 'sim-8b');
    expect(sim?.replicas.map((replica) => replica.id).sort()).toEqual(['gpu1', 'gpu2']);
    expect(sim?.replicas.every((replica) => replica.breaker === 'closed')).toBe(true);
  });
});

describe('fallback through an endpoint', () => {
  it("serves with the endpoint's lighter fallback when its model cannot start in time, marked and billed as such", async () => {
    const created = await sky.request('/admin/endpoints', {
      method: 'POST',
      headers: { authorization: `Bearer ${testAdminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ tenant_id: null, model: 'sim-lone', rpm: 1000, fallbacks: ['sim-8b'] }),
    });
    expect(created.status).toBe(201);
    const endpoint = (await created.json()) as { id: string; fallbacks: string[] };
    expect(endpoint.fallbacks).toEqual(['sim-8b']);
    const busy = chat('sim-lone', {}, { max_tokens: 60 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const answered = await chat(endpoint.id, { 'x-skylark-max-wait-ms': '500' }, { max_tokens: 5 });
    expect(answered.status).toBe(200);
    expect(answered.headers.get('x-skylark-fallback')).toBe('sim-8b');
    const body = (await answered.json()) as { model: string };
    expect(body.model).toBe('sim-8b');
    const row = await sky.platform.store.db
      .selectFrom('usage_records')
      .select(['model_id', 'endpoint_id', 'replica_id'])
      .where('request_id', '=', answered.headers.get('x-request-id')!)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ model_id: 'sim-8b', endpoint_id: endpoint.id });
    expect(['gpu1', 'gpu2']).toContain(row.replica_id);
    await (await busy).arrayBuffer();
  });
});

describe('economics', () => {
  it('sets each replica\'s hourly cost against the revenue of the tokens it served', async () => {
    const response = await sky.request('/admin/economics', { headers: { authorization: `Bearer ${testAdminKey}` } });
    expect(response.status).toBe(200);
    const report = (await response.json()) as {
      currency: string;
      data: Array<{ model: string; output_tokens: number; revenue_micros: number; cost_micros: number; margin_micros: number; cost_per_m_output_micros: number }>;
    };
    expect(report.currency).toBe('CNY');
    const sim = report.data.find((row) => row.model === 'sim-8b')!;
    expect(sim.output_tokens).toBeGreaterThanOrEqual(12 * 20);
    expect(sim.revenue_micros).toBeGreaterThan(0); // the pro price
    expect(sim.cost_micros).toBeGreaterThan(0); // two GPUs at ¥18/h since midnight UTC
    expect(sim.margin_micros).toBe(sim.revenue_micros - sim.cost_micros);
    expect(sim.cost_per_m_output_micros).toBeGreaterThan(0);
    const bad = await sky.request('/admin/economics?start_date=yesterday', { headers: { authorization: `Bearer ${testAdminKey}` } });
    expect(bad.status).toBe(400);
    // The CLI prints the same report from the database and the config.
    const cli = await runCliToEnd(['economics', '--data', sky.dataDir, '--config', sky.configPath, '--json'], { DATABASE_URL: '' });
    expect(cli.code, cli.stderr).toBe(0);
    expect(JSON.parse(cli.stdout).data.find((row: { model: string }) => row.model === 'sim-8b')).toMatchObject({
      output_tokens: sim.output_tokens,
      revenue_micros: sim.revenue_micros,
    });
  });
});
