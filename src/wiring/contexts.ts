/** Ark-style context caching for one gateway process: the store, and the sweep that expires contexts. */
import type { Logger } from 'pino';
import { PriceCatalog } from '../billing/price-catalog.js';
import type { UsageWriter } from '../billing/usage-writer.js';
import type { SkylarkConfig } from '../config/config-schema.js';
import { StoredContexts } from '../contexts/stored-contexts.js';
import type { ContextCache } from '../gateway/context-cache.js';
import type { Store } from '../store/database.js';

export function openContexts(store: Store, usageWriter: UsageWriter, config: SkylarkConfig['contexts'], logger: Logger) {
  // Storage charges are usage rows written by the same group-committing writer as requests.
  const contexts: ContextCache = {
    store: new StoredContexts(store.db, new PriceCatalog(store.db), (settlement) => usageWriter.enqueue(settlement)),
    minTtlSeconds: config.minTtlSeconds,
  };
  let sweeping: Promise<unknown> | undefined;
  // Every gateway sweeps; the compare-and-set in StoredContexts lets only one charge each expiry.
  const timer = setInterval(() => {
    sweeping ??= contexts.store
      .sweep()
      .catch((error: unknown) => logger.warn({ err: error }, 'context expiry sweep'))
      .finally(() => (sweeping = undefined));
  }, config.sweepMs);
  timer.unref();
  return {
    contexts,
    close: async () => {
      clearInterval(timer);
      await sweeping;
    },
  };
}
