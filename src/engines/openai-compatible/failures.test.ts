import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeUpstream, type FakeUpstream } from '../../../test/support/fake-upstream.js';
import { SkylarkError, type ErrorCode } from '../../core/errors.js';
import { estimateTokens } from '../../core/tokens.js';
import type { ChatGeneration, GenerationPart } from '../engine.js';
import { OpenAICompatibleEngine } from './engine.js';
import { parseRetryAfter } from './upstream-errors.js';

let upstream: FakeUpstream;
let engine: OpenAICompatibleEngine;

beforeAll(async () => {
  upstream = await startFakeUpstream();
  engine = new OpenAICompatibleEngine({ id: 'remote-f', baseUrl: upstream.url, firstByteTimeoutMs: 200, idleTimeoutMs: 200 });
  await engine.start();
});

afterAll(async () => {
  await engine.close();
  await upstream.close();
});

function chat(model: string, stream: boolean, signal = new AbortController().signal): ChatGeneration {
  return { model, messages: [{ role: 'user', content: 'Say hello.' }], signal, requestId: 'req-f', stream };
}

async function collect(parts: AsyncIterable<GenerationPart>): Promise<GenerationPart[]> {
  const out: GenerationPart[] = [];
  for await (const part of parts) out.push(part);
  return out;
}

type Terminal = Extract<GenerationPart, { type: 'finish' | 'error' }>;

/** Asserts exactly one terminal part, last, and returns it. */
function terminal(parts: GenerationPart[]): Terminal {
  const terminals = parts.filter((p): p is Terminal => p.type === 'finish' || p.type === 'error');
  expect(terminals).toHaveLength(1);
  expect(parts.at(-1)).toBe(terminals[0]);
  return terminals[0]!;
}

function errorOf(parts: GenerationPart[]): SkylarkError {
  const last = terminal(parts);
  if (last.type !== 'error') throw new Error(`expected an error part, got ${JSON.stringify(last)}`);
  expect(last.error).toBeInstanceOf(SkylarkError);
  return last.error;
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  if (!condition()) throw new Error(`timed out waiting until ${what}`);
}

