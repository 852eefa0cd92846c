/**
 * Metrics and traces for one process: the Prometheus registry (unless `server.metrics:
 * false`), its optional unauthenticated listener (`server.metricsPort` / `--metrics-port`),
 * and OpenTelemetry spans when OTEL_EXPORTER_OTLP_ENDPOINT is set.
 */
import type { FastifyInstance } from 'fastify';
import { buildMetricsServer, type Observability } from '../api/observe-http.js';
import type { UsageEntry } from '../gateway/request-context.js';
import { SkylarkMetrics, timed } from '../observability/metrics.js';
import { registerScrapeGauges, type ScrapeSources } from '../observability/scrape-gauges.js';
import { startTracing } from '../observability/tracing.js';
import type { BillingHooks } from './open-billing.js';

export interface ProcessObservability extends Observability {
  billingHooks: BillingHooks;
  /** The usage sink's second reader: token, duration and TTFT series, the span's usage. */
  recordUsage(entry: UsageEntry): void;
  /** Scrape-time gauges over the scheduler, the engines and the ledger queue. */
  watch(sources: ScrapeSources): void;
  /** Starts the unauthenticated metrics listener when a port is configured; its URL. */
  listen(host: string, port: number | undefined): Promise<string | undefined>;
  close(): Promise<void>;
}

export async function openObservability(options: { metrics: boolean; env: NodeJS.ProcessEnv }): Promise<ProcessObservability> {
  const metrics = options.metrics ? new SkylarkMetrics() : undefined;
  const tracer = await startTracing(options.env, '0.1.0');
  let server: FastifyInstance | undefined;
  const billingHooks: BillingHooks = metrics
    ? {
        onLedgerCommit: (lagMs) => metrics.ledgerLag.observe(lagMs / 1000),
        timeRedis: (store, call) => timed(metrics.redisDuration, store, call),
      }
    : {};
  return {
    metrics,
    tracer,
    billingHooks,
    recordUsage(entry) {
      metrics?.generation(entry);
      tracer?.usage(entry);
    },
    watch(sources) {
      if (metrics) registerScrapeGauges(metrics, sources);
    },
    async listen(host, port) {
      if (!metrics || port === undefined) return undefined;
      server = buildMetricsServer(metrics);
      return server.listen({ host, port });
    },
    async close() {
      await server?.close();
      await tracer?.shutdown().catch(() => undefined);
    },
  };
}
