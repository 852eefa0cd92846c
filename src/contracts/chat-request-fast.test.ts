import { describe, expect, it } from 'vitest';
import { chatCompletionRequestSchema } from './chat-request.js';
import { fastChatRequest, parseChatCompletionRequest } from './chat-request-fast.js';
import { parseRequest } from './parse.js';

const base = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };

/** Bodies the fast path must take, each exactly as zod returns it. */
const plain: object[] = [
  base,
  { ...base, max_tokens: 16 },
  { messages: [{ role: 'system', content: '' }, { role: 'user', content: 'x', name: 'ann' }, { role: 'assistant', content: 'y' }, { role: 'developer', content: 'z' }], model: 'a/b' },
  { ...base, temperature: 0, top_p: 1, seed: -5, presence_penalty: -2, frequency_penalty: 2, n: 1, user: 'u' },
  { ...base, temperature: null, top_p: null, max_tokens: null, stop: null, seed: null, n: null, stream: null, stream_options: null, max_completion_tokens: null },
  { ...base, stream: true, stream_options: { include_usage: true } },
  { ...base, stream: false, stream_options: {} },
  { ...base, stop: 'END' },
  { ...base, stop: ['a', 'b', 'c', 'd'] },
  { ...base, stop: [] },
  { ...base, max_completion_tokens: 4096, temperature: 1.5 },
  { ...base, n: 3 }, // valid for the schema; refused later, as before
];

/** Bodies it must leave to zod: unknown or rich fields, and every invalid value. */
const others: unknown[] = [
  null,
  [],
  'text',
  { ...base, extra: 1 },
  { ...base, tools: [] },
  { ...base, logprobs: false },
  { ...base, response_format: { type: 'text' } },
  { model: 'm' },
  { messages: base.messages },
  { ...base, model: '' },
  { ...base, model: 5 },
  { ...base, messages: [] },
  { ...base, messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }] },
  { ...base, messages: [{ role: 'tool', content: 'x', tool_call_id: 'c' }] },
  { ...base, messages: [{ role: 'assistant', content: null }] },
  { ...base, messages: [{ role: 'user', content: 'x', name: 1 }] },
  { ...base, messages: [{ role: 'user', content: 'x', extra: true }] },
  { ...base, messages: [{ role: 'robot', content: 'x' }] },
  { ...base, messages: [{ content: 'x' }] },
  { ...base, messages: ['hi'] },
  { ...base, temperature: 2.5 },
  { ...base, temperature: -0.1 },
  { ...base, temperature: '1' },
  { ...base, top_p: 1.01 },
  { ...base, max_tokens: 0 },
  { ...base, max_tokens: 1.5 },
  { ...base, max_tokens: 2 ** 60 },
  { ...base, max_completion_tokens: 0 },
  { ...base, seed: 0.5 },
  { ...base, n: 0 },
  { ...base, n: 129 },
  { ...base, presence_penalty: 3 },
  { ...base, frequency_penalty: -3 },
  { ...base, stop: ['a', 'b', 'c', 'd', 'e'] },
  { ...base, stop: [1] },
  { ...base, stream: 'yes' },
  { ...base, stream_options: { include_usage: 'yes' } },
  { ...base, stream_options: { include_usage: true, other: 1 } },
  { ...base, stream_options: [] },
  { ...base, user: null },
];

describe('the chat request fast path', () => {
  it.each(plain.map((body) => [JSON.stringify(body), body]))('returns what zod returns for %s', (_name, body) => {
    const fast = fastChatRequest(body);
    const zod = parseRequest(chatCompletionRequestSchema, body);
    expect(fast).toStrictEqual(zod);
    expect(JSON.stringify(fast)).toBe(JSON.stringify(zod)); // same keys in the same order
    expect(fast).not.toBe(body);
    expect((fast as { messages: unknown[] }).messages[0]).not.toBe((body as { messages: unknown[] }).messages[0]);
  });

  it.each(others.map((body) => [JSON.stringify(body), body]))('leaves %s to zod, whose answer or error is unchanged', (_name, body) => {
    expect(fastChatRequest(body)).toBeUndefined();
    let viaZod: unknown;
    try {
      viaZod = parseRequest(chatCompletionRequestSchema, body);
    } catch (error) {
      viaZod = error;
    }
    let viaEntry: unknown;
    try {
      viaEntry = parseChatCompletionRequest(body);
    } catch (error) {
      viaEntry = error;
    }
    expect(viaEntry).toStrictEqual(viaZod);
  });
});
