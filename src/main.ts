/**
 * The wiring of one Skylark process: config → engines → catalog → HTTP server.
 * Everything else receives what it needs from here.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { pino, type Logger } from 'pino';
import { buildServer, type SkylarkServer } from './api/server.js';
import { systemClock } from './core/clock.js';
import { defaultConfig, loadConfigFile, resolveFrom, type LoadedConfig } from './config/load-config.js';
import { createEngine } from './engines/registry.js';
import type { Engine } from './engines/engine.js';
import { writeTinyModel } from './engines/gguf/tiny-model.js';
import type { LlamaCppEngine } from './engines/llama-cpp/engine.js';
import { ModelCatalog, type ModelEntry } from './gateway/model-catalog.js';
import type { ServerDeps } from './api/server-deps.js';
import type { GatewayDeps, UsageSink } from './gateway/request-context.js';
import { openConsumer } from './wiring/consumer.js';
import { ensureAdminKey } from './cli/admin-key.js';
import { ApiKeys } from './tenancy/api-keys.js';
import { KeyAccess } from './tenancy/access.js';
import { replicaCostsOf } from './config/load-config.js';
import { accountServices } from './accounts/accounts.js';
import { openBilling } from './wiring/open-billing.js';
import { openDispatch } from './wiring/shared-scheduling.js';
import { StoredResponses } from './responses/stored-responses.js';
import { openBatches } from './wiring/batches.js';
import { openContexts } from './wiring/contexts.js';
import type { Store } from './store/database.js';
import type { UsageWriter } from './billing/usage-writer.js';
import { openObservability } from './wiring/observability.js';
import type { SkylarkMetrics } from './observability/metrics.js';

export interface PlatformOptions {
  dataDir: string;
  configPath?: string;
  host?: string;
  port?: number;
  /** Serve GET /metrics without a key on this port too (overrides server.metricsPort). */
  metricsPort?: number;
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  /** Called once with a newly generated admin key (first start only). */
  onNewAdminKey?: (key: string, path: string) => void;
}

export interface Platform {
  url: string;
  adminKey: string;
  store: Store;
  usageWriter: UsageWriter;
  server: SkylarkServer;
  catalog: ModelCatalog;
  /** Prometheus metrics, unless `server.metrics: false`; the unauthenticated listener's URL when one runs. */
  metrics: SkylarkMetrics | undefined;
  metricsUrl: string | undefined;
  /** Resolves when every engine has finished loading (or failed to). */
  enginesLoaded: Promise<void>;
  close(): Promise<void>;
}

