/**
 * A fake OpenAI-compatible upstream on 127.0.0.1 for tests and benchmarks. Behaviour is
 * picked by the request's `model` (see `fakeModels`), so callers drive every failure mode
 * without reconfiguring. Success bodies are built once at start: the hot path is parse
 * the request body, pick a scenario, write precomputed bytes.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeUpstreamOptions {
  /** The generated text (default "Hello from upstream."). */
  text?: string;
  /** How many pieces the text streams in (default 5); also the reported completion_tokens. */
  chunks?: number;
  /** Reported prompt_tokens (default 17). */
  promptTokens?: number;
  /** Reported prompt_tokens_details.cached_tokens (default 4). */
  cachedTokens?: number;
  /** Delay between streamed chunks (default 0: the whole stream is written at once). */
  chunkDelayMs?: number;
  /** Keep the last this-many requests in `requests` (default 1000; 0 records nothing). */
  maxRecorded?: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: unknown;
}

export interface FakeUpstream {
  /** Base URL including /v1, e.g. http://127.0.0.1:PORT/v1 */
  url: string;
  requests: RecordedRequest[];
  /** Streaming (or deliberately held-open) responses not yet closed. */
  activeStreams(): number;
  /** TCP connections accepted so far (keep-alive reuse keeps this low). */
  connections(): number;
  close(): Promise<void>;
}

export const fakeModels = [
  'fake-ok', 'fake-500', 'fake-429', 'fake-429-ms', 'fake-400', 'fake-400-context', 'fake-400-vllm-context',
  'fake-401', 'fake-403', 'fake-404', 'fake-413', 'fake-slow-headers', 'fake-stall-mid-stream',
  'fake-garbage-sse', 'fake-non-json', 'fake-no-choices', 'fake-disconnect', 'fake-no-usage', 'fake-tools',
  'fake-reasoning', 'fake-error-in-stream',
] as const;

type Kind = 'chat' | 'completion';
type Json = Record<string, unknown>;

interface ErrorReply {
  status: number;
  headers?: Record<string, string>;
  body: string;
}

const errorReplies: Record<string, ErrorReply> = {
  'fake-500': reply(500, { error: { message: 'fake internal error', type: 'server_error', code: null } }),
  'fake-429': reply(429, { error: { message: 'Rate limit reached', type: 'rate_limit_error', code: 'rate_limit_exceeded' } }, { 'retry-after': '7' }),
  'fake-429-ms': reply(429, { error: { message: 'Slow down', type: 'rate_limit_error' } }, { 'retry-after-ms': '1500' }),
  'fake-400': reply(400, { error: { message: 'temperature must be at most 2', type: 'invalid_request_error', param: 'temperature', code: null } }),
  'fake-400-context': reply(400, {
    error: {
      message: "This model's maximum context length is 4096 tokens. However, your messages resulted in 5000 tokens.",
      type: 'invalid_request_error', param: 'messages', code: 'context_length_exceeded',
    },
  }),
  'fake-400-vllm-context': reply(400, {
    object: 'error', type: 'BadRequestError', param: null, code: 400,
    message: "This model's maximum context length is 2048 tokens. However, you requested 4000 tokens (3000 in the messages, 1000 in the completion).",
  }),
  'fake-401': reply(401, { error: { message: 'Incorrect API key provided', type: 'invalid_request_error', code: 'invalid_api_key' } }),
  'fake-403': reply(403, { error: { message: 'Forbidden', type: 'permission_error' } }),
  'fake-404': reply(404, { error: { message: 'The model does not exist', type: 'invalid_request_error', code: 'model_not_found' } }),
  'fake-413': reply(413, { error: { message: 'Request body too large', type: 'invalid_request_error' } }),
};

function reply(status: number, body: unknown, headers?: Record<string, string>): ErrorReply {
  return { status, body: JSON.stringify(body), ...(headers ? { headers } : {}) };
}

const sse = (value: unknown): string => `data: ${typeof value === 'string' ? value : JSON.stringify(value)}\n\n`;

