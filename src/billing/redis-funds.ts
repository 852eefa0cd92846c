/**
 * Funds counters shared by every gateway replica through Redis: holds are checked and
 * taken in one Lua script, so two replicas can never both spend the last yuan.
 *
 * Each replica's holds are a field of its own (`h:<owner>`) in the account's hash, and each
 * replica keeps a heartbeat key alive. The recovery pass (at start, then periodically)
 * drops the hold fields of replicas whose heartbeat has expired: a gateway killed with
 * -9 leaves nothing held for longer than its heartbeat lives.
 */
import type { SharedRedis } from '../store/redis.js';
import type { FundsBackend, SnapshotAccount } from './funds.js';

const prefix = 'skylark:funds:';
const heartbeatPrefix = 'skylark:gw:';
const heartbeatMs = 15_000;

const holdScript = `
local field = ARGV[1]
local amount = tonumber(ARGV[2])
for i = 1, #KEYS do
  local base = tonumber(ARGV[1 + 2 * i])
  local spentAt = tonumber(ARGV[2 + 2 * i])
  local all = redis.call('HGETALL', KEYS[i])
  local spent, held = 0, 0
  for j = 1, #all, 2 do
    if all[j] == 'spent' then spent = tonumber(all[j + 1])
    elseif string.sub(all[j], 1, 2) == 'h:' then held = held + tonumber(all[j + 1]) end
  end
  if base - (spent - spentAt) - held < amount then return i - 1 end
end
for i = 1, #KEYS do redis.call('HINCRBY', KEYS[i], field, amount) end
return -1`;

const finishScript = `
for i = 1, #KEYS do
  local left = redis.call('HINCRBY', KEYS[i], ARGV[1], -tonumber(ARGV[2]))
  if left <= 0 then redis.call('HDEL', KEYS[i], ARGV[1]) end
  if tonumber(ARGV[3]) > 0 then redis.call('HINCRBY', KEYS[i], 'spent', ARGV[3]) end
end
return 0`;

export class RedisFundsBackend implements FundsBackend {
  private readonly holdOnAll;
  private readonly finishOnAll;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly redis: SharedRedis,
    private readonly owner: string,
  ) {
    this.holdOnAll = redis.script(holdScript);
    this.finishOnAll = redis.script(finishScript);
  }

  /** Starts the heartbeat and runs the first recovery pass. */
  async start(): Promise<{ released: number }> {
    await this.beat();
    const recovered = await this.recover();
    this.timer = setInterval(() => {
      this.beat()
        .then(() => this.recover())
        .catch(() => {}); // Redis away: holds stay until it is back; the next beat retries
    }, heartbeatMs / 3);
    this.timer.unref();
    return recovered;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.redis.client.del(heartbeatPrefix + this.owner);
  }

  async hold(owner: string, accounts: readonly SnapshotAccount[], amount: number): Promise<number> {
    const args: (string | number)[] = [`h:${owner}`, amount];
    for (const account of accounts) args.push(account.base, account.spentAtSnapshot);
    return Number(await this.holdOnAll(accounts.map((account) => prefix + account.id), args));
  }

  async finish(owner: string, accountIds: readonly string[], heldAmount: number, spentAmount: number): Promise<void> {
    await this.finishOnAll(
      accountIds.map((id) => prefix + id),
      [`h:${owner}`, heldAmount, spentAmount],
    );
  }

  async spent(accountIds: readonly string[]): Promise<number[]> {
    const pipeline = this.redis.client.pipeline();
    for (const id of accountIds) pipeline.hget(prefix + id, 'spent');
    const results = (await pipeline.exec()) ?? [];
    return results.map(([error, value]) => {
      if (error) throw error;
      return value === null ? 0 : Number(value);
    });
  }

  async held(accountId: string): Promise<number> {
    const fields = await this.redis.client.hgetall(prefix + accountId);
    return Object.entries(fields).reduce((sum, [field, value]) => (field.startsWith('h:') ? sum + Number(value) : sum), 0);
  }

  /** Drops the holds of replicas whose heartbeat has expired. */
  async recover(): Promise<{ released: number }> {
    const { client } = this.redis;
    let released = 0;
    const alive = new Map<string, boolean>();
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      for (const key of keys) {
        const fields = (await client.hkeys(key)).filter((field) => field.startsWith('h:'));
        for (const field of fields) {
          const owner = field.slice(2);
          if (!alive.has(owner)) alive.set(owner, (await client.exists(heartbeatPrefix + owner)) === 1);
          if (!alive.get(owner)) released += await client.hdel(key, field);
        }
      }
    } while (cursor !== '0');
    return { released };
  }

  private async beat(): Promise<void> {
    await this.redis.client.set(heartbeatPrefix + this.owner, '1', 'PX', heartbeatMs);
  }
}
