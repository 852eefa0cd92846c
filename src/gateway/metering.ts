import { zeroUsage, type Usage } from '../core/usage.js';
import type { GenerationPart } from '../engines/engine.js';
import type { Hold } from './billing.js';
import type { GatewayDeps, RequestContext, UsageEntry } from './request-context.js';

interface MeterLabels {
  context: RequestContext;
  model: string;
  endpoint: UsageEntry['endpoint'];
  hold: Hold;
}

/**
 * A request's usage, settled into the ledger (through its hold) and logged. The one place
 * both happen, for generations and embeddings alike; call it once per request.
 */
export function settleUsage(
  deps: GatewayDeps,
  labels: MeterLabels,
  started: number,
  usage: Usage,
  status: UsageEntry['status'],
  errorCode?: string,
): void {
  const elapsed = deps.clock.now() - started;
  labels.hold.settle(usage, status, elapsed);
  deps.usage.record({
    requestId: labels.context.requestId,
    model: labels.model,
    endpoint: labels.endpoint,
    usage,
    status,
    ...(errorCode === undefined ? {} : { errorCode }),
    durationMs: elapsed,
  });
}

/**
 * Passes parts through untouched and settles usage exactly once, from the terminal part —
 * or, when the consumer stops early (client gone), from the last usage seen, which the
 * engine's own abort path reports as the tokens actually produced.
 */
export async function* meteredParts(
  deps: GatewayDeps,
  parts: AsyncIterable<GenerationPart>,
  labels: MeterLabels,
): AsyncGenerator<GenerationPart> {
  const started = deps.clock.now();
  let recorded = false;
  const record = (usage: Usage, status: UsageEntry['status'], errorCode?: string) => {
    if (recorded) return;
    recorded = true;
    settleUsage(deps, labels, started, usage, status, errorCode);
  };
  const iterator = parts[Symbol.asyncIterator]();
  try {
    for (;;) {
      const next = await iterator.next();
      if (next.done) break;
      const part = next.value;
      if (part.type === 'finish') record(part.usage, part.finishReason === 'abort' ? 'aborted' : 'ok');
      else if (part.type === 'error') record(part.usage, 'error', part.error.code);
      yield part;
    }
  } finally {
    if (!recorded) {
      // The consumer left before the terminal part: drain the engine's abort ending for its usage.
      const tail = await drainTerminal(iterator, labels.context.signal);
      record(tail ?? zeroUsage, 'aborted');
    }
  }
}

async function drainTerminal(iterator: AsyncIterator<GenerationPart>, signal: AbortSignal): Promise<Usage | undefined> {
  if (!signal.aborted) {
    await iterator.return?.();
    return undefined;
  }
  for (;;) {
    const next = await iterator.next();
    if (next.done) return undefined;
    if (next.value.type === 'finish' || next.value.type === 'error') return next.value.usage;
  }
}
