/**
 * The Redis connection shared state lives in when gateways run as several replicas
 * (REDIS_URL). Everything above this file sees `SharedRedis`: a client plus Lua scripts
 * run by their SHA, so a hot path sends a hash, not the script, on every call.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

export interface SharedRedis {
  readonly client: Redis;
  /** A Lua script, loaded once and run atomically by its SHA. */
  script(lua: string): RedisScript;
  close(): Promise<void>;
}

export type RedisScript = (keys: readonly string[], args: readonly (string | number)[]) => Promise<unknown>;

export async function openRedis(url: string, onError: (error: Error) => void = () => {}): Promise<SharedRedis> {
  // Imported here: only gateways sharing state through REDIS_URL need the client.
  const { Redis } = await import('ioredis');
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2, enableAutoPipelining: true });
  // Without a listener a connection blip would be an unhandled 'error' event.
  client.on('error', onError);
  await client.connect();
  return {
    client,
    script(lua) {
      const sha = createHash('sha1').update(lua).digest('hex');
      return async (keys, args) => {
        try {
          return await client.evalsha(sha, keys.length, ...keys, ...args);
        } catch (error) {
          // A restarted or flushed Redis has forgotten the script: send it once more.
          if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
          return client.eval(lua, keys.length, ...keys, ...args);
        }
      };
    },
    async close() {
      await client.quit().catch(() => client.disconnect());
    },
  };
}
