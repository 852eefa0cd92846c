/**
 * The Lua scripts of shared scheduling. Each runs atomically in Redis, so two gateways can
 * never both take the last slot of a replica, nor both believe they are first in line.
 *
 * Keys (one Redis, not a cluster: the sweep reaches keys it finds in sets):
 *  - `line:<model>`   sorted set of waiting members, ordered by fair start tag;
 *                     a member is `<tier rank><seq>|<owner>|<requestId>` (tier rank 0
 *                     priority … 3 batch), so ties go to the higher tier, then by arrival
 *                     (newcomers start at `v`, where ties are common), and a sweep can tell
 *                     whose it is.
 *  - `fair:<model>`   hash: `v` the line's virtual time (start tag of the last grant), and
 *                     per flow `<tier>:<tenant>` the finish tag of its last queued request.
 *  - `aging:<model>`, `rescue:<model>` sorted sets of waiting members by the moment (wall-clock
 *                     ms, from the gateways) they age and need rescue; see `promote` below.
 *  - `lease:<replica>` hash member → owner: the replica's slots in use.
 *  - `alive:<owner>`  the gateway's heartbeat (a key with a short TTL).
 *  - `lines`, `replicas` sets naming the keys above, for the sweep.
 */
export const keyPrefix = 'skylark:sched:';
export const freedChannel = `${keyPrefix}freed`;

/** Batch waits behind every interactive request, as in the in-process scheduler. */
export const batchOffset = 1e15;
/** A rescued member's score is its rescue moment less this: before every fair tag. */
export const rescueOffset = 1e15;

/**
 * Aging, as the in-process scheduler does it (tiers.ts), in the one line: a member that has
 * waited `agingFraction` of its deadline goes to the head of fair order (its score drops to
 * `v`, where no newcomer can pass it: a newcomer starts at `v` or later and ties go by
 * arrival); one at `rescueFraction`, about to miss its deadline, goes before everyone,
 * earliest deadline first (its score becomes rescueAt − rescueOffset). Batch has no share to
 * go first within: it is rescued straight away at its aging moment. Run at the start of
 * every acquire and release, so the heads a release names are the ones the line serves.
 * Needs `line`, `fair`, `aging`, `rescue` (keys) and `now` (ms) in scope.
 */
const promote = `
local due = redis.call('ZRANGEBYSCORE', rescue, '-inf', now, 'WITHSCORES')
for i = 1, #due, 2 do
  redis.call('ZADD', line, 'XX', tonumber(due[i + 1]) - ${rescueOffset}, due[i])
  redis.call('ZREM', aging, due[i])
end
if #due > 0 then redis.call('ZREMRANGEBYSCORE', rescue, '-inf', now) end
due = redis.call('ZRANGEBYSCORE', aging, '-inf', now)
if #due > 0 then
  local v = tonumber(redis.call('HGET', fair, 'v') or '0')
  for _, aged in ipairs(due) do
    local s = redis.call('ZSCORE', line, aged)
    if s and tonumber(s) > v then redis.call('ZADD', line, 'XX', v, aged) end
  end
  redis.call('ZREMRANGEBYSCORE', aging, '-inf', now)
end`;

/**
 * Joins the line (first call only) and takes a lease when the request is within the first
 * `free` places, free counted over the candidate replicas. One round trip on the fast path.
 * KEYS: line, fair, aging, rescue, lease of each candidate. ARGV: member ('' to join),
 * owner, requestId, flow, step, offset, preferred (1-based candidate index, 0 none), now,
 * agingAt and rescueAt ('' for never), then each candidate's slots.
 * Returns {1, member, candidateIndex, rank, v, waiting} or {0, member, rank, free, tag, v,
 * waiting} (tag: its score less the offset; tag and v as strings, Lua's tostring; waiting:
 * members left in the line).
 */