function split(text: string, n: number): string[] {
  const size = Math.max(1, Math.ceil(text.length / n));
  const pieces: string[] = [];
  for (let i = 0; i < text.length; i += size) pieces.push(text.slice(i, i + size));
  return pieces;
}

interface Script {
  /** SSE events before the usage chunk (finish chunk included). */
  events: string[];
  usage: string | undefined;
  json: string;
}

function buildScripts(o: Required<Omit<FakeUpstreamOptions, 'chunkDelayMs' | 'maxRecorded'>>): Record<Kind, Record<string, Script>> {
  const pieces = split(o.text, o.chunks);
  const usage = { prompt_tokens: o.promptTokens, completion_tokens: pieces.length, total_tokens: o.promptTokens + pieces.length, prompt_tokens_details: { cached_tokens: o.cachedTokens } };
  const chatChunk = (delta: Json, finish: string | null = null): Json => ({
    id: 'chatcmpl-fake', object: 'chat.completion.chunk', created: 1, model: 'fake',
    choices: [{ index: 0, delta, finish_reason: finish }],
  });
  const textChunk = (text: string, finish: string | null = null): Json => ({
    id: 'cmpl-fake', object: 'text_completion', created: 1, model: 'fake',
    choices: [{ index: 0, text, finish_reason: finish, logprobs: null }],
  });
  const usageChunk = (kind: Kind, u: Json): string => sse({ id: 'x', object: kind === 'chat' ? 'chat.completion.chunk' : 'text_completion', created: 1, model: 'fake', choices: [], usage: u });
  const chatJson = (message: Json, finish: string, u?: Json): string => JSON.stringify({
    id: 'chatcmpl-fake', object: 'chat.completion', created: 1, model: 'fake',
    choices: [{ index: 0, message: { role: 'assistant', ...message }, finish_reason: finish }], ...(u ? { usage: u } : {}),
  });
  const textJson = (u?: Json): string => JSON.stringify({
    id: 'cmpl-fake', object: 'text_completion', created: 1, model: 'fake',
    choices: [{ index: 0, text: o.text, finish_reason: 'stop', logprobs: null }], ...(u ? { usage: u } : {}),
  });

  const chatOk: Script = {
    events: [...pieces.map((p, i) => sse(chatChunk(i === 0 ? { role: 'assistant', content: p } : { content: p }))), sse(chatChunk({}, 'stop'))],
    usage: usageChunk('chat', usage),
    json: chatJson({ content: o.text }, 'stop', usage),
  };
  const textOk: Script = {
    events: [...pieces.map((p) => sse(textChunk(p))), sse(textChunk('', 'stop'))],
    usage: usageChunk('completion', usage),
    json: textJson(usage),
  };
  const toolUsage = { prompt_tokens: 30, completion_tokens: 9, total_tokens: 39 };
  const call = (fn: Json, extra: Json = {}): Json => ({ tool_calls: [{ index: 0, ...extra, function: fn }] });
  const tools: Script = {
    events: [
      sse(chatChunk({ role: 'assistant', content: null, ...call({ name: 'get_weather', arguments: '' }, { id: 'call_fake_1', type: 'function' }) })),
      sse(chatChunk(call({ arguments: '{"city":' }))),
      sse(chatChunk(call({ arguments: '"Paris"}' }))),
      sse(chatChunk({}, 'tool_calls')),
    ],
    usage: usageChunk('chat', toolUsage),
    json: chatJson({ content: null, tool_calls: [{ id: 'call_fake_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] }, 'tool_calls', toolUsage),
  };
  // DeepSeek reports cache hits as prompt_cache_hit_tokens, without prompt_tokens_details.
  const deepseekUsage = { prompt_tokens: 20, completion_tokens: 12, total_tokens: 32, prompt_cache_hit_tokens: 8, prompt_cache_miss_tokens: 12, completion_tokens_details: { reasoning_tokens: 5 } };
  const reasoning: Script = {
    events: [
      sse(chatChunk({ role: 'assistant', content: null, reasoning_content: 'Thinking ' })),
      sse(chatChunk({ content: null, reasoning_content: 'hard.' })),
      sse(chatChunk({ content: 'The answer ', reasoning_content: null })),
      sse(chatChunk({ content: 'is 42.' })),
      sse(chatChunk({}, 'stop')),
    ],
    usage: usageChunk('chat', deepseekUsage),
    json: chatJson({ content: 'The answer is 42.', reasoning_content: 'Thinking hard.' }, 'stop', deepseekUsage),
  };
  const noUsage = (s: Script, json: string): Script => ({ events: s.events, usage: undefined, json });
  return {
    chat: { 'fake-ok': chatOk, 'fake-tools': tools, 'fake-reasoning': reasoning, 'fake-no-usage': noUsage(chatOk, chatJson({ content: o.text }, 'stop')) },
    completion: { 'fake-ok': textOk, 'fake-no-usage': noUsage(textOk, textJson()) },
  };
}

const sseHeaders = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' };
const jsonHeaders = { 'content-type': 'application/json' };
const streamError = sse({ error: { message: 'upstream exploded mid-stream', type: 'server_error', code: 500 } });

export async function startFakeUpstream(options: FakeUpstreamOptions = {}): Promise<FakeUpstream> {
  const scripts = buildScripts({
    text: options.text ?? 'Hello from upstream.',
    chunks: options.chunks ?? 5,
    promptTokens: options.promptTokens ?? 17,
    cachedTokens: options.cachedTokens ?? 4,
  });
  const delay = options.chunkDelayMs ?? 0;
  const maxRecorded = options.maxRecorded ?? 1000;
  const modelsBody = JSON.stringify({ object: 'list', data: fakeModels.map((id) => ({ id, object: 'model', created: 1, owned_by: 'fake' })) });
  const requests: RecordedRequest[] = [];
  let active = 0;
  let connections = 0;

  function stream(res: ServerResponse, events: string[], tail: string[], then?: () => void): void {
    if (delay === 0 && then === undefined) {
      res.writeHead(200, sseHeaders).end(events.concat(tail).join(''));
      return;
    }
    res.writeHead(200, sseHeaders);
    const all = events.concat(tail);
    let i = 0;
    const next = (): void => {
      if (res.destroyed) return;
      if (i >= all.length) {
        if (then) then();
        else res.end();
        return;
      }
      // Waiting for the flush matters for `then`: destroying the socket drops unflushed writes.
      res.write(all[i++]!, () => (delay > 0 ? setTimeout(next, delay) : next()));
    };
    next();
  }

  function generate(kind: Kind, model: string, streaming: boolean, includeUsage: boolean, res: ServerResponse): void {
    const failure = errorReplies[model];
    if (failure !== undefined) {
      res.writeHead(failure.status, { ...jsonHeaders, ...failure.headers }).end(failure.body);
      return;
    }
    if (model === 'fake-slow-headers') return; // held until the client gives up or close()
    const ok = scripts[kind]['fake-ok']!;
    const script = scripts[kind][model] ?? ok;
    const firstTwo = ok.events.slice(0, 2);
    if (!streaming) {
      if (model === 'fake-stall-mid-stream') res.writeHead(200, jsonHeaders).write('{"id":"chatcmpl-fake",');
      else if (model === 'fake-disconnect') res.writeHead(200, jsonHeaders).write('{"id":"chatcmpl-fake",', () => res.socket?.destroy());
      else if (model === 'fake-garbage-sse') res.writeHead(200, jsonHeaders).end('{not json');
      else if (model === 'fake-non-json') res.writeHead(200, { 'content-type': 'text/html' }).end('<html>Bad gateway</html>');
      else if (model === 'fake-no-choices') res.writeHead(200, jsonHeaders).end('{"id":"chatcmpl-fake","object":"chat.completion"}');
      else if (model === 'fake-error-in-stream') res.writeHead(200, jsonHeaders).end(streamError.slice(6, -2));
      else res.writeHead(200, jsonHeaders).end(script.json);
      return;
    }
    switch (model) {
      case 'fake-stall-mid-stream':
        return stream(res, firstTwo, [], () => {});
      case 'fake-disconnect':
        return stream(res, firstTwo, [], () => res.socket?.destroy());
      case 'fake-garbage-sse':
        return stream(res, firstTwo, ['data: {not json\n\n', sse('[DONE]')]);
      case 'fake-non-json':
        res.writeHead(200, { 'content-type': 'text/html' }).end('<html>Bad gateway</html>');
        return;
      case 'fake-no-choices':
        return stream(res, [sse({ id: 'chatcmpl-fake', object: 'chat.completion.chunk' })], [sse('[DONE]')]);
      case 'fake-error-in-stream':
        return stream(res, firstTwo, [streamError, sse('[DONE]')]);
      default:
        return stream(res, script.events, includeUsage && script.usage ? [script.usage, sse('[DONE]')] : [sse('[DONE]')]);
    }
  }

  function embeddings(body: Json, res: ServerResponse): void {
    const model = String(body.model ?? 'fake-ok');
    const failure = errorReplies[model];
    if (failure !== undefined) {
      res.writeHead(failure.status, { ...jsonHeaders, ...failure.headers }).end(failure.body);
      return;
    }
    if (model === 'fake-slow-headers') return;
    const input = Array.isArray(body.input) ? (body.input as unknown[]).map(String) : [String(body.input ?? '')];
    const dims = typeof body.dimensions === 'number' ? body.dimensions : 4;
    // Items go out in reverse order so clients must sort by index.
    const data = input.map((text, index) => ({ object: 'embedding', index, embedding: Array.from({ length: dims }, (_, d) => (d === 0 ? index : d === 1 ? text.length : 0.5)) })).reverse();
    const tokens = input.reduce((sum, text) => sum + text.length, 0);
    const usage = model === 'fake-no-usage' ? {} : { usage: { prompt_tokens: tokens, total_tokens: tokens } };
    res.writeHead(200, jsonHeaders).end(JSON.stringify({ object: 'list', model, data, ...usage }));
  }

  function handle(req: IncomingMessage, res: ServerResponse, raw: string): void {
    const path = req.url ?? '/';
    let body: Json;
    try {
      body = raw === '' ? {} : (JSON.parse(raw) as Json);
    } catch {
      res.writeHead(400, jsonHeaders).end(JSON.stringify({ error: { message: 'invalid JSON body', type: 'invalid_request_error' } }));
      return;
    }
    if (maxRecorded > 0) {
      if (requests.length >= maxRecorded) requests.shift();
      requests.push({ method: req.method ?? '', path, headers: req.headers, body });
    }
    if (req.method === 'GET' && path === '/v1/models') {
      res.writeHead(200, jsonHeaders).end(modelsBody);
      return;
    }
    if (req.method !== 'POST') {
      res.writeHead(405, jsonHeaders).end('{"error":{"message":"method not allowed"}}');
      return;
    }
    const model = typeof body.model === 'string' ? body.model : 'fake-ok';
    const streaming = body.stream === true;
    if (streaming || model === 'fake-slow-headers') {
      active++;
      res.once('close', () => active--);
    }
    const includeUsage = (body.stream_options as Json | undefined)?.include_usage === true;
    if (path === '/v1/chat/completions') generate('chat', model, streaming, includeUsage, res);
    else if (path === '/v1/completions') generate('completion', model, streaming, includeUsage, res);
    else if (path === '/v1/embeddings') embeddings(body, res);
    else res.writeHead(404, jsonHeaders).end(JSON.stringify({ error: { message: `no route ${path}`, type: 'invalid_request_error' } }));
  }

  const server = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (raw += chunk));
    req.on('end', () => handle(req, res, raw));
  });
  server.on('connection', () => connections++);
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    activeStreams: () => active,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
