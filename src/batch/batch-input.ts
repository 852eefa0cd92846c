/**
 * A batch's input file, checked line by line before anything runs: each non-blank line is
 * `{"custom_id", "method": "POST", "url": <the batch's endpoint>, "body": {"model", …}}`,
 * custom_ids are unique, and there are at most 50,000 lines. Problems are OpenAI's
 * BatchError objects naming the line (1-based), as `errors.data` of a failed batch.
 */
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

export const maxBatchLines = 50_000;
/** Errors reported for one file at most: enough to fix it, not a second copy of it. */
const maxReported = 100;

export interface BatchError {
  code: string;
  message: string;
  param: string | null;
  line: number | null;
}

export interface InputLine {
  lineNo: number;
  customId: string;
  body: Record<string, unknown>;
}

export type CheckedInput = { ok: true; lines: InputLine[]; model: string | null } | { ok: false; errors: BatchError[] };

export async function checkBatchInput(content: Readable, endpoint: string): Promise<CheckedInput> {
  const lines: InputLine[] = [];
  const errors: BatchError[] = [];
  const seen = new Set<string>();
  let lineNo = 0;
  const fail = (code: string, message: string, param: string | null, line: number | null) => {
    if (errors.length < maxReported) errors.push({ code, message, param, line });
  };
  for await (const text of createInterface({ input: content, crlfDelay: Infinity })) {
    lineNo++;
    if (text.trim() === '') continue;
    if (lines.length + errors.length >= maxBatchLines) {
      fail('too_many_requests', `The input file has more than ${maxBatchLines} requests; a batch may have at most ${maxBatchLines}.`, null, lineNo);
      break;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      fail('invalid_json_line', `Line ${lineNo} is not valid JSON.`, null, lineNo);
      continue;
    }
    const problem = checkLine(parsed, endpoint, lineNo);
    if (problem) {
      fail(problem.code, problem.message, problem.param, lineNo);
      continue;
    }
    const line = parsed as { custom_id: string; body: Record<string, unknown> };
    if (seen.has(line.custom_id)) {
      fail('duplicate_custom_id', `Line ${lineNo}: the custom_id '${line.custom_id}' appears on an earlier line; each must be unique.`, 'custom_id', lineNo);
      continue;
    }
    seen.add(line.custom_id);
    lines.push({ lineNo, customId: line.custom_id, body: line.body });
  }
  if (errors.length > 0) return { ok: false, errors };
  if (lines.length === 0) return { ok: false, errors: [{ code: 'empty_file', message: 'The input file has no requests.', param: null, line: null }] };
  const model = typeof lines[0]!.body.model === 'string' ? lines[0]!.body.model : null;
  return { ok: true, lines, model };
}

function checkLine(value: unknown, endpoint: string, lineNo: number): { code: string; message: string; param: string } | undefined {
  if (!isObject(value)) return { code: 'invalid_request', message: `Line ${lineNo} must be a JSON object.`, param: 'body' };
  if (typeof value.custom_id !== 'string' || value.custom_id === '') {
    return { code: 'missing_required_parameter', message: `Line ${lineNo} has no custom_id (a non-empty string).`, param: 'custom_id' };
  }
  if (value.method !== 'POST') {
    return { code: 'invalid_method', message: `Line ${lineNo}: method must be 'POST'.`, param: 'method' };
  }
  if (value.url !== endpoint) {
    return {
      code: 'invalid_url',
      message: `Line ${lineNo}: url ${JSON.stringify(value.url)} is not the batch's endpoint '${endpoint}'.`,
      param: 'url',
    };
  }
  if (!isObject(value.body)) return { code: 'missing_required_parameter', message: `Line ${lineNo} has no body object.`, param: 'body' };
  if (typeof value.body.model !== 'string' || value.body.model === '') {
    return { code: 'missing_required_parameter', message: `Line ${lineNo}: body.model is required.`, param: 'body.model' };
  }
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
