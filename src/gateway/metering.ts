import { zeroUsage, type Usage } from '../core/usage.js';
import { QueueNotice, type StreamPart } from './queue-notice.js';
import type { Hold } from '../billing/request-holds.js';
import type { GatewayDeps, RequestContext, UsageEntry } from './request-context.js';

interface MeterLabels {
  context: RequestContext;
  model: string;
  endpoint: UsageEntry['endpoint'];
  hold: Hold;
}

/**
 * A request's usage, settled into the ledger (through its hold) and logged. The one place
 * both happen, for generations and embeddings alike; call it once per request. Resolves
 * when the usage row has committed: finish the response only after that.
 */
export function settleUsage(
  deps: GatewayDeps,
  labels: MeterLabels,
  started: number,
  usage: Usage,
  status: UsageEntry['status'],
  errorCode?: string,
): Promise<void> {
  const elapsed = deps.clock.now() - started;
  const queueMs = labels.context.queueMs ?? 0;
  const { servedModel, servedReplica, firstTokenMs } = labels.context;
  const committed = labels.hold.settle(usage, status, elapsed - queueMs, queueMs, { modelId: servedModel, replicaId: servedReplica });
  deps.usage.record({
    requestId: labels.context.requestId,
    model: labels.model,
    endpoint: labels.endpoint,
    usage,
    status,
    ...(errorCode === undefined ? {} : { errorCode }),
    durationMs: elapsed,
    ...(servedModel === undefined ? {} : { servedModel }),
    ...(labels.context.queueMs === undefined ? {} : { queueMs }),
    ...(firstTokenMs === undefined ? {} : { firstTokenMs }),
  });
  return committed;
}

/**
 * Passes parts through untouched and settles usage exactly once, from the terminal part —
 * or, when the consumer stops early (client gone), from the last usage seen, which the
 * engine's own abort path reports as the tokens actually produced.
 */
export async function* meteredParts(
  deps: GatewayDeps,
  parts: AsyncIterable<StreamPart>,
  labels: MeterLabels,
): AsyncGenerator<StreamPart> {
  const started = deps.clock.now();
  let recorded = false;
  const record = async (usage: Usage, status: UsageEntry['status'], errorCode?: string) => {
    if (recorded) return;
    recorded = true;
    // A batch line the scheduler took back runs again under the same request id, and the
    // ledger settles a request id once: billing this partial run would bill the line for
    // it instead of its answer. The compute it used is the operator's (its scheduler chose
    // to throw it away), not the customer's.
    if (labels.context.preempted === true && status !== 'ok') return labels.hold.release();
    await settleUsage(deps, labels, started, usage, status, errorCode);
  };
  const iterator = parts[Symbol.asyncIterator]();
  try {
    for (;;) {
      const next = await iterator.next();
      if (next.done) break;
      const part = next.value;
      if (part instanceof QueueNotice) {
        yield part;
        continue;
      }
      if (labels.context.firstTokenMs === undefined && part.type !== 'finish' && part.type !== 'error') {
        labels.context.firstTokenMs = deps.clock.now() - started;
      }
      // The terminal part goes out only once its usage row is durable: a client that saw the
      // end of its answer has been billed, even if the process dies right after.
      if (part.type === 'finish') await record(part.usage, part.finishReason === 'abort' ? 'aborted' : 'ok');
      else if (part.type === 'error') await record(part.usage, 'error', part.error.code);
      yield part;
    }
  } finally {
    if (!recorded) {
      // The consumer left before the terminal part: drain the engine's abort ending for its usage.
      const tail = await drainTerminal(iterator, labels.context.signal);
      await record(tail ?? zeroUsage, 'aborted');
    }
  }
}

async function drainTerminal(iterator: AsyncIterator<StreamPart>, signal: AbortSignal): Promise<Usage | undefined> {
  if (!signal.aborted) {
    await iterator.return?.();
    return undefined;
  }
  for (;;) {
    const next = await iterator.next();
    if (next.done) return undefined;
    if (next.value instanceof QueueNotice) continue;
    if (next.value.type === 'finish' || next.value.type === 'error') return next.value.usage;
  }
}
