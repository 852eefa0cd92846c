/**
 * A fake Anthropic Messages API on 127.0.0.1 for tests: `POST /v1/messages` (JSON or
 * named SSE events, as Anthropic writes them) and `POST /v1/messages/count_tokens`.
 * Behaviour is picked by the request's `model`; every request is recorded with its headers.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedAnthropicRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

export interface FakeAnthropicUpstream {
  /** Base URL including /v1. */
  url: string;
  requests: RecordedAnthropicRequest[];
  close(): Promise<void>;
}

type Json = Record<string, unknown>;
type Block = { type: 'text'; text: string } | { type: 'thinking'; thinking: string } | { type: 'tool_use'; id: string; name: string; input: Json };

/** What the fake reports: 12 fresh input tokens, 30 read from its cache, none written. */
export const fakeUsage = { input_tokens: 12, cache_read_input_tokens: 30, cache_creation_input_tokens: 0 };

const scripts: Record<string, { blocks: Block[]; stop: string; stopSequence?: string; output: number }> = {
  'claude-ok': { blocks: [{ type: 'text', text: 'Hello from Claude.' }], stop: 'end_turn', output: 6 },
  'claude-tools': { blocks: [{ type: 'tool_use', id: 'toolu_fake_1', name: 'get_weather', input: { city: 'Paris' } }], stop: 'tool_use', output: 9 },
  'claude-thinking': {
    blocks: [{ type: 'thinking', thinking: 'Let me think. Hard.' }, { type: 'text', text: 'The answer is 42.' }],
    stop: 'end_turn',
    output: 14,
  },
  'claude-stop': { blocks: [{ type: 'text', text: 'one two ' }], stop: 'stop_sequence', stopSequence: 'three', output: 3 },
};

const errors: Record<string, { status: number; type: string; message: string; headers?: Record<string, string> }> = {
  'claude-529': { status: 529, type: 'overloaded_error', message: 'Overloaded', headers: { 'retry-after': '3' } },
  'claude-401': { status: 401, type: 'authentication_error', message: 'invalid x-api-key' },
  'claude-400': { status: 400, type: 'invalid_request_error', message: 'messages: roles must alternate' },
  'claude-429': { status: 429, type: 'rate_limit_error', message: 'Number of request tokens has exceeded your per-minute rate limit', headers: { 'retry-after': '7' } },
};

const sse = (event: Json): string => `event: ${String(event.type)}\ndata: ${JSON.stringify(event)}\n\n`;

/** Splits a string into pieces of about `size` characters, as a model streams it. */
function pieces(text: string, size = 5): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

function message(model: string, content: Json[], stop: string | null, stopSequence: string | null, output: number): Json {
  return { id: 'msg_fake', type: 'message', role: 'assistant', model, content, stop_reason: stop, stop_sequence: stopSequence, usage: { ...fakeUsage, output_tokens: output } };
}

function streamOf(model: string, script: (typeof scripts)[string], failMidway: boolean): string {
  const events: Json[] = [{ type: 'message_start', message: message(model, [], null, null, 1) }, { type: 'ping' }];
  script.blocks.forEach((block, index) => {
    if (block.type === 'text') {
      events.push({ type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
      for (const text of pieces(block.text)) events.push({ type: 'content_block_delta', index, delta: { type: 'text_delta', text } });
    } else if (block.type === 'thinking') {
      events.push({ type: 'content_block_start', index, content_block: { type: 'thinking', thinking: '', signature: '' } });
      for (const thinking of pieces(block.thinking)) events.push({ type: 'content_block_delta', index, delta: { type: 'thinking_delta', thinking } });
      events.push({ type: 'content_block_delta', index, delta: { type: 'signature_delta', signature: 'c2lnbmF0dXJl' } });
    } else {
      events.push({ type: 'content_block_start', index, content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} } });
      for (const partial_json of pieces(JSON.stringify(block.input), 7)) events.push({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json } });
    }
    events.push({ type: 'content_block_stop', index });
  });
  if (failMidway) {
    events.push({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });
    return events.map(sse).join('');
  }
  events.push({ type: 'message_delta', delta: { stop_reason: script.stop, stop_sequence: script.stopSequence ?? null }, usage: { output_tokens: script.output } });
  events.push({ type: 'message_stop' });
  return events.map(sse).join('');
}

export async function startFakeAnthropicUpstream(): Promise<FakeAnthropicUpstream> {
  const requests: RecordedAnthropicRequest[] = [];
  const server = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (raw += chunk));
    req.on('end', () => {
      const body = (raw === '' ? {} : JSON.parse(raw)) as Json;
      const path = req.url ?? '/';
      requests.push({ path, headers: req.headers, body });
      const json = (status: number, value: unknown, headers: Record<string, string> = {}) =>
        res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(value));
      if (path === '/v1/messages/count_tokens') return json(200, { input_tokens: 42 });
      if (path !== '/v1/messages') return json(404, { type: 'error', error: { type: 'not_found_error', message: `no route ${path}` } });
      const model = String(body.model);
      const failure = errors[model];
      if (failure) return json(failure.status, { type: 'error', error: { type: failure.type, message: failure.message } }, failure.headers);
      const failMidway = model === 'claude-error-in-stream';
      const script = scripts[failMidway ? 'claude-ok' : model] ?? scripts['claude-ok']!;
      if (body.stream === true) {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' }).end(streamOf(model, script, failMidway));
        return;
      }
      json(200, message(model, script.blocks.map((block) => (block.type === 'thinking' ? { ...block, signature: 'c2lnbmF0dXJl' } : block)), script.stop, script.stopSequence ?? null, script.output));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
