/**
 * What the metrics module adds per request, measured in process: the observations one
 * request makes (the HTTP response hook's counter and histogram, the usage sink's token,
 * duration, TTFT, time-per-token and queue-wait histograms, the ledger lag) on a registry
 * that already holds the series, as in a running gateway. A floor for the A/B rows of
 * bench:gateway, which measure the same thing through the whole process and its noise.
 */
import { SkylarkMetrics } from '../src/observability/metrics.js';
import type { UsageEntry } from '../src/gateway/request-context.js';

/** CPU µs per request. */
export function metricsMicrosPerRequest(iterations = 200_000): number {
  const metrics = new SkylarkMetrics({ processMetrics: false });
  const entry: UsageEntry = {
    requestId: 'r', model: 'bench-model', endpoint: 'chat.completions', status: 'ok', durationMs: 3.2,
    usage: { promptTokens: 18, completionTokens: 16, cachedPromptTokens: 0 }, servedModel: 'bench-model', queueMs: 0, firstTokenMs: 1.1,
  };
  const one = (i: number) => {
    metrics.httpResponse('/v1/chat/completions', 'bench-model', 200, (i % 50) / 10_000);
    metrics.generation(entry);
    metrics.ledgerLag.observe(0.0007);
  };
  for (let i = 0; i < 20_000; i++) one(i); // warm-up: JIT and series creation
  // CPU time, not wall time: on a shared machine the wall clock also counts other processes' turns.
  const started = process.cpuUsage();
  for (let i = 0; i < iterations; i++) one(i);
  const used = process.cpuUsage(started);
  return (used.user + used.system) / iterations;
}
