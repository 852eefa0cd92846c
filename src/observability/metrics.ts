/**
 * Skylark's Prometheus metrics, on a registry of their own (one per platform, so two
 * platforms in one process, as in the tests, never share series).
 *
 * The hot path pays one or two label lookups per request, at places that already see the
 * outcome: the HTTP response hook, the usage sink (once per generation), the usage writer's
 * commit. Everything that is state rather than an event (queue depths, replica slots,
 * breakers, the ledger queue) is read from its owner when Prometheus scrapes
 * (scrape-gauges.ts), never kept up to date per request.
 *
 * GenAI names follow OpenTelemetry's semantic conventions as its Prometheus exporter maps
 * them: dots become underscores and the unit is appended (`gen_ai.client.operation.duration`,
 * unit s → `gen_ai_client_operation_duration_seconds`; `{token}` adds nothing).
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { UsageEntry } from '../gateway/request-context.js';

/** OpenTelemetry's advised buckets for gen_ai.client.token.usage. */
const tokenBuckets = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];
/** OpenTelemetry's advised buckets for gen_ai.client.operation.duration (s). */
const durationBuckets = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];
/** …for gen_ai.server.time_to_first_token (s). */
const ttftBuckets = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0];
/** …for gen_ai.server.time_per_output_token (s). */
const tpotBuckets = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5];
const httpBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const redisBuckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
const ledgerBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const queueWaitBuckets = [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60];

const operationOf: Record<UsageEntry['endpoint'], string> = {
  'chat.completions': 'chat',
  completions: 'text_completion',
  embeddings: 'embeddings',
  messages: 'chat',
  responses: 'chat',
  // OpenTelemetry's GenAI conventions have no operation of their own for media.
  'images.generations': 'generate_content',
  'audio.speech': 'generate_content',
  'audio.transcriptions': 'generate_content',
  // A cached context's creation evaluates its prompt, generating nothing.
  'context.create': 'chat',
};

/** Why a request was refused before any engine work, as the `reason` label says it. */
export type RejectionReason = 'queue_wait' | 'tenant_queue_full' | 'no_replica' | 'engine_unavailable' | 'rate_limited' | 'insufficient_quota';

export class SkylarkMetrics {
  readonly registry = new Registry();

  readonly httpRequests = new Counter({
    name: 'skylark_http_requests_total',
    help: 'HTTP requests answered, by route template, model asked for ("" when none or unknown) and status code.',
    labelNames: ['route', 'model', 'status'] as const,
    registers: [this.registry],
  });
  readonly httpDuration = new Histogram({
    name: 'skylark_http_request_duration_seconds',
    help: 'Time from request received to response finished (streams: to the last event).',
    labelNames: ['route', 'model', 'status'] as const,
    buckets: httpBuckets,
    registers: [this.registry],
  });
  readonly tokenUsage = new Histogram({
    name: 'gen_ai_client_token_usage',
    help: 'Billable tokens per request (OpenTelemetry gen_ai.client.token.usage), by gen_ai_token_type input/output.',
    labelNames: ['gen_ai_operation_name', 'gen_ai_request_model', 'gen_ai_response_model', 'gen_ai_token_type'] as const,
    buckets: tokenBuckets,
    registers: [this.registry],
  });
  readonly cachedTokens = new Counter({
    name: 'skylark_cached_input_tokens_total',
    help: 'Input tokens served from the engine prefix cache (part of gen_ai_client_token_usage input).',
    labelNames: ['gen_ai_request_model', 'gen_ai_response_model'] as const,
    registers: [this.registry],
  });
  readonly operationDuration = new Histogram({
    name: 'gen_ai_client_operation_duration_seconds',
    help: 'Whole generation time including the wait in the queue (OpenTelemetry gen_ai.client.operation.duration).',
    labelNames: ['gen_ai_operation_name', 'gen_ai_request_model', 'error_type'] as const,
    buckets: durationBuckets,
    registers: [this.registry],
  });
  readonly timeToFirstToken = new Histogram({
    name: 'gen_ai_server_time_to_first_token_seconds',
    help: 'Time from request admitted to billing to its first output token, queue wait included (gen_ai.server.time_to_first_token).',
    labelNames: ['gen_ai_operation_name', 'gen_ai_request_model'] as const,
    buckets: ttftBuckets,
    registers: [this.registry],
  });
  readonly timePerOutputToken = new Histogram({
    name: 'gen_ai_server_time_per_output_token_seconds',
    help: 'Time per output token after the first (gen_ai.server.time_per_output_token).',
    labelNames: ['gen_ai_operation_name', 'gen_ai_request_model'] as const,
    buckets: tpotBuckets,
    registers: [this.registry],
  });
  readonly queueWait = new Histogram({
    name: 'skylark_queue_wait_seconds',
    help: 'Time a generation waited in the scheduler for a replica, by the model that served it.',
    labelNames: ['model'] as const,
    buckets: queueWaitBuckets,
    registers: [this.registry],
  });
  readonly rejections = new Counter({
    name: 'skylark_early_rejections_total',
    help: 'Generations refused before any engine work (429/503), by model asked for, tenant tier and reason.',
    labelNames: ['model', 'tier', 'reason'] as const,
    registers: [this.registry],
  });
  /** Fed by whoever owns replica leases (shared scheduling): `metrics.leases.set({ replica }, n)`. */
  readonly leases = new Gauge({
    name: 'skylark_scheduler_leases',
    help: 'Replica slot leases held, by replica and holder ("self" for this gateway).',
    labelNames: ['replica', 'holder'] as const,
    registers: [this.registry],
  });
  readonly ledgerLag = new Histogram({
    name: 'skylark_ledger_write_lag_seconds',
    help: 'Time from a usage row queued to its batch committed.',
    buckets: ledgerBuckets,
    registers: [this.registry],
  });
  readonly redisDuration = new Histogram({
    name: 'skylark_redis_duration_seconds',
    help: 'Round trip of one Redis script call, by what it serves (funds holds, rate limits) and outcome.',
    labelNames: ['store', 'outcome'] as const,
    buckets: redisBuckets,
    registers: [this.registry],
  });

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  /** One HTTP response (the onResponse hook). */
  httpResponse(route: string, model: string, status: number, seconds: number): void {
    const labels = { route, model, status: String(status) };
    this.httpRequests.inc(labels);
    this.httpDuration.observe(labels, seconds);
  }

