/**
 * The chat request's hot path: most bodies are a model, plain-text messages and a few
 * sampling numbers. Those are checked here by hand, field by field, and come out exactly as
 * `chatCompletionRequestSchema` would return them (its keys, in its order, unknown ones
 * dropped). Anything else — a field this does not know, a content array, tools, an invalid
 * value — goes to the zod schema, so every error (and every unusual body) is zod's own.
 */
import { chatCompletionRequestSchema, type ChatCompletionRequest } from './chat-request.js';
import { parseRequest } from './parse.js';

export function parseChatCompletionRequest(body: unknown): ChatCompletionRequest {
  return fastChatRequest(body) ?? parseRequest(chatCompletionRequestSchema, body);
}

type Check = (value: unknown) => boolean;

const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);
const between = (min: number, max: number): Check => (value) => value === null || (isNumber(value) && value >= min && value <= max);
const wholeFrom = (min: number, max = Number.MAX_SAFE_INTEGER): Check => (value) =>
  value === null || (Number.isSafeInteger(value) && (value as number) >= min && (value as number) <= max);
const isStop: Check = (value) =>
  value === null ||
  typeof value === 'string' ||
  (Array.isArray(value) && value.length <= 4 && value.every((item) => typeof item === 'string'));
const isFlag: Check = (value) => value === null || typeof value === 'boolean';
const isStreamOptions: Check = (value) => {
  if (value === null) return true;
  if (!isPlainObject(value)) return false;
  for (const key in value) if (key !== 'include_usage') return false;
  const include = (value as { include_usage?: unknown }).include_usage;
  return include === undefined || typeof include === 'boolean';
};

/** The fields taken here, in the schema's key order (its output's order), each with its check. */
const fields: ReadonlyArray<readonly [string, Check]> = [
  ['model', (value) => typeof value === 'string' && value.length >= 1],
  ['temperature', between(0, 2)],
  ['top_p', between(0, 1)],
  ['max_tokens', wholeFrom(1)],
  ['stop', isStop],
  ['seed', wholeFrom(Number.MIN_SAFE_INTEGER)],
  ['presence_penalty', between(-2, 2)],
  ['frequency_penalty', between(-2, 2)],
  ['n', wholeFrom(1, 128)],
  ['stream', isFlag],
  ['stream_options', isStreamOptions],
  ['user', (value) => typeof value === 'string'],
  ['messages', isPlainMessages],
  ['max_completion_tokens', wholeFrom(1)],
];
const known = new Set(fields.map(([name]) => name));

const plainRoles = new Set(['system', 'developer', 'user', 'assistant']);

/** Messages with a role, a string content and maybe a name: nothing else. */
function isPlainMessages(value: unknown): boolean {
  if (!Array.isArray(value) || value.length === 0) return false;
  for (const message of value) {
    if (!isPlainObject(message)) return false;
    let keys = 0;
    for (const key in message) {
      if (key !== 'role' && key !== 'content' && key !== 'name') return false;
      keys++;
    }
    const { role, content, name } = message as { role?: unknown; content?: unknown; name?: unknown };
    if (typeof role !== 'string' || !plainRoles.has(role) || typeof content !== 'string') return false;
    if (keys === 3 && typeof name !== 'string') return false;
  }
  return true;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** The parsed request, or undefined when the body is not one of the plain ones (zod decides then). */
export function fastChatRequest(body: unknown): ChatCompletionRequest | undefined {
  if (!isPlainObject(body)) return undefined;
  for (const key in body) if (!known.has(key)) return undefined;
  const out: Record<string, unknown> = {};
  for (const [name, check] of fields) {
    const value = body[name];
    if (value === undefined) {
      if (name === 'model' || name === 'messages') return undefined;
      continue;
    }
    if (!check(value)) return undefined;
    out[name] = copy(name, value);
  }
  return out as ChatCompletionRequest;
}

/** zod hands back fresh objects and arrays, never the caller's: so does this. */
function copy(name: string, value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (name === 'messages') {
    return (value as Array<{ role: string; content: string; name?: string }>).map((message) =>
      message.name === undefined ? { role: message.role, content: message.content } : { role: message.role, content: message.content, name: message.name },
    );
  }
  if (name === 'stop') return [...(value as string[])];
  const include = (value as { include_usage?: boolean }).include_usage;
  return include === undefined ? {} : { include_usage: include };
}