export async function startPlatform(options: PlatformOptions): Promise<Platform> {
  const env = options.env ?? process.env;
  // Buffered, asynchronous log writes: a synchronous write per request was the largest single
  // cost of the info level in bench:gateway. close() flushes.
  const logger =
    options.logger ??
    pino({ level: env.SKYLARK_LOG_LEVEL ?? 'info' }, pino.destination({ dest: 1, sync: false, minLength: 4096 }));
  await mkdir(options.dataDir, { recursive: true });
  const adminKey = await ensureAdminKey(options.dataDir, env, options.onNewAdminKey);

  const loaded: LoadedConfig = options.configPath
    ? await loadConfigFile(options.configPath)
    : defaultConfig(options.dataDir);
  const { config, baseDir } = loaded;
  if (!options.configPath) await ensureTinyModel(resolveFrom(baseDir, 'models/skylark-tiny.gguf'), logger);

  const engines = new Map<string, Engine>();
  for (const [id, engineConfig] of Object.entries(config.engines)) {
    engines.set(id, await createEngine(id, engineConfig, { resolvePath: (path) => resolveFrom(baseDir, path), env }));
  }
  const created = Math.floor(Date.now() / 1000);
  const entries: ModelEntry[] = config.models.map((model) => ({
    id: model.id,
    family: model.family,
    tier: model.tier,
    capabilities: model.capabilities,
    contextWindow: model.contextWindow ?? null,
    engine: engines.get(model.engine[0]!)!,
    replicas: model.engine.map((id) => engines.get(id)!),
    fallbacks: model.fallbacks,
    engineModel: model.upstreamModel ?? model.id,
    ownedBy: model.ownedBy,
    created,
  }));
  const catalog = new ModelCatalog(entries);
  const observability = await openObservability({ metrics: config.server.metrics, env });
  const usage: UsageSink = {
    record: (entry) => {
      logger.info({ reqId: entry.requestId, usage: entry }, 'generation');
      observability.recordUsage(entry);
    },
  };
  const { store, billing, usageWriter, limits, endpoints, closeShared, redis, owner } = await openBilling(options.dataDir, env, entries, logger, observability.billingHooks);
  const access = new KeyAccess(adminKey, new ApiKeys(store.db), systemClock);
  const scheduling = await openDispatch(engines, entries, config.scheduler, { redis, owner, logger });
  const { dispatch } = scheduling;
  observability.watch({ queue: () => dispatch.snapshot(), engines: () => engines.values(), ledgerQueue: () => usageWriter.pending });
  const replicaCosts = replicaCostsOf(config);
  const contextCache = openContexts(store, usageWriter, config.contexts, logger);
  const deps: ServerDeps = {
    catalog, usage, clock: systemClock, access, billing, limits, endpoints, dispatch, replicaCosts, accounts: accountServices(store.db),
    responses: new StoredResponses(store.db, { retentionMs: retentionMsOf(config.responses.retentionDays), clock: systemClock }),
    contexts: contextCache.contexts,
  };
  const responseSweep = sweepEvery(config.responses.sweepIntervalMs, () => deps.responses.sweep(), logger);
  const consumer = await openConsumer(store, deps, { env, logger, redis });
  const batch = openBatches(store, deps, options.dataDir, config.batches, logger);
  const server = buildServer({
    deps,
    bodyLimitBytes: config.server.bodyLimit,
    logger,
    consumer: { deps: consumer.deps, shutdownGraceMs: config.server.shutdownGraceMs },
    webRoot: consumer.webRoot,
    observability,
    batch,
  });

  // Listen before loading weights so /healthz and /readyz answer while engines load.
  const address = await server.app.listen({
    host: options.host ?? config.server.host,
    port: options.port ?? config.server.port,
  });
  const metricsUrl = await observability.listen(options.host ?? config.server.host, options.metricsPort ?? config.server.metricsPort);
  const enginesLoaded = Promise.all(
    [...engines.values()].map(async (engine) => {
      try {
        await engine.start();
        fillContextWindows(entries, engine);
        logger.info({ engine: engine.id, kind: engine.kind }, 'engine ready');
      } catch (error) {
        logger.error({ engine: engine.id, err: error }, 'engine failed to start');
      }
    }),
  ).then(() => undefined);
  // Batch lines start once the engines have loaded (until then they would only be refused).
  void enginesLoaded.then(() => batch.runner.start());

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      clearInterval(responseSweep);
      const stopped = server.app.close();
      await server.inFlight.drain(config.server.shutdownGraceMs);
      await stopped;
      await enginesLoaded;
      await batch.runner.close(config.server.shutdownGraceMs);
      await contextCache.close();
      await Promise.all([...engines.values()].map((engine) => engine.close().catch(() => undefined)));
      await scheduling.close();
      await usageWriter.close();
      await closeShared();
      await store.close();
      await observability.close();
      await new Promise<void>((resolve) => logger.flush(() => resolve()));
    })());

  return { url: address, adminKey, store, usageWriter, server, catalog, metrics: observability.metrics, metricsUrl, enginesLoaded, close };
}

function fillContextWindows(entries: ModelEntry[], engine: Engine): void {
  // By kind, not instanceof: the class is imported only where a llama-cpp engine is configured.
  if (engine.kind !== 'llama-cpp') return;
  const described = (engine as LlamaCppEngine).describe();
  for (const entry of entries) {
    if (entry.engine === engine && entry.contextWindow === null && described) entry.contextWindow = described.contextSize;
  }
}

function retentionMsOf(days: number | null): number | null {
  return days === null ? null : Math.round(days * 86_400_000);
}

/** A periodic cleanup that never keeps the process alive and only logs when it fails. */
function sweepEvery(intervalMs: number, sweep: () => Promise<number>, logger: Logger): NodeJS.Timeout {
  const timer = setInterval(() => {
    sweep().then(
      (removed) => removed > 0 && logger.info({ removed }, 'expired stored responses deleted'),
      (error: unknown) => logger.warn({ err: error }, 'stored responses sweep failed'),
    );
  }, intervalMs);
  timer.unref();
  return timer;
}

async function ensureTinyModel(path: string, logger: Logger): Promise<void> {
  if (existsSync(path)) return;
  await writeTinyModel(path);
  logger.info({ path }, 'generated the built-in tiny model');
}
