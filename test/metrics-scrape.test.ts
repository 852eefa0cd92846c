import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, testAdminKey, tinyModelConfig, type TestPlatform } from './support/platform.js';
import { parsePrometheusText, total, type Family } from './support/prometheus-text.js';
import { tenantWithKey } from './support/tenants.js';
import { expectOpenAI } from './support/openapi-schemas.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './support/cli-process.js';

let sky: TestPlatform;

beforeAll(async () => {
  sky = await startTestPlatform({ ...tinyModelConfig({ parallel: 2, contextSize: 2048 }), server: { shutdownGraceMs: 2000, metricsPort: 0 } });
});

afterAll(async () => {
  await sky?.close();
});

async function scrape(): Promise<Map<string, Family>> {
  const response = await sky.request('/metrics');
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(await response.text());
}

const chat = (body: Record<string, unknown>, key = testAdminKey) =>
  fetch(`${sky.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'skylark-tiny', messages: [{ role: 'user', content: 'Count: 3' }], temperature: 0, max_tokens: 6, ...body }),
  });

/** How much a standard-tier refusal reason of skylark-tiny moved between two scrapes. */
const rejectionsMoved = (before: Map<string, Family>, after: Map<string, Family>) => (reason: string) =>
  total(after, 'skylark_early_rejections_total', { model: 'skylark-tiny', tier: 'standard', reason }) -
  total(before, 'skylark_early_rejections_total', { model: 'skylark-tiny', tier: 'standard', reason });

describe('GET /metrics', () => {
  it('parses strictly and its request, token, TTFT and ledger series move when requests run on the tiny model', async () => {
    const before = await scrape();
    const json = await chat({});
    expect(json.status).toBe(200);
    const answer = (await json.json()) as { usage: { prompt_tokens: number; completion_tokens: number } };
    const stream = await chat({ stream: true, stream_options: { include_usage: true } });
    const events = (await stream.text()).split('\n').filter((line) => line.startsWith('data: {')).map((line) => JSON.parse(line.slice(6)));
    const streamUsage = events.at(-1).usage as { prompt_tokens: number; completion_tokens: number };
    const after = await scrape();

    const moved = (name: string, labels: Record<string, string> = {}) => total(after, name, labels) - total(before, name, labels);
    // The scrapes themselves are requests too: count only the chat route.
    expect(moved('skylark_http_requests_total', { route: '/v1/chat/completions', model: 'skylark-tiny', status: '200' })).toBe(2);
    expect(moved('skylark_http_request_duration_seconds_count', { route: '/v1/chat/completions', status: '200' })).toBe(2);
    const tokens = { gen_ai_operation_name: 'chat', gen_ai_request_model: 'skylark-tiny', gen_ai_response_model: 'skylark-tiny' };
    expect(moved('gen_ai_client_token_usage_count', { ...tokens, gen_ai_token_type: 'input' })).toBe(2);
    expect(moved('gen_ai_client_token_usage_sum', { ...tokens, gen_ai_token_type: 'input' })).toBe(answer.usage.prompt_tokens + streamUsage.prompt_tokens);
    expect(moved('gen_ai_client_token_usage_sum', { ...tokens, gen_ai_token_type: 'output' })).toBe(answer.usage.completion_tokens + streamUsage.completion_tokens);
    expect(moved('gen_ai_server_time_to_first_token_seconds_count', { gen_ai_request_model: 'skylark-tiny' })).toBe(2);
    expect(moved('gen_ai_server_time_per_output_token_seconds_count', { gen_ai_request_model: 'skylark-tiny' })).toBe(2);
    expect(moved('gen_ai_client_operation_duration_seconds_count', { gen_ai_request_model: 'skylark-tiny', error_type: '' })).toBe(2);
    expect(moved('skylark_queue_wait_seconds_count', { model: 'skylark-tiny' })).toBe(2);
    expect(moved('skylark_ledger_write_lag_seconds_count')).toBe(2);

    // State read at scrape time: the replica's slots from engine capacity(), its breaker, the ledger queue.
    expect(total(after, 'skylark_replica_slots', { replica: 'local', kind: 'llama-cpp' })).toBe(2);
    expect(total(after, 'skylark_replica_busy', { replica: 'local' })).toBe(0);
    expect(total(after, 'skylark_replica_health', { replica: 'local', state: 'ready' })).toBe(1);
    expect(total(after, 'skylark_replica_breaker_state', { model: 'skylark-tiny', replica: 'local', state: 'closed' })).toBe(1);
    expect(after.get('skylark_queue_depth')?.type).toBe('gauge');
    expect(after.get('skylark_ledger_write_queue_length')?.samples[0]?.value).toBe(0);
    expect(after.get('skylark_scheduler_leases')?.type).toBe('gauge');
    // Default process metrics.
    expect(after.get('process_cpu_user_seconds_total')?.type).toBe('counter');
    expect(after.get('nodejs_eventloop_lag_seconds')?.type).toBe('gauge');
  });

  it('counts early rejections by model, tier and reason', async () => {
    // A key of a tenant with no balance: the first request is refused for funds, the next by its RPM.
    const { key } = await tenantWithKey(sky.platform.store.db, { rpm: 1 });
    const before = await scrape();
    expect((await chat({}, key)).status).toBe(402);
    expect((await chat({}, key)).status).toBe(429);
    const moved = rejectionsMoved(before, await scrape());
    expect(moved('insufficient_quota')).toBe(1);
    expect(moved('rate_limited')).toBe(1);
  });

  it('counts refusals on /v1/messages too, which answer in Anthropic\'s error shape', async () => {
    const { key } = await tenantWithKey(sky.platform.store.db, { rpm: 1 });
    const before = await scrape();
    const message = () =>
      fetch(`${sky.url}/v1/messages`, {
        method: 'POST',
        headers: { 'x-api-key': key, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'skylark-tiny', max_tokens: 6, messages: [{ role: 'user', content: 'Count: 3' }] }),
      });
    const refused = await message();
    expect(refused.status).toBe(402);
    expect(((await refused.json()) as { type: string }).type).toBe('error');
    expect((await message()).status).toBe(429);
    const moved = rejectionsMoved(before, await scrape());
    expect(moved('insufficient_quota')).toBe(1);
    expect(moved('rate_limited')).toBe(1);
  });

  it('a model id the catalog does not know never becomes a label value', async () => {
    expect((await chat({ model: 'made-up-model-xyz' })).status).toBe(404);
    const text = await (await sky.request('/metrics')).text();
    expect(text).not.toContain('made-up-model-xyz');
    expect(total(parsePrometheusText(text), 'skylark_http_requests_total', { route: '/v1/chat/completions', model: '', status: '404' })).toBe(1);
  });

  it('needs the admin key on the API port: 401 without a key, 403 with a tenant key', async () => {
    const none = await fetch(`${sky.url}/metrics`);
    expect(none.status).toBe(401);
    expectOpenAI('ErrorResponse', await none.json());
    const { key } = await tenantWithKey(sky.platform.store.db);
    const tenant = await fetch(`${sky.url}/metrics`, { headers: { authorization: `Bearer ${key}` } });
    expect(tenant.status).toBe(403);
    expect(((await tenant.json()) as { error: { code: string } }).error.code).toBe('permission_denied');
  });

  it('is served without a key on server.metricsPort, and only /metrics is', async () => {
    const metricsUrl = sky.platform.metricsUrl!;
    expect(metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(metricsUrl).not.toBe(sky.url);
    const response = await fetch(`${metricsUrl}/metrics`);
    expect(response.status).toBe(200);
    const families = parsePrometheusText(await response.text());
    expect(families.get('skylark_http_requests_total')?.type).toBe('counter');
    expect((await fetch(`${metricsUrl}/v1/models`)).status).toBe(404);
  });
});

describe('skylark serve --metrics-port', () => {
  it('opens the unauthenticated metrics listener and says where', async () => {
    const data = await mkdtemp(join(tmpdir(), 'skylark-metrics-cli-'));
    const proc = runCli(['serve', '--port', '0', '--metrics-port', '0', '--data', data], { SKYLARK_ADMIN_KEY: testAdminKey });
    try {
      await proc.listening;
      let match: RegExpExecArray | null = null;
      while (!(match = /Prometheus metrics \(no key\) on (http:\/\/\S+)\/metrics/.exec(proc.stderr())) && proc.child.exitCode === null) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const response = await fetch(`${match![1]}/metrics`);
      expect(response.status).toBe(200);
      expect(parsePrometheusText(await response.text()).get('skylark_replica_slots')?.type).toBe('gauge');
      proc.child.kill('SIGTERM');
      expect(await proc.exited).toBe(0);
    } finally {
      if (proc.child.exitCode === null) proc.child.kill('SIGKILL');
      await rm(data, { recursive: true, force: true });
    }
  });
});