export const acquireScript = `
local prefix = '${keyPrefix}'
local line, fair, aging, rescue = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local now = tonumber(ARGV[8])
${promote}
local member = ARGV[1]
local score
if member ~= '' then score = redis.call('ZSCORE', line, member) end
if member == '' or not score then
  if member == '' then
    local seq = redis.call('INCR', prefix .. 'seq')
    local tierRank = ({ priority = '0', standard = '1', free = '2', batch = '3' })[string.match(ARGV[4], '^[^:]*')] or '1'
    member = tierRank .. string.format('%015d', seq) .. '|' .. ARGV[2] .. '|' .. ARGV[3]
  end
  local v = tonumber(redis.call('HGET', fair, 'v') or '0')
  local f = tonumber(redis.call('HGET', fair, ARGV[4]) or '0')
  local start = math.max(v, f)
  redis.call('HSET', fair, ARGV[4], tostring(start + tonumber(ARGV[5])))
  score = start + tonumber(ARGV[6])
  redis.call('ZADD', line, score, member)
  redis.call('SADD', prefix .. 'lines', line)
  if ARGV[9] ~= '' then redis.call('ZADD', aging, tonumber(ARGV[9]), member) end
  if ARGV[10] ~= '' then redis.call('ZADD', rescue, tonumber(ARGV[10]), member) end
end
local rank = redis.call('ZRANK', line, member)
local preferred = tonumber(ARGV[7])
local free, best, bestRoom = 0, 0, 0
for i = 5, #KEYS do
  local index = i - 4
  local room = tonumber(ARGV[10 + index]) - redis.call('HLEN', KEYS[i])
  if room > 0 then
    free = free + room
    if index == preferred then best, bestRoom = index, 1e18
    elseif room > bestRoom then best, bestRoom = index, room end
  end
end
local offset = tonumber(ARGV[6])
if rank >= free or best == 0 then
  local v = redis.call('HGET', fair, 'v') or '0'
  -- A rescued member's tag is 0: it is at the head, whatever v is.
  local tag = math.max(0, tonumber(score) - offset)
  return {0, member, rank, free, tostring(tag), v, redis.call('ZCARD', line)}
end
redis.call('HSET', KEYS[4 + best], member, ARGV[2])
redis.call('SADD', prefix .. 'replicas', KEYS[4 + best])
redis.call('ZREM', line, member)
redis.call('ZREM', aging, member)
redis.call('ZREM', rescue, member)
if offset == 0 then
  local v = tonumber(redis.call('HGET', fair, 'v') or '0')
  if tonumber(score) > v then redis.call('HSET', fair, 'v', tostring(score)) end
end
return {1, member, best, rank, redis.call('HGET', fair, 'v') or '0', redis.call('ZCARD', line)}`;

/**
 * Gives a lease back and corrects the flow's finish tag by the service actually received
 * (actual minus the estimate charged at entry); tells waiting gateways a slot is free, and
 * names the first `heads` members of the line (after aging them): those are the ones the
 * slot may go to, and a gateway cannot tell from the place it last heard (which newcomers
 * and grants since have moved) that its waiter has reached the head.
 * KEYS: lease, fair, line, aging, rescue. ARGV: member, flow, correction, model, heads, now.
 * Publishes `model\nmember\nmember...`. Returns the replica's leases left.
 */
export const releaseScript = `
local line, fair, aging, rescue = KEYS[3], KEYS[2], KEYS[4], KEYS[5]
local now = tonumber(ARGV[6])
redis.call('HDEL', KEYS[1], ARGV[1])
local correction = tonumber(ARGV[3])
if correction ~= 0 then redis.call('HINCRBYFLOAT', fair, ARGV[2], correction) end
${promote}
local message = ARGV[4]
local heads = tonumber(ARGV[5])
if heads > 0 then
  for _, member in ipairs(redis.call('ZRANGE', line, 0, heads - 1)) do message = message .. '\\n' .. member end
end
redis.call('PUBLISH', '${freedChannel}', message)
return redis.call('HLEN', KEYS[1])`;

/**
 * Leaves the line unserved (cancelled, refused): the flow gets its step back, so a request
 * that was never served does not count against its tenant's share.
 * KEYS: line, fair, aging, rescue. ARGV: member, flow, step. Returns 1 when it was waiting.
 */
export const withdrawScript = `
local removed = redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[1])
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
local linePrefix = prefix .. 'line:'
for _, key in ipairs(redis.call('SMEMBERS', prefix .. 'lines')) do
  local model = string.sub(key, #linePrefix + 1)
  for _, member in ipairs(redis.call('ZRANGE', key, 0, -1)) do
    local owner = string.match(member, '^[^|]*|([^|]*)|')
    if owner and not isAlive(owner) then
      dropped = dropped + redis.call('ZREM', key, member)
      redis.call('ZREM', prefix .. 'aging:' .. model, member)
      redis.call('ZREM', prefix .. 'rescue:' .. model, member)
    end
  end
end
if freed + dropped > 0 then redis.call('PUBLISH', '${freedChannel}', '') end
return {freed, dropped}`;
