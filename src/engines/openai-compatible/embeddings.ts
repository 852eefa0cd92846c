/** The upstream's `/embeddings` response → vectors in input order. */
import { badResponse } from './upstream-errors.js';
import { mapUsage } from './chunk-parts.js';

function vector(value: unknown): number[] | undefined {
  if (Array.isArray(value)) return value.every((x) => typeof x === 'number') ? (value as number[]) : undefined;
  // Some upstreams answer base64 even when asked for floats; it is little-endian float32.
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'base64');
    if (bytes.length % 4 !== 0) return undefined;
    const out = new Array<number>(bytes.length / 4);
    for (let i = 0; i < out.length; i++) out[i] = bytes.readFloatLE(i * 4);
    return out;
  }
  return undefined;
}

/** promptTokens is undefined when the upstream reports no usage (the caller estimates). */
export function parseEmbeddings(text: string, expected: number): { embeddings: number[][]; promptTokens?: number } {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw badResponse('The upstream embeddings response is not valid JSON.', error);
  }
  const data = (body as { data?: unknown } | null)?.data;
  if (!Array.isArray(data) || data.length !== expected) {
    throw badResponse(`The upstream returned ${Array.isArray(data) ? data.length : 'no'} embeddings for ${expected} inputs.`);
  }
  const embeddings = new Array<number[]>(expected);
  data.forEach((item: unknown, position) => {
    const record = (item ?? {}) as { index?: unknown; embedding?: unknown };
    const index = typeof record.index === 'number' ? record.index : position;
    const values = vector(record.embedding);
    if (!Number.isInteger(index) || index < 0 || index >= expected || embeddings[index] !== undefined || !values) {
      throw badResponse('The upstream embeddings response has a malformed or duplicate item.');
    }
    embeddings[index] = values;
  });
  const usage = mapUsage((body as { usage?: unknown }).usage);
  return usage === undefined ? { embeddings } : { embeddings, promptTokens: usage.promptTokens };
}