  /** One settled generation or embedding, as the usage sink sees it. */
  generation(entry: UsageEntry): void {
    const operation = operationOf[entry.endpoint];
    const requested = entry.model;
    const served = entry.servedModel ?? requested;
    const { promptTokens, completionTokens, cachedPromptTokens } = entry.usage;
    this.tokenUsage.observe({ gen_ai_operation_name: operation, gen_ai_request_model: requested, gen_ai_response_model: served, gen_ai_token_type: 'input' }, promptTokens);
    if (operation !== 'embeddings') {
      this.tokenUsage.observe({ gen_ai_operation_name: operation, gen_ai_request_model: requested, gen_ai_response_model: served, gen_ai_token_type: 'output' }, completionTokens);
    }
    if (cachedPromptTokens > 0) this.cachedTokens.inc({ gen_ai_request_model: requested, gen_ai_response_model: served }, cachedPromptTokens);
    const errorType = entry.status === 'error' ? (entry.errorCode ?? 'error') : '';
    this.operationDuration.observe({ gen_ai_operation_name: operation, gen_ai_request_model: requested, error_type: errorType }, entry.durationMs / 1000);
    if (entry.queueMs !== undefined) this.queueWait.observe({ model: served }, entry.queueMs / 1000);
    if (entry.firstTokenMs !== undefined && entry.status === 'ok') {
      this.timeToFirstToken.observe({ gen_ai_operation_name: operation, gen_ai_request_model: requested }, entry.firstTokenMs / 1000);
      if (completionTokens > 1) {
        const perToken = (entry.durationMs - entry.firstTokenMs) / (completionTokens - 1) / 1000;
        this.timePerOutputToken.observe({ gen_ai_operation_name: operation, gen_ai_request_model: requested }, perToken);
      }
    }
  }

  /** Prometheus text exposition of everything registered. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

/** Times a promise-returning call into `histogram` (seconds), labelled by its outcome. */
export function timed<A extends unknown[], R>(
  histogram: Histogram<'store' | 'outcome'>,
  store: string,
  call: (...args: A) => Promise<R>,
): (...args: A) => Promise<R> {
  return async (...args) => {
    const end = histogram.startTimer({ store });
    try {
      const result = await call(...args);
      end({ outcome: 'ok' });
      return result;
    } catch (error) {
      end({ outcome: 'error' });
      throw error;
    }
  };
}
