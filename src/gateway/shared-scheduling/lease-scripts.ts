/**
 * The Lua scripts of shared scheduling. Each runs atomically in Redis, so two gateways can
 * never both take the last slot of a replica, nor both believe they are first in line.
 *
 * Keys (one Redis, not a cluster: the sweep reaches keys it finds in sets):
 *  - `line:<model>`   sorted set of waiting members, ordered by fair start tag;
 *                     a member is `<seq>|<owner>|<requestId>`, so ties go by arrival and a
 *                     sweep can tell whose it is.
 *  - `fair:<model>`   hash: `v` the line's virtual time (start tag of the last grant), and
 *                     per flow `<tier>:<tenant>` the finish tag of its last queued request.
 *  - `lease:<replica>` hash member → owner: the replica's slots in use.
 *  - `alive:<owner>`  the gateway's heartbeat (a key with a short TTL).
 *  - `lines`, `replicas` sets naming the keys above, for the sweep.
 */
export const keyPrefix = 'skylark:sched:';
export const freedChannel = `${keyPrefix}freed`;

/**
 * Joins the line (first call only) and takes a lease when the request is within the first
 * `free` places, free counted over the candidate replicas. One round trip on the fast path.
 * KEYS: line, fair, lease of each candidate. ARGV: member ('' to join), owner, requestId,
 * flow, step, offset, preferred (1-based candidate index, 0 none), then each candidate's slots.
 * Returns {1, member, candidateIndex, rank} or {0, member, rank, free}.
 */
export const acquireScript = `
local prefix = '${keyPrefix}'
local member = ARGV[1]
local score
if member ~= '' then score = redis.call('ZSCORE', KEYS[1], member) end
if member == '' or not score then
  if member == '' then
    local seq = redis.call('INCR', prefix .. 'seq')
    member = string.format('%015d', seq) .. '|' .. ARGV[2] .. '|' .. ARGV[3]
  end
  local v = tonumber(redis.call('HGET', KEYS[2], 'v') or '0')
  local f = tonumber(redis.call('HGET', KEYS[2], ARGV[4]) or '0')
  local start = math.max(v, f)
  redis.call('HSET', KEYS[2], ARGV[4], tostring(start + tonumber(ARGV[5])))
  score = start + tonumber(ARGV[6])
  redis.call('ZADD', KEYS[1], score, member)
  redis.call('SADD', prefix .. 'lines', KEYS[1])
end
local rank = redis.call('ZRANK', KEYS[1], member)
local preferred = tonumber(ARGV[7])
local free, best, bestRoom = 0, 0, 0
for i = 3, #KEYS do
  local index = i - 2
  local room = tonumber(ARGV[7 + index]) - redis.call('HLEN', KEYS[i])
  if room > 0 then
    free = free + room
    if index == preferred then best, bestRoom = index, 1e18
    elseif room > bestRoom then best, bestRoom = index, room end
  end
end
if rank >= free or best == 0 then return {0, member, rank, free} end
redis.call('HSET', KEYS[2 + best], member, ARGV[2])
redis.call('SADD', prefix .. 'replicas', KEYS[2 + best])
redis.call('ZREM', KEYS[1], member)
local offset = tonumber(ARGV[6])
if offset == 0 then
  local v = tonumber(redis.call('HGET', KEYS[2], 'v') or '0')
  if tonumber(score) > v then redis.call('HSET', KEYS[2], 'v', tostring(score)) end
end
return {1, member, best, rank}`;

/**
 * Gives a lease back and corrects the flow's finish tag by the service actually received
 * (actual minus the estimate charged at entry); tells waiting gateways a slot is free, and
 * names the first `heads` members of the line: those are the ones the slot may go to, and a
 * gateway cannot tell from the place it last heard (which newcomers and grants since have
 * moved) that its waiter has reached the head. Without the names, waiters whose last place
 * was far back asked only on the periodic retry while the slot stayed idle or went to
 * someone behind them.
 * KEYS: lease, fair, line. ARGV: member, flow, correction, model, heads.
 * Publishes `model\nmember\nmember...`. Returns the replica's leases left.
 */
export const releaseScript = `
redis.call('HDEL', KEYS[1], ARGV[1])
local correction = tonumber(ARGV[3])
if correction ~= 0 then redis.call('HINCRBYFLOAT', KEYS[2], ARGV[2], correction) end
local message = ARGV[4]
local heads = tonumber(ARGV[5])
if heads > 0 then
  for _, member in ipairs(redis.call('ZRANGE', KEYS[3], 0, heads - 1)) do message = message .. '\\n' .. member end
end
redis.call('PUBLISH', '${freedChannel}', message)
return redis.call('HLEN', KEYS[1])`;

/**
 * Leaves the line unserved (cancelled, refused): the flow gets its step back, so a request
 * that was never served does not count against its tenant's share.
 * KEYS: line, fair. ARGV: member, flow, step. Returns 1 when it was waiting.
 */
export const withdrawScript = `
local removed = redis.call('ZREM', KEYS[1], ARGV[1])
if removed == 1 then redis.call('HINCRBYFLOAT', KEYS[2], ARGV[2], -tonumber(ARGV[3])) end
if removed == 1 then redis.call('PUBLISH', '${freedChannel}', '') end
return removed`;

/**
 * Drops the leases and places in line of gateways whose heartbeat has expired (killed,
 * cut off). Returns {leases freed, places dropped}; publishes when it freed anything.
 */
export const sweepScript = `
local prefix = '${keyPrefix}'
local alive = {}
local function isAlive(owner)
  if alive[owner] == nil then alive[owner] = redis.call('EXISTS', prefix .. 'alive:' .. owner) == 1 end
  return alive[owner]
end
local freed, dropped = 0, 0
for _, key in ipairs(redis.call('SMEMBERS', prefix .. 'replicas')) do
  local all = redis.call('HGETALL', key)
  for j = 1, #all, 2 do
    if not isAlive(all[j + 1]) then freed = freed + redis.call('HDEL', key, all[j]) end
  end
end
for _, key in ipairs(redis.call('SMEMBERS', prefix .. 'lines')) do
  for _, member in ipairs(redis.call('ZRANGE', key, 0, -1)) do
    local owner = string.match(member, '^[^|]*|([^|]*)|')
    if owner and not isAlive(owner) then dropped = dropped + redis.call('ZREM', key, member) end
  end
end
if freed + dropped > 0 then redis.call('PUBLISH', '${freedChannel}', '') end
return {freed, dropped}`;
