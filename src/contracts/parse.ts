import type { z } from 'zod';
import { SkylarkError } from '../core/errors.js';

/**
 * Validates a request body, turning the first problem into OpenAI's error shape with
 * `param` in OpenAI's form (`messages[0].content`).
 */
export function parseRequest<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new SkylarkError('invalid_request', 'The request body must be a JSON object.', { param: null });
  }
  const result = schema.safeParse(body, { reportInput: true });
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  // A strict schema's unknown field: name the field itself, as OpenAI does.
  const param = toParam(issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]!] : issue.path);
  throw new SkylarkError('invalid_request', describeIssue(issue, param), { param });
}

export function toParam(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}

function describeIssue(issue: z.core.$ZodIssue, param: string): string {
  const where = param === '' ? 'the request body' : `'${param}'`;
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return `Missing required parameter: ${where}.`;
      return `Invalid type for ${where}: expected ${issue.expected}, but got ${typeName(issue.input)}.`;
    case 'too_small':
      return `Invalid value for ${where}: ${issue.message.replace(/^Too small: /, '')}.`;
    case 'too_big':
      return `Invalid value for ${where}: ${issue.message.replace(/^Too big: /, '')}.`;
    case 'invalid_value':
      return `Invalid value for ${where}: expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}.`;
    case 'unrecognized_keys':
      return `Unrecognized request argument supplied: ${param}.`;
    case 'invalid_union':
      return `Invalid value for ${where}: it matches none of the accepted forms.`;
    default:
      return `Invalid value for ${where}: ${issue.message}.`;
  }
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'an integer' : 'a number';
  return `a ${typeof value}`;
}
