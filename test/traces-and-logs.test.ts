/**
 * One platform with OTEL_EXPORTER_OTLP_ENDPOINT pointing at a fake OTLP/HTTP collector on
 * 127.0.0.1, REDIS_URL set (funds holds and rate limits in Redis) and its log captured:
 * spans carry the GenAI attributes, Redis calls are timed, and every log line of a request
 * carries that request's id.
 */
import { createServer, type Server } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { pino } from 'pino';
import { stringify } from 'yaml';
import { startPlatform, type Platform } from '../src/main.js';
import { Ledger } from '../src/billing/ledger.js';
import { testAdminKey, tinyModelConfig } from './support/platform.js';
import { parsePrometheusText, total } from './support/prometheus-text.js';
import { freePort } from './support/postgres.js';
import { redisUrlKey, startRedis, type RedisServer } from './support/redis.js';
import { tenantWithKey } from './support/tenants.js';

interface OtlpSpan {
  name: string;
  kind: number;
  traceId: string;
  parentSpanId?: string;
  attributes: { key: string; value: { stringValue?: string; intValue?: string | number; doubleValue?: number } }[];
  status?: { code?: number };
}

let collector: Server;
const exports: { contentType: string | undefined; body: unknown }[] = [];
let platform: Platform;
let dir: string;
let ownRedis: RedisServer | undefined;
const lines: Record<string, unknown>[] = [];

beforeAll(async () => {
  collector = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      if (request.method === 'POST' && request.url === '/v1/traces') exports.push({ contentType: request.headers['content-type'], body: JSON.parse(body) });
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
  const collectorPort = (collector.address() as { port: number }).port;

  const redis = inject(redisUrlKey as 'skylarkRedisUrl');
  const redisUrl = typeof redis === 'string' && redis !== '' ? redis : (ownRedis = await startRedis()).url;
  dir = await mkdtemp(join(tmpdir(), 'skylark-traces-'));
  const configPath = join(dir, 'skylark.yaml');
  const tiny = tinyModelConfig({ parallel: 2, contextSize: 2048 }) as { engines: object; models: object[] };
  const deadPort = await freePort(); // nothing listens there: the upstream fails at once
  await writeFile(configPath, stringify({
    server: { shutdownGraceMs: 2000 },
    engines: { ...tiny.engines, gone: { kind: 'openai-compatible', baseUrl: `http://127.0.0.1:${deadPort}/v1` } },
    models: [...tiny.models, { id: 'gone-model', engine: 'gone', capabilities: ['chat'] }],
  }));
  const sink = { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) };
  platform = await startPlatform({
    dataDir: dir,
    configPath,
    host: '127.0.0.1',
    port: 0,
    env: {
      SKYLARK_ADMIN_KEY: testAdminKey,
      REDIS_URL: redisUrl,
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${collectorPort}`,
      OTEL_SERVICE_NAME: 'skylark-test',
    },
    logger: pino({ level: 'debug' }, sink),
  });
  await platform.enginesLoaded;
});

afterAll(async () => {
  await platform?.close();
  await new Promise((resolve) => collector?.close(resolve));
  await ownRedis?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const chat = (key: string, body: Record<string, unknown>, headers: Record<string, string> = {}) =>
  fetch(`${platform.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ messages: [{ role: 'user', content: 'Count: 4' }], ...body }),
  });

/** Lines logged from the moment `run` starts until its response has been read. */
async function logged(run: () => Promise<Response>): Promise<{ response: Response; lines: Record<string, unknown>[] }> {
  const from = lines.length;
  const response = await run();
  await response.text();
  return { response, lines: lines.slice(from) };
}

describe('request ids in the log', () => {
  it('every line logged while a request runs carries its id as reqId, failures included', async () => {
    const ok = await logged(() => chat(testAdminKey, { model: 'skylark-tiny', max_tokens: 4 }));
    expect(ok.response.status).toBe(200);
    const failed = await logged(() => chat(testAdminKey, { model: 'gone-model' }));
    expect(failed.response.status).toBeGreaterThanOrEqual(500);
    for (const { response, lines: mine } of [ok, failed]) {
      const id = response.headers.get('x-request-id');
      expect(id).toMatch(/^[0-9A-Za-z]{24}$/);
      expect(mine.length).toBeGreaterThan(0);
      for (const line of mine) expect(line, JSON.stringify(line)).toMatchObject({ reqId: id });
    }
    expect(ok.lines.map((line) => line.msg)).toContain('generation');
    expect(failed.lines.map((line) => line.msg)).toEqual(expect.arrayContaining(['generation', 'request failed']));
  });
});

describe('OpenTelemetry spans', () => {
  it('a chat request becomes a `chat {model}` span with the GenAI attributes, child of the caller’s trace', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const response = await chat(testAdminKey, { model: 'skylark-tiny', max_tokens: 5, temperature: 0 }, { traceparent: `00-${traceId}-00f067aa0ba902b7-01` });
    expect(response.status).toBe(200);
    const answer = (await response.json()) as { usage: { prompt_tokens: number; completion_tokens: number } };
    const requestId = response.headers.get('x-request-id');
    const gone = await chat(testAdminKey, { model: 'gone-model', max_tokens: 3 });
    await gone.text();
    // Shutting down flushes the batch of spans to the collector.
    await platform.close();

    expect(exports.length).toBeGreaterThan(0);
    expect(exports.every((e) => e.contentType?.startsWith('application/json'))).toBe(true);
    const resourceSpans = exports.flatMap((e) => (e.body as { resourceSpans: { resource: { attributes: OtlpSpan['attributes'] }; scopeSpans: { spans: OtlpSpan[] }[] }[] }).resourceSpans);
    const spans = resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans));
    expect(resourceSpans[0]!.resource.attributes).toContainEqual({ key: 'service.name', value: { stringValue: 'skylark-test' } });
    const attrs = (span: OtlpSpan) => Object.fromEntries(span.attributes.map(({ key, value }) => [key, value.stringValue ?? (value.intValue !== undefined ? Number(value.intValue) : value.doubleValue)]));

    const span = spans.find((s) => attrs(s)['skylark.request_id'] === requestId)!;
    expect(span.name).toBe('chat skylark-tiny');
    expect(span.kind).toBe(2); // SERVER
    expect(span.traceId).toBe(traceId);
    expect(span.parentSpanId).toBe('00f067aa0ba902b7');
    expect(attrs(span)).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': 'skylark-tiny',
      'gen_ai.response.model': 'skylark-tiny',
      'gen_ai.request.max_tokens': 5,
      'gen_ai.request.temperature': 0,
      'gen_ai.usage.input_tokens': answer.usage.prompt_tokens,
      'gen_ai.usage.output_tokens': answer.usage.completion_tokens,
      'server.address': '127.0.0.1',
      'http.response.status_code': 200,
    });
    expect(attrs(span)['error.type']).toBeUndefined();

    const failed = spans.find((s) => attrs(s)['gen_ai.request.model'] === 'gone-model')!;
    expect(failed.name).toBe('chat gone-model');
    expect(typeof attrs(failed)['error.type']).toBe('string');
    expect(failed.status?.code).toBe(2); // ERROR
  });
});