const statusCases: [model: string, code: ErrorCode, message: RegExp][] = [
  ['fake-500', 'upstream_error', /HTTP 500/],
  ['fake-429', 'rate_limit_exceeded', /rate limit/i],
  ['fake-400', 'invalid_request', /^temperature must be at most 2$/],
  ['fake-400-context', 'context_length_exceeded', /maximum context length/],
  ['fake-400-vllm-context', 'context_length_exceeded', /maximum context length/],
  ['fake-401', 'upstream_error', /rejected the gateway's credentials/],
  ['fake-403', 'upstream_error', /rejected the gateway's credentials/],
  ['fake-404', 'upstream_error', /'fake-404'/],
  ['fake-413', 'request_too_large', /too large/],
  ['fake-garbage-sse', 'upstream_bad_response', /not valid JSON/],
  ['fake-non-json', 'upstream_bad_response', /./],
  ['fake-no-choices', 'upstream_bad_response', /choices/],
  ['fake-error-in-stream', 'upstream_error', /upstream exploded mid-stream/],
  ['fake-disconnect', 'upstream_error', /closed the stream before it finished/],
];

describe.each([true, false])('failure mapping (stream: %s)', (stream) => {
  it.each(statusCases)('%s → %s', async (model, code, message) => {
    const error = errorOf(await collect(engine.chat(chat(model, stream))));
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
  });

  it('carries Retry-After (seconds) and retry-after-ms as retryAfterMs', async () => {
    expect(errorOf(await collect(engine.chat(chat('fake-429', stream)))).retryAfterMs).toBe(7000);
    expect(errorOf(await collect(engine.chat(chat('fake-429-ms', stream)))).retryAfterMs).toBe(1500);
  });

  it('times out when no headers arrive, and frees the upstream request', async () => {
    expect(errorOf(await collect(engine.chat(chat('fake-slow-headers', stream)))).code).toBe('upstream_timeout');
    await until(() => upstream.activeStreams() === 0, 'the fake saw the request close');
  });

  it('times out when the body goes idle, with the usage so far', async () => {
    const parts = await collect(engine.chat(chat('fake-stall-mid-stream', stream)));
    expect(errorOf(parts).code).toBe('upstream_timeout');
    expect(terminal(parts).usage.completionTokens).toBe(stream ? estimateTokens('Hello fr') : 0);
    await until(() => upstream.activeStreams() === 0, 'the fake saw the request close');
  });
});

describe('usage on failures', () => {
  it('reports the text seen before a mid-stream disconnect', async () => {
    const parts = await collect(engine.chat(chat('fake-disconnect', true)));
    expect(parts.filter((p) => p.type === 'text-delta')).toHaveLength(2);
    expect(terminal(parts)).toMatchObject({
      type: 'error',
      usage: { promptTokens: estimateTokens('Say hello.'), completionTokens: estimateTokens('Hello fr'), cachedPromptTokens: 0 },
    });
  });
});

describe('unreachable upstream', () => {
  it('maps connection refused to engine_unavailable, for generations and embeddings', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const dead = new OpenAICompatibleEngine({ id: 'dead', baseUrl: `http://127.0.0.1:${port}/v1` });
    await dead.start();
    try {
      for (const stream of [true, false]) {
        const parts = await collect(dead.chat(chat('fake-ok', stream)));
        expect(errorOf(parts).code).toBe('engine_unavailable');
        expect(terminal(parts).usage.completionTokens).toBe(0);
      }
      await expect(
        dead.embed({ model: 'fake-ok', input: ['x'], signal: new AbortController().signal, requestId: 'e' }),
      ).rejects.toMatchObject({ code: 'engine_unavailable' });
    } finally {
      await dead.close();
    }
  });
});

describe('abort and close', () => {
  it('ends with finish abort mid-stream and frees the upstream slot', async () => {
    const controller = new AbortController();
    const parts: GenerationPart[] = [];
    for await (const part of engine.chat(chat('fake-stall-mid-stream', true, controller.signal))) {
      parts.push(part);
      if (parts.length === 2) controller.abort();
    }
    expect(parts.slice(0, 2).map((p) => p.type)).toEqual(['text-delta', 'text-delta']);
    expect(terminal(parts)).toEqual({
      type: 'finish',
      finishReason: 'abort',
      usage: { promptTokens: estimateTokens('Say hello.'), completionTokens: estimateTokens('Hello fr'), cachedPromptTokens: 0 },
    });
    await until(() => upstream.activeStreams() === 0, 'the fake saw the stream close');
    expect(engine.capacity().busy).toBe(0);
  });

  it('ends with finish abort while waiting for headers', async () => {
    const controller = new AbortController();
    const pending = collect(engine.chat(chat('fake-slow-headers', true, controller.signal)));
    await until(() => upstream.activeStreams() === 1, 'the fake got the request');
    controller.abort();
    expect(terminal(await pending)).toMatchObject({ type: 'finish', finishReason: 'abort', usage: { completionTokens: 0 } });
    await until(() => upstream.activeStreams() === 0, 'the fake saw the request close');
  });

  it('frees the upstream and the slot when the consumer stops iterating early', async () => {
    for await (const part of engine.chat(chat('fake-stall-mid-stream', true))) {
      expect(part.type).toBe('text-delta');
      break;
    }
    expect(engine.capacity().busy).toBe(0);
    await until(() => upstream.activeStreams() === 0, 'the fake saw the stream close');
  });

  it('sends nothing and bills nothing when already aborted', async () => {
    const before = upstream.requests.length;
    const controller = new AbortController();
    controller.abort();
    const parts = await collect(engine.chat(chat('fake-ok', true, controller.signal)));
    expect(parts).toEqual([{ type: 'finish', finishReason: 'abort', usage: { promptTokens: 0, completionTokens: 0, cachedPromptTokens: 0 } }]);
    expect(upstream.requests.length).toBe(before);
  });

  it('close() ends running generations with engine_unavailable and frees the upstream', async () => {
    const local = new OpenAICompatibleEngine({ id: 'closing', baseUrl: upstream.url });
    await local.start();
    const iterator = local.chat(chat('fake-stall-mid-stream', true))[Symbol.asyncIterator]();
    expect((await iterator.next()).value).toMatchObject({ type: 'text-delta' });
    await local.close();
    const rest: GenerationPart[] = [];
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) rest.push(next.value);
    expect(errorOf(rest.filter((p) => p.type !== 'text-delta')).code).toBe('engine_unavailable');
    await until(() => upstream.activeStreams() === 0, 'the fake saw the stream close');
  });
});

describe('embedding failures', () => {
  const embed = (model: string) =>
    engine.embed({ model, input: ['a'], signal: new AbortController().signal, requestId: 'e' });

  it('throws SkylarkErrors with the same mapping', async () => {
    await expect(embed('fake-429')).rejects.toMatchObject({ code: 'rate_limit_exceeded', retryAfterMs: 7000 });
    await expect(embed('fake-500')).rejects.toMatchObject({ code: 'upstream_error' });
    await expect(embed('fake-401')).rejects.toMatchObject({ code: 'upstream_error' });
    await expect(embed('fake-400-context')).rejects.toMatchObject({ code: 'context_length_exceeded' });
    await expect(embed('fake-slow-headers')).rejects.toMatchObject({ code: 'upstream_timeout' });
  });

  it("rejects with the caller's abort reason and frees the upstream request", async () => {
    const controller = new AbortController();
    const pending = engine.embed({ model: 'fake-slow-headers', input: ['a'], signal: controller.signal, requestId: 'e' });
    await until(() => upstream.activeStreams() === 1, 'the fake got the request');
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    await until(() => upstream.activeStreams() === 0, 'the fake saw the request close');
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds, HTTP dates and retry-after-ms', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(parseRetryAfter({ 'retry-after': '7' }, now)).toBe(7000);
    expect(parseRetryAfter({ 'retry-after': 'Wed, 01 Jan 2025 00:00:30 GMT' }, now)).toBe(30_000);
    expect(parseRetryAfter({ 'retry-after': 'Tue, 31 Dec 2024 00:00:00 GMT' }, now)).toBe(0);
    expect(parseRetryAfter({ 'retry-after-ms': '250', 'retry-after': '7' }, now)).toBe(250);
    expect(parseRetryAfter({ 'retry-after': 'soon' }, now)).toBeUndefined();
    expect(parseRetryAfter({}, now)).toBeUndefined();
  });
});
