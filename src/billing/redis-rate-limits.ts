/**
 * RPM/TPM token buckets shared by every gateway replica: the same arithmetic as the
 * in-process RateLimiter, run as one Lua script per request so N replicas admit exactly
 * what one would. Time is Redis's own clock (TIME), so replicas with drifting clocks
 * still refill one bucket consistently.
 */
import type { SharedRedis } from '../store/redis.js';
import type { Admission, LimitBucket, LimitState, RateLimits } from './rate-limiter.js';

const prefix = 'skylark:rl:';
/** A bucket refills completely in a minute; an idle one can be forgotten after two. */
const idleTtlMs = 120_000;

// Per bucket i: KEYS[i] is a hash {r, t, ts, rc, tc}; ARGV = tokens, then rpm_i, tpm_i.
const admitScript = `
local now_parts = redis.call('TIME')
local now = now_parts[1] * 1000 + math.floor(now_parts[2] / 1000)
local tokens = tonumber(ARGV[1])
local state = {}
local wait, exceeded = 0, 0
for i = 1, #KEYS do
  local rpm = tonumber(ARGV[2 * i]); local tpm = tonumber(ARGV[2 * i + 1])
  local h = redis.call('HMGET', KEYS[i], 'r', 't', 'ts', 'rc', 'tc')
  local r, t, ts = tonumber(h[1]), tonumber(h[2]), tonumber(h[3])
  if r == nil or tonumber(h[4]) ~= rpm or tonumber(h[5]) ~= tpm then r = rpm; t = tpm; ts = now end
  local dt = math.max(0, now - ts)
  r = math.min(rpm, r + dt * rpm / 60000)
  t = math.min(tpm, t + dt * tpm / 60000)
  local charge = math.min(tokens, tpm)
  local rw = 0
  if r < 1 then rw = math.ceil((1 - r) * 60000 / rpm) end
  local tw = 0
  if t < charge then tw = math.ceil((charge - t) * 60000 / tpm) end
  local w = math.max(rw, tw)
  if w > wait then
    wait = w
    if rw >= tw then exceeded = 0 else exceeded = 1 end
  end
  state[i] = { r, t, rpm, tpm, charge }
end
if wait == 0 then
  for i = 1, #KEYS do
    local s = state[i]
    s[1] = s[1] - 1; s[2] = s[2] - s[5]
    redis.call('HSET', KEYS[i], 'r', tostring(s[1]), 't', tostring(s[2]), 'ts', now, 'rc', s[3], 'tc', s[4])
    redis.call('PEXPIRE', KEYS[i], ${idleTtlMs})
  end
end
local f = state[1]
return { wait == 0 and 1 or 0, wait, exceeded,
  math.floor(math.max(0, f[1])), math.ceil((f[3] - f[1]) * 60000 / f[3]),
  math.floor(math.max(0, f[2])), math.ceil((f[4] - f[2]) * 60000 / f[4]),
  f[3], f[4] }`;

// Gives back (or takes) ARGV[i] tokens on bucket i, as refilled to now.
const adjustScript = `
local now_parts = redis.call('TIME')
local now = now_parts[1] * 1000 + math.floor(now_parts[2] / 1000)
for i = 1, #KEYS do
  local h = redis.call('HMGET', KEYS[i], 't', 'ts', 'tc')
  local t, ts, tpm = tonumber(h[1]), tonumber(h[2]), tonumber(h[3])
  if t ~= nil then
    t = math.min(tpm, t + math.max(0, now - ts) * tpm / 60000)
    t = math.min(tpm, t + tonumber(ARGV[i]))
    redis.call('HSET', KEYS[i], 't', tostring(t), 'ts', now)
  end
end
return 0`;

export class RedisRateLimits implements RateLimits {
  private readonly admitOnAll;
  private readonly adjustAll;

  constructor(
    redis: SharedRedis,
    private readonly onError: (error: unknown) => void = () => {},
  ) {
    this.admitOnAll = redis.script(admitScript);
    this.adjustAll = redis.script(adjustScript);
  }

  async admit(limits: readonly LimitBucket[], estimatedTokens: number): Promise<Admission> {
    if (limits.length === 0) {
      const none: LimitState = { limit: 0, remaining: 0, resetMs: 0 };
      return { ok: true, requests: none, tokens: none, settle: () => {} };
    }
    const keys = limits.map((limit) => prefix + limit.id);
    const args: number[] = [estimatedTokens];
    for (const limit of limits) args.push(limit.rpm, limit.tpm);
    const [ok, wait, exceeded, reqLeft, reqReset, tokLeft, tokReset, rpm, tpm] = (await this.admitOnAll(keys, args)) as number[];
    const requests: LimitState = { limit: rpm!, remaining: reqLeft!, resetMs: reqReset! };
    const tokens: LimitState = { limit: tpm!, remaining: tokLeft!, resetMs: tokReset! };
    if (ok !== 1) return { ok: false, retryAfterMs: wait!, exceeded: exceeded === 0 ? 'requests' : 'tokens', requests, tokens };
    const charges = limits.map((limit) => Math.min(estimatedTokens, limit.tpm));
    let settled = false;
    return {
      ok: true,
      requests,
      tokens,
      settle: (actualTokens) => {
        if (settled) return;
        settled = true;
        const differences = charges.map((charge) => charge - actualTokens);
        if (differences.every((difference) => difference === 0)) return;
        // Off the response path: a lost correction only leaves the bucket slightly fuller or emptier for a minute.
        this.adjustAll(keys, differences).catch(this.onError);
      },
    };
  }
}
