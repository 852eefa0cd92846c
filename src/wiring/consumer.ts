/**
 * The consumer side of one process: the web app's stores and limits over the shared
 * store, the `app:{slug}` directory the gateway reads, and where the built web app is.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { Apps } from '../apps/apps.js';
import { AttemptLimiter } from '../apps/attempt-limiter.js';
import { Conversations } from '../apps/conversations.js';
import { EndUsers } from '../apps/end-users.js';
import { Quotas } from '../apps/quotas.js';
import { AppDirectory } from '../gateway/app-model.js';
import { ChatRuns } from '../consumer/chat-runs.js';
import { RedisReplyRelay } from '../consumer/redis-reply-relay.js';
import { localReplies, type ReplyRelay } from '../consumer/reply-relay.js';
import type { ConsumerDeps } from '../consumer/consumer-deps.js';
import type { GatewayDeps } from '../gateway/request-context.js';
import type { Store } from '../store/database.js';
import type { SharedRedis } from '../store/redis.js';

export interface ConsumerOptions {
  env: NodeJS.ProcessEnv;
  logger: Logger;
  /** The shared Redis (REDIS_URL): replies are then followed across gateways. */
  redis?: SharedRedis | undefined;
}

export interface Consumer {
  deps: ConsumerDeps;
  /** dist/web of this package, or $SKYLARK_WEB_ROOT; undefined when not built. */
  webRoot: string | undefined;
}

/** Adds `apps` to the gateway's deps (for `app:{slug}` models) and returns the web app's. */
export async function openConsumer(store: Store, gateway: GatewayDeps, options: ConsumerOptions): Promise<Consumer> {
  const now = Date.now;
  const apps = new Apps(store.db, now);
  gateway.apps = new AppDirectory(apps, gateway.clock);
  const conversations = new Conversations(store.db, now);
  // On SQLite this process is the only writer, so a reply still marked as being written
  // was cut off when the last process stopped.
  if (store.dialect === 'sqlite') {
    const orphaned = await conversations.stopOrphanedReplies();
    if (orphaned > 0) options.logger.warn({ orphaned }, 'marked replies cut off by a stop as stopped');
  }
  const users = new EndUsers(store.db, now);
  await users.pruneSessions();
  const relay = await openRelay(options);
  const deps: ConsumerDeps = {
    gateway,
    db: store.db,
    users,
    apps,
    conversations,
    quotas: new Quotas(store.db, now),
    runs: new ChatRuns(relay),
    relay,
    signInLimiter: new AttemptLimiter({ limit: positive(options.env.SKYLARK_SIGNIN_ATTEMPTS, 5), windowMs: 15 * 60_000 }, now),
    signUpLimiter: new AttemptLimiter({ limit: positive(options.env.SKYLARK_SIGNUPS_PER_IP, 30), windowMs: 60 * 60_000 }, now),
    guestDailyTokens: positive(options.env.SKYLARK_GUEST_DAILY_TOKENS, 2000),
    now,
  };
  return { deps, webRoot: webRoot(options.env) };
}

async function openRelay(options: ConsumerOptions): Promise<ReplyRelay> {
  if (options.redis === undefined) return localReplies;
  const relay = new RedisReplyRelay(options.redis, {
    onError: (error, what) => options.logger.warn({ err: error }, `${what} failed`),
  });
  await relay.start();
  return relay;
}

function positive(text: string | undefined, fallback: number): number {
  const value = Number(text);
  return text !== undefined && Number.isInteger(value) && value > 0 ? value : fallback;
}

/** This package's dist/web, found from this file whether it runs from src/ or dist/src/. */
function webRoot(env: NodeJS.ProcessEnv): string | undefined {
  if (env.SKYLARK_WEB_ROOT) return resolve(env.SKYLARK_WEB_ROOT);
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 5; depth++) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'skylark') {
      const built = join(dir, 'dist', 'web');
      return existsSync(join(built, 'index.html')) ? built : undefined;
    }
    dir = dirname(dir);
  }
  return undefined;
}