describe('Redis latency', () => {
  it('times the funds and rate-limit scripts of a paid request', async () => {
    // A fresh platform on the same Redis: the one above is closed by the span test.
    const second = await startPlatform({
      dataDir: dir,
      configPath: join(dir, 'skylark.yaml'),
      host: '127.0.0.1',
      port: 0,
      env: { SKYLARK_ADMIN_KEY: testAdminKey, REDIS_URL: redisUrlOf() },
      logger: pino({ level: 'silent' }),
    });
    try {
      await second.enginesLoaded;
      const { tenant, key } = await tenantWithKey(second.store.db, { rpm: 1000, tpm: 1_000_000 });
      await new Ledger(second.store.db).topUp(tenant.id, 10_000_000, 'test');
      const response = await fetch(`${second.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'skylark-tiny', max_tokens: 4, messages: [{ role: 'user', content: 'Count: 1' }] }),
      });
      expect(response.status).toBe(200);
      await response.text();
      const families = parsePrometheusText(await second.metrics!.render().then((r) => r.body));
      expect(total(families, 'skylark_redis_duration_seconds_count', { store: 'funds', outcome: 'ok' })).toBeGreaterThanOrEqual(2); // hold + finish
      expect(total(families, 'skylark_redis_duration_seconds_count', { store: 'limits', outcome: 'ok' })).toBeGreaterThanOrEqual(1); // admit
    } finally {
      await second.close();
    }
  });
});

function redisUrlOf(): string {
  const redis = inject(redisUrlKey as 'skylarkRedisUrl');
  return typeof redis === 'string' && redis !== '' ? redis : ownRedis!.url;
}
