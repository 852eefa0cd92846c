/**
 * The billing side of one gateway process: the ledger (SQLite in the data dir, or
 * DATABASE_URL), funds holds and rate limits (in this process, or shared through Redis
 * when REDIS_URL is set, so N replicas enforce one limit), and the endpoint directory.
 */
import type { Logger } from 'pino';
import { systemClock } from '../core/clock.js';
import { newId } from '../core/ids.js';
import { Funds, MemoryFundsBackend } from '../billing/funds.js';
import { Ledger } from '../billing/ledger.js';
import { PriceCatalog, seedDoubaoPrices } from '../billing/price-catalog.js';
import { RateLimiter, type RateLimits } from '../billing/rate-limiter.js';
import { RedisFundsBackend } from '../billing/redis-funds.js';
import { RedisRateLimits } from '../billing/redis-rate-limits.js';
import { UsageWriter } from '../billing/usage-writer.js';
import { storeLocation } from '../cli/store-location.js';
import { operatorTenantId } from '../tenancy/access.js';
import { LedgerBilling } from '../billing/request-holds.js';
import type { ModelEntry } from '../gateway/model-catalog.js';
import { EndpointDirectory } from '../gateway/resolve-model.js';
import { openDatabase } from '../store/database.js';
import { migrateToLatest } from '../store/migrations/index.js';
import { openRedis } from '../store/redis.js';
import { Endpoints } from '../tenancy/endpoints.js';
import { Tenants } from '../tenancy/tenants.js';
import type { SharedRedis } from '../store/redis.js';

/** Observation points the metrics module plugs in (absent: nothing is measured). */
export interface BillingHooks {
  /** ms from a usage row queued to its commit. */
  onLedgerCommit?: (lagMs: number) => void;
  /** Wraps a Redis script call of `store` ('funds' or 'limits') to time it. */
  timeRedis?: <A extends unknown[], R>(store: string, call: (...args: A) => Promise<R>) => (...args: A) => Promise<R>;
}

/**
 * The admin key bills the built-in operator tenant (no balance limit, usage still
 * recorded); models in the pro and lite tiers get Doubao-style prices when they have none;
 * holds left in Redis by a replica that died are released.
 */
export async function openBilling(dataDir: string, env: NodeJS.ProcessEnv, entries: ModelEntry[], logger: Logger, hooks: BillingHooks = {}) {
  const store = await openDatabase(storeLocation({ data: dataDir, env }), {
    backgroundCheckpoints: true,
    onCheckpointError: (error) => logger.warn({ err: error }, 'sqlite checkpoint'),
  });
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
  const shared = await openShared(env.REDIS_URL, owner, logger, hooks);
  const usageWriter = new UsageWriter(ledger, {
    // Requests finishing within a millisecond of each other share one commit (a SQLite commit
    // writes ~10 WAL pages for one row or several); a lone request never waits.
    gatherMs: 1,
    onFailure: (settlement, error) => logger.error({ reqId: settlement.requestId, settlement, err: error }, 'a usage row could not be written'),
    ...(hooks.onLedgerCommit ? { onCommitted: hooks.onLedgerCommit } : {}),
  });
  const funds = new Funds(shared.funds, owner, systemClock);
  const billing = new LedgerBilling(ledger, funds, prices, usageWriter, systemClock);
  const endpoints = new EndpointDirectory(new Endpoints(store.db), systemClock);
  return { store, billing, usageWriter, limits: shared.limits, endpoints, closeShared: shared.close, redis: shared.redis, owner };
}

async function openShared(redisUrl: string | undefined, owner: string, logger: Logger, hooks: BillingHooks) {
  if (!redisUrl) {
    const limits: RateLimits = new RateLimiter(systemClock);
    return { funds: new MemoryFundsBackend(), limits, close: async () => {}, redis: undefined };
  }
  const redis = await openRedis(redisUrl, (error) => logger.warn({ err: error }, 'redis connection error'));
  const funds = new RedisFundsBackend(timedScripts(redis, 'funds', hooks), owner);
  const recovered = await funds.start();
  if (recovered.released > 0) logger.warn(recovered, 'released holds left by a stopped gateway');
  const limits = new RedisRateLimits(timedScripts(redis, 'limits', hooks), (error) => logger.warn({ err: error }, 'a rate-limit correction was lost'));
  return {
    funds,
    limits,
    redis,
    close: async () => {
      await funds.stop().catch(() => {});
      await redis.close();
    },
  };
}

/** The same connection, with each Lua script call timed for `store` when metrics are on. */
function timedScripts(redis: SharedRedis, store: string, hooks: BillingHooks): SharedRedis {
  const { timeRedis } = hooks;
  if (!timeRedis) return redis;
  return { client: redis.client, close: () => redis.close(), script: (lua) => timeRedis(store, redis.script(lua)) };
}
