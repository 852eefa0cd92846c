import { z } from 'zod';
import { engineConfigSchema } from '../engines/registry.js';

const capability = z.enum(['chat', 'completions', 'embeddings', 'tools', 'vision', 'json_schema', 'images', 'speech', 'transcription']);

const byteSize = z.union([
  z.number().int().min(1024),
  z
    .string()
    .regex(/^\d+(\.\d+)?\s*(b|kb|mb|gb)$/i, 'a size like "10mb"')
    .transform((text) => {
      const [, amount, unit] = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)$/i.exec(text)!;
      const scale = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }[unit!.toLowerCase() as 'b'];
      return Math.round(Number(amount) * scale);
    }),
]);

export const modelConfigSchema = z.strictObject({
  id: z.string().min(1).regex(/^[^\s]+$/, 'no spaces'),
  /** One engine, or several replicas of the same model (the scheduler spreads requests over them). */
  engine: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).transform((value) => (typeof value === 'string' ? [value] : value)),
  /** Models to serve a request with when this one cannot meet its deadline, in order (e.g. pro → lite). */
  fallbacks: z.array(z.string().min(1)).default([]),
  /** The upstream's own name for the model; defaults to id. */
  upstreamModel: z.string().min(1).optional(),
  family: z.string().default('skylark'),
  tier: z.string().default('standard'),
  contextWindow: z.number().int().min(1).optional(),
  capabilities: z.array(capability).min(1).default(['chat', 'completions']),
  ownedBy: z.string().default('skylark'),
});

export const configSchema = z.strictObject({
  server: z
    .strictObject({
      host: z.string().default('127.0.0.1'),
      port: z.number().int().min(0).max(65535).default(8080),
      bodyLimit: byteSize.default(10 * 1024 * 1024),
      shutdownGraceMs: z.number().int().min(0).default(10_000),
      /** Prometheus metrics: GET /metrics with the admin key; false turns them off. */
      metrics: z.boolean().default(true),
      /** A second listener serving only GET /metrics, without a key, for scrapers (same host). */
      metricsPort: z.number().int().min(0).max(65535).optional(),
    })
    .prefault({}),
  engines: z.record(z.string().regex(/^[a-zA-Z0-9_-]+$/, 'letters, digits, _ or -'), engineConfigSchema),
  models: z.array(modelConfigSchema).min(1),
  /** What each engine (replica) costs to run, per hour, in `currency`: GET /admin/economics sets it against revenue. */
  costs: z
    .strictObject({
      currency: z.enum(['CNY', 'USD']).default('CNY'),
      perHour: z.record(z.string(), z.string().regex(/^\d+(\.\d{1,6})?$/, 'a decimal amount like "18.50"')).default({}),
    })
    .prefault({}),
  /** The scheduler: which policy, and overrides of its defaults (see src/scheduler/config.ts). */
  scheduler: z
    .strictObject({
      policy: z.enum(['skylark', 'naive', 'random', 'least-request', 'cache-aware']).default('skylark'),
      tierMaxWaitMs: z
        .strictObject({ priority: z.number().int().min(1), standard: z.number().int().min(1), free: z.number().int().min(1), batch: z.number().int().min(1) })
        .partial()
        .optional(),
      maxQueuedPerTenant: z.number().int().min(1).optional(),
      /** Interactive requests take the place of running batch lines rather than wait for them (see src/scheduler/preemption.ts). */
      batchPreemption: z.boolean().optional(),
      /** A batch line younger than this (ms) is not preempted. */
      batchPreemptMinRunMs: z.number().int().min(0).optional(),
      /** Fraction of each replica's slots batch work may not take. */
      batchSlotReserve: z.number().min(0).max(1).optional(),
      /** Completed requests of a model measured before a long wait estimate refuses a request. */
      minMeasuredToRefuse: z.number().int().min(0).default(20),
    })
    .prefault({}),
  /** Ark-style context caching (`POST /v1/context/create`, src/contexts). */
  contexts: z
    .strictObject({
      /**
       * Shortest `ttl` accepted, seconds. Ark's is 3600; lower it only for tests and demos
       * (storage is still charged exactly for the time held).
       */
      minTtlSeconds: z.number().int().min(1).max(604_800).default(3600),
      /** How often expired contexts are swept (charged up to their expiry and freed), ms. */
      sweepMs: z.number().int().min(100).default(60_000),
    })
    .prefault({}),
  /** The Files and Batch APIs (src/batch). */
  batches: z
    .strictObject({
      /** Largest file `POST /v1/files` accepts (and so the largest batch input). */
      maxFileSize: byteSize.default(200 * 1024 * 1024),
      /** Where uploaded files are kept; relative to the data dir. */
      filesDir: z.string().default('files'),
      /** Batch lines in flight on one gateway at once (they wait in the scheduler's batch tier). */
      concurrency: z.number().int().min(1).default(32),
      /** A gateway that has not renewed its lease on a batch for this long loses it to another. */
      leaseMs: z.number().int().min(100).default(10_000),
      pollMs: z.number().int().min(10).default(500),
    })
    .prefault({}),
  /** The Responses API's stored responses (src/responses). */
  responses: z
    .strictObject({
      /** Days a stored response stays readable (OpenAI keeps 30); `null` keeps them forever. */
      retentionDays: z.number().positive().nullable().default(30),
      /** How often expired responses are deleted. */
      sweepIntervalMs: z.number().int().min(1000).default(3_600_000),
    })
    .prefault({}),
});

export type SkylarkConfig = z.infer<typeof configSchema>;
export type ModelConfig = z.infer<typeof modelConfigSchema>;
