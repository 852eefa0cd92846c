/**
 * One OpenTelemetry span per generation request, following the GenAI semantic conventions
 * (span `{operation} {model}`, gen_ai.* attributes), exported over OTLP/HTTP when
 * OTEL_EXPORTER_OTLP_ENDPOINT is set. The SDK is imported only then: a gateway without a
 * collector never loads it (it is tens of MB of heap).
 *
 * The span is built when the response has closed, with the request's own start time: by
 * then the body (model, max_tokens, temperature), the usage (from the usage sink) and the
 * status are all known, and nothing runs on the request path but a Map insert.
 * Settings come from the usual variables: OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT,
 * OTEL_SERVICE_NAME, OTEL_BSP_SCHEDULE_DELAY, OTEL_EXPORTER_OTLP_HEADERS (the exporter reads
 * that one from the process environment). Spans go out as OTLP/HTTP JSON.
 */
import type { UsageEntry } from '../gateway/request-context.js';

export interface FinishedRequest {
  requestId: string;
  operation: 'chat' | 'text_completion' | 'embeddings';
  /** The parsed JSON body, whatever the client sent. */
  body: unknown;
  /** Epoch ms when the request arrived. */
  startedAt: number;
  status: number;
  /** Our error code when the request failed before its response started. */
  errorCode?: string | undefined;
  headers: Record<string, string | string[] | undefined>;
  serverAddress: string;
  serverPort?: number | undefined;
}

export interface RequestTracer {
  /** A generation request arrived: its usage, when the sink reports it, is kept for its span. */
  begin(requestId: string): void;
  /** The usage sink's entry for a request: its tokens and served model go on its span. */
  usage(entry: UsageEntry): void;
  finish(request: FinishedRequest): void;
  shutdown(): Promise<void>;
}

/** Starts the OpenTelemetry SDK and returns the tracer, or undefined when no endpoint is set. */
export async function startTracing(env: NodeJS.ProcessEnv, serviceVersion: string): Promise<RequestTracer | undefined> {
  if (!env.OTEL_EXPORTER_OTLP_ENDPOINT && !env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return undefined;
  const [{ tracing, resources, core }, { OTLPTraceExporter }, api] = await Promise.all([
    import('@opentelemetry/sdk-node'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/api'),
  ]);
  // A provider of our own rather than NodeSDK's global one: no module patching, no metrics or
  // logs pipelines (Prometheus serves metrics), and two platforms in one process (tests) do
  // not share a tracer.
  const provider = new tracing.BasicTracerProvider({
    resource: resources.resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME ?? 'skylark', 'service.version': serviceVersion }),
    spanProcessors: [
      new tracing.BatchSpanProcessor(new OTLPTraceExporter({ url: tracesUrl(env) }), {
        ...(env.OTEL_BSP_SCHEDULE_DELAY ? { scheduledDelayMillis: Number(env.OTEL_BSP_SCHEDULE_DELAY) } : {}),
      }),
    ],
  });
  const tracer = provider.getTracer('skylark', serviceVersion);
  const propagator = new core.W3CTraceContextPropagator();
  // Only requests begun here: usage of other generations (web-app replies) is not kept.
  const usages = new Map<string, UsageEntry | undefined>();

  return {
    begin(requestId) {
      usages.set(requestId, undefined);
    },
    usage(entry) {
      if (usages.has(entry.requestId)) usages.set(entry.requestId, entry);
    },
    finish(request) {
      const entry = usages.get(request.requestId);
      usages.delete(request.requestId);
      const body = (typeof request.body === 'object' && request.body !== null ? request.body : {}) as Record<string, unknown>;
      const requestModel = typeof body.model === 'string' ? body.model : undefined;
      const attributes: Record<string, string | number> = {
        'gen_ai.operation.name': request.operation,
        'server.address': request.serverAddress,
        'http.response.status_code': request.status,
        'skylark.request_id': request.requestId,
      };
      if (request.serverPort !== undefined) attributes['server.port'] = request.serverPort;
      if (requestModel !== undefined) attributes['gen_ai.request.model'] = requestModel;
      const maxTokens = body.max_completion_tokens ?? body.max_tokens;
      if (typeof maxTokens === 'number') attributes['gen_ai.request.max_tokens'] = maxTokens;
      for (const [field, name] of [['temperature', 'gen_ai.request.temperature'], ['top_p', 'gen_ai.request.top_p'], ['seed', 'gen_ai.request.seed']] as const) {
        if (typeof body[field] === 'number') attributes[name] = body[field];
      }
      if (entry) {
        attributes['gen_ai.response.model'] = entry.servedModel ?? entry.model;
        attributes['gen_ai.usage.input_tokens'] = entry.usage.promptTokens;
        if (request.operation !== 'embeddings') attributes['gen_ai.usage.output_tokens'] = entry.usage.completionTokens;
        if (entry.usage.cachedPromptTokens > 0) attributes['gen_ai.usage.cache_read.input_tokens'] = entry.usage.cachedPromptTokens;
        if (entry.queueMs !== undefined) attributes['skylark.queue_ms'] = Math.round(entry.queueMs);
      }
      const errorType = entry?.status === 'error' ? (entry.errorCode ?? 'error') : (request.errorCode ?? (request.status >= 400 ? String(request.status) : undefined));
      if (errorType !== undefined) attributes['error.type'] = errorType;

      // A caller that sent W3C trace context gets our span as a child of its own.
      const parent = propagator.extract(api.ROOT_CONTEXT, request.headers, api.defaultTextMapGetter);
      const span = tracer.startSpan(
        requestModel === undefined ? request.operation : `${request.operation} ${requestModel}`,
        { kind: api.SpanKind.SERVER, startTime: request.startedAt, attributes },
        parent,
      );
      if (errorType !== undefined) span.setStatus({ code: api.SpanStatusCode.ERROR, message: errorType });
      span.end();
    },
    async shutdown() {
      usages.clear();
      await provider.shutdown();
    },
  };
}

/** The traces URL as the OTLP exporter spec derives it: the signal's own variable as is, else the base + /v1/traces. */
function tracesUrl(env: NodeJS.ProcessEnv): string {
  if (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  return `${env.OTEL_EXPORTER_OTLP_ENDPOINT!.replace(/\/+$/, '')}/v1/traces`;
}
