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
import { LlamaCppEngine } from './engines/llama-cpp/engine.js';
import { ModelCatalog, type ModelEntry } from './gateway/model-catalog.js';
import type { UsageSink } from './gateway/request-context.js';
import { ensureAdminKey } from './cli/admin-key.js';
import { storeLocation } from './cli/store-location.js';
import { newId } from './core/ids.js';
import { Ledger } from './billing/ledger.js';
import { PriceCatalog, seedDoubaoPrices } from './billing/price-catalog.js';
import { UsageWriter } from './billing/usage-writer.js';
import { RateLimiter } from './billing/rate-limiter.js';
import { openDatabase, type Store } from './store/database.js';
import { migrateToLatest } from './store/migrations/index.js';
import { ApiKeys } from './tenancy/api-keys.js';
import { Tenants } from './tenancy/tenants.js';
import { KeyAccess, operatorTenantId } from './gateway/access.js';
import { LedgerBilling } from './gateway/billing.js';

export interface PlatformOptions {
  dataDir: string;
  configPath?: string;
  host?: string;
  port?: number;
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
    engines.set(id, createEngine(id, engineConfig, { resolvePath: (path) => resolveFrom(baseDir, path), env }));
  }
  const created = Math.floor(Date.now() / 1000);
  const entries: ModelEntry[] = config.models.map((model) => ({
    id: model.id,
    family: model.family,
    tier: model.tier,
    capabilities: model.capabilities,
    contextWindow: model.contextWindow ?? null,
    engine: engines.get(model.engine)!,
    engineModel: model.upstreamModel ?? model.id,
    ownedBy: model.ownedBy,
    created,
  }));
  const catalog = new ModelCatalog(entries);
  const usage: UsageSink = { record: (entry) => logger.info({ usage: entry }, 'generation') };
  const { store, billing, usageWriter } = await openBilling(options.dataDir, env, entries, logger);
  const access = new KeyAccess(adminKey, new ApiKeys(store.db), systemClock);
  const server = buildServer({
    deps: { catalog, usage, clock: systemClock, access, billing, limits: new RateLimiter(systemClock) },
    bodyLimitBytes: config.server.bodyLimit,
    logger,
  });

  // Listen before loading weights so /healthz and /readyz answer while engines load.
  const address = await server.app.listen({
    host: options.host ?? config.server.host,
    port: options.port ?? config.server.port,
  });
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

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      const stopped = server.app.close();
      await server.inFlight.drain(config.server.shutdownGraceMs);
      await stopped;
      await enginesLoaded;
      await Promise.all([...engines.values()].map((engine) => engine.close().catch(() => undefined)));
      await usageWriter.close();
      await store.close();
      await new Promise<void>((resolve) => logger.flush(() => resolve()));
    })());

  return { url: address, adminKey, store, usageWriter, server, catalog, enginesLoaded, close };
}

function fillContextWindows(entries: ModelEntry[], engine: Engine): void {
  if (!(engine instanceof LlamaCppEngine)) return;
  const described = engine.describe();
  for (const entry of entries) {
    if (entry.engine === engine && entry.contextWindow === null && described) entry.contextWindow = described.contextSize;
  }
}

async function ensureTinyModel(path: string, logger: Logger): Promise<void> {
  if (existsSync(path)) return;
  await writeTinyModel(path);
  logger.info({ path }, 'generated the built-in tiny model');
}

/**
 * The ledger behind every request: SQLite in the data dir, or DATABASE_URL. The admin key
 * bills the built-in operator tenant (no balance limit, usage still recorded); models in
 * the pro and lite tiers get Doubao-style prices when they have none; reservations left
 * by an earlier process that died are released.
 */
async function openBilling(dataDir: string, env: NodeJS.ProcessEnv, entries: ModelEntry[], logger: Logger) {
  const store = await openDatabase(storeLocation({ data: dataDir, env }));
  await migrateToLatest(store.db);
  const tenants = new Tenants(store.db);
  if (!(await tenants.get(operatorTenantId))) {
    await tenants.create({ id: operatorTenantId, name: 'operator', unlimited: true, tier: 'priority' }).catch(async (error) => {
      if (!(await tenants.get(operatorTenantId))) throw error; // another replica created it first
    });
  }
  const prices = new PriceCatalog(store.db);
  await seedDoubaoPrices(prices, {
    pro: entries.filter((entry) => entry.tier === 'pro').map((entry) => entry.id),
    lite: entries.filter((entry) => entry.tier === 'lite').map((entry) => entry.id),
  });
  const ledger = new Ledger(store.db);
  const owner = newId('gw');
  // SQLite is one process's file, so every hold in it is from a dead predecessor. On a shared
  // PostgreSQL other replicas are alive: release only holds older than any request lives.
  const recovered = await ledger.recoverReservations(
    owner,
    store.dialect === 'sqlite' ? {} : { createdBefore: Date.now() - 15 * 60_000 },
  );
  if (recovered.released > 0) logger.warn(recovered, 'released reservations left by a stopped process');
  const usageWriter = new UsageWriter(ledger, {
    onFailure: (settlement, error) => logger.error({ settlement, err: error }, 'a usage row could not be written'),
  });
  const billing = new LedgerBilling(ledger, prices, usageWriter, systemClock, owner);
  return { store, billing, usageWriter };
}
