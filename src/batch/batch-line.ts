/**
 * One line of a batch, run through the same use case as the API call it names — so its
 * limits, scheduling, usage row and ledger entry are the real ones — in the scheduler's
 * `batch` tier and at the price's batch discount (RequestContext.batch). Its request id is
 * derived from the batch id and custom_id, so a line run again after a crash settles
 * against the same usage row: the ledger's idempotent settle never bills it twice.
 *
 * A line may be preempted: the scheduler gives its replica to interactive work while it
 * runs (scheduler/preemption.ts). Its run is stopped through the same abort path a client
 * leaving takes, with its own reason, and the line comes back as `preempted`, to be run
 * again; the stopped run is not billed (gateway/metering.ts), so the line is paid once, at
 * the batch price, for the answer it finally gets.
 */
import { hash } from 'node:crypto';
import { SkylarkError, toSkylarkError } from '../core/errors.js';
import { createChatCompletion } from '../gateway/chat-completion.js';
import { createCompletion } from '../gateway/completion.js';
import { createEmbeddings } from '../gateway/embeddings.js';
import type { GatewayDeps, RequestContext } from '../gateway/request-context.js';
import type { Principal } from '../tenancy/access.js';
import type { BatchEndpoint } from './batches.js';

export interface LineToRun {
  lineNo: number;
  customId: string;
  /** The request body, JSON. */
  body: string;
}

export type LineOutcome =
  /** Finished: its output line (JSON) goes to the output file (`ok`) or the error file. */
  | { kind: 'done'; status: 'ok' | 'error'; result: string }
  /** Not run: refused before reaching an engine (busy, limited, engine loading) or stopped; run it later. */
  | { kind: 'again'; error: SkylarkError }
  /** Stopped by the scheduler for interactive work, unbilled: run it again (it waits for idle capacity again). */
  | { kind: 'preempted' };

/** The abort reason of a preempted line's run. */
export class LinePreempted extends Error {
  constructor() {
    super('The batch line was preempted for interactive work; it runs again.');
    this.name = 'LinePreempted';
  }
}

/** Refusals that happen before a replica starts the line, so nothing was billed: try again later. */
const refusedForNow = new Set(['server_overloaded', 'rate_limit_exceeded', 'engine_unavailable']);

export function batchRequestId(batchId: string, customId: string): string {
  return `${batchId}-${digest(customId)}`;
}

export async function runLine(
  deps: GatewayDeps,
  batch: { id: string; endpoint: string },
  principal: Principal,
  line: LineToRun,
  signal: AbortSignal,
): Promise<LineOutcome> {
  const requestId = batchRequestId(batch.id, line.customId);
  // The runner's signal (cancel, expiry, shutdown) or a preemption stop the run.
  const run = new AbortController();
  const stop = () => run.abort(signal.reason);
  signal.addEventListener('abort', stop, { once: true });
  if (signal.aborted) stop();
  const context: RequestContext = {
    requestId,
    signal: run.signal,
    principal,
    responseHeaders: {},
    batch: true,
    onPreempt: () => run.abort(new LinePreempted()),
  };
  const output = (status_code: number, body: unknown) =>
    JSON.stringify({
      id: `batch_req_${digest(`${batch.id}\u0000${line.customId}`)}`,
      custom_id: line.customId,
      response: { status_code, request_id: requestId, body },
      error: null,
    });
  try {
    const body = await execute(deps, batch.endpoint as BatchEndpoint, JSON.parse(line.body) as Record<string, unknown>, context);
    return { kind: 'done', status: 'ok', result: output(200, body) };
  } catch (thrown) {
    const error = toSkylarkError(thrown);
    if (context.preempted === true && !signal.aborted) return { kind: 'preempted' };
    if (signal.aborted || refusedForNow.has(error.code)) return { kind: 'again', error };
    const body = { error: { message: error.message, type: error.type, param: error.param, code: error.code } };
    return { kind: 'done', status: 'error', result: output(error.status, body) };
  } finally {
    signal.removeEventListener('abort', stop);
  }
}

async function execute(deps: GatewayDeps, endpoint: BatchEndpoint, body: Record<string, unknown>, context: RequestContext): Promise<unknown> {
  if (endpoint === '/v1/embeddings') return createEmbeddings(deps, body, context);
  // A batch answers in one JSON body per line: a stream has nowhere to go.
  const { stream_options: _ignored, ...rest } = body;
  const request = { ...rest, stream: false };
  const result = endpoint === '/v1/chat/completions' ? await createChatCompletion(deps, request, context) : await createCompletion(deps, request, context);
  if (result.stream) throw new SkylarkError('internal_error', 'A batch line was answered as a stream.');
  return result.body;
}

/** The error-file line of a request the batch never ran (it expired or was cancelled first). */
export function unrunLine(batchId: string, customId: string, why: 'batch_expired' | 'batch_cancelled'): string {
  const message =
    why === 'batch_expired'
      ? 'This request could not be executed before the completion window expired.'
      : 'This request was not executed because the batch was cancelled.';
  return JSON.stringify({
    id: `batch_req_${digest(`${batchId}\u0000${customId}`)}`,
    custom_id: customId,
    response: null,
    error: { code: why, message },
  });
}

function digest(text: string): string {
  return hash('sha256', text, 'base64url').slice(0, 22).replace(/[-_]/g, 'x');
}
