// The Lua scripts of the Redis MessageStore: each store method that reads and writes is one script,
// so it runs as one atomic step in Redis (setUpstreamId and holdOrphan cannot interleave: a receipt
// racing its submit_sm_resp is either returned by setUpstreamId or finds the message in holdOrphan)
// and costs one round trip. ioredis sends them with EVALSHA (defineCommand) and falls back to EVAL
// once after a Redis restart. Key layout and the two clocks: redis-keys.ts.
//
// Every script gets ARGV[1] = key prefix, ARGV[2] = now (epoch ms by the store's clock) and builds
// the keys it reaches through stored ids (records, orphan holds, deliveries, stats buckets) from the
// prefix; the keys a call names up front come as KEYS.

/** Names under which the scripts are defined on the ioredis client. */
export const SCRIPT = {
  save: 'smppdStoreSave',
  setUpstreamId: 'smppdStoreSetUpstreamId',
  findByUpstream: 'smppdStoreFindByUpstream',
  holdOrphan: 'smppdStoreHoldOrphan',
  enqueue: 'smppdStoreEnqueue',
  take: 'smppdStoreTake',
  ack: 'smppdStoreAck',
  release: 'smppdStoreRelease',
  pending: 'smppdStorePending',
  stats: 'smppdStoreStats',
} as const;
export type ScriptName = (typeof SCRIPT)[keyof typeof SCRIPT];

// Shared helpers, prepended to every script (unused locals cost nothing).
const PRELUDE = `
local P = ARGV[1]
local NOW = tonumber(ARGV[2])
local META = P .. 'meta'

-- Redis TTL of key at least ms (never shortened: another replica may run with a longer ttl).
local function extend(key, ms)
  if redis.call('PTTL', key) < ms then redis.call('PEXPIRE', key, ms) end
end

-- n more (or fewer) records ('r') or index keys ('u') that expire at 'at', in the stats bucket of 'at'.
local function count(width, ttl, field, at, n)
  local b = math.floor(at / width)
  local member = width .. ':' .. b
  local key = P .. 'n:' .. member
  if n < 0 then
    if redis.call('EXISTS', key) == 1 then redis.call('HINCRBY', key, field, n) end
    return
  end
  if redis.call('HINCRBY', key, field, n) == n then
    local ends = (b + 1) * width
    redis.call('PEXPIRE', key, ends - NOW + ttl)
    redis.call('ZADD', P .. 'nb', ends, member)
    extend(P .. 'nb', ends - NOW + ttl)
  end
end

-- The record's fields (flat HGETALL) when it exists and its ttl has not passed by NOW.
local function live_record(id)
  local h = redis.call('HGETALL', P .. 'm:' .. id)
  for i = 1, #h, 2 do
    if h[i] == 'e' then
      if tonumber(h[i + 1]) > NOW then return h end
      return nil
    end
  end
  return nil
end

-- {id, fields} of the first live record indexed under KEYS[first..last], or nil.
local function find(first, last)
  for i = first, last do
    local id = redis.call('GET', KEYS[i])
    if id then
      local h = live_record(id)
      if h then return {id, h} end
    end
  end
  return nil
end

-- Remove an orphan hold everywhere; its receipt when still alive, else false.
local function drop_orphan(seq)
  local key = P .. 'o:' .. seq
  local h = redis.call('HMGET', key, 'r', 'e', 'k')
  redis.call('DEL', key)
  redis.call('ZREM', P .. 'ox', seq)
  if h[3] then
    for _, k in ipairs(cjson.decode(h[3])) do redis.call('ZREM', k, seq) end
  end
  if h[1] and tonumber(h[2]) > NOW then return h[1] end
  return false
end

local function sweep_orphans(limit)
  local seqs = redis.call('ZRANGEBYSCORE', P .. 'ox', '-inf', NOW, 'LIMIT', 0, limit)
  for _, seq in ipairs(seqs) do drop_orphan(seq) end
  if #seqs > 0 then redis.call('HINCRBY', META, 'orphansExpired', #seqs) end
end

local function drop_delivery(id, client)
  redis.call('DEL', P .. 'd:' .. id)
  redis.call('ZREM', P .. 'dx', id)
  if client then
    redis.call('ZREM', P .. 'dq:' .. client, id)
    redis.call('ZREM', P .. 'dl:' .. client, id)
  end
end

local function sweep_deliveries(limit)
  local ids = redis.call('ZRANGEBYSCORE', P .. 'dx', '-inf', NOW, 'LIMIT', 0, limit)
  for _, id in ipairs(ids) do drop_delivery(id, redis.call('HGET', P .. 'd:' .. id, 'c')) end
  if #ids > 0 then redis.call('HINCRBY', META, 'deliveriesExpired', #ids) end
end
`;

// KEYS: record. ARGV: P, now, ttl, bucket width, expiresAt, field, value, ...
// Replaces the record (fields of the old one do not survive) and restarts its ttl.
const SAVE = `
local rec = KEYS[1]
local ttl, width = tonumber(ARGV[3]), tonumber(ARGV[4])
local old = redis.call('HGET', rec, 'e')
if old then
  redis.call('DEL', rec)
  count(width, ttl, 'r', tonumber(old), -1)
end
redis.call('HSET', rec, 'e', ARGV[5], unpack(ARGV, 6))
redis.call('PEXPIRE', rec, ttl)
count(width, ttl, 'r', tonumber(ARGV[5]), 1)
return 1
`;

// KEYS: record, n index keys, the n orphan keys of the same (cluster, key)s.
// ARGV: P, now, ttl, bucket width, id, cluster, upstreamId, endpoint, '1' when an endpoint is given.
// Returns {0} for an unknown or expired record, else {1, receipt...} (orphans taken, oldest first).
const SET_UPSTREAM_ID = `
local rec = KEYS[1]
local ttl, width = tonumber(ARGV[3]), tonumber(ARGV[4])
local id, cluster = ARGV[5], ARGV[6]
local h = redis.call('HMGET', rec, 'e', 'k')
if not h[1] or tonumber(h[1]) <= NOW then return {0} end
if ARGV[9] == '1' then
  redis.call('HSET', rec, 'k', cluster, 'u', ARGV[7], 'p', ARGV[8])
else
  redis.call('HSET', rec, 'k', cluster, 'u', ARGV[7])
  if h[2] ~= cluster then redis.call('HDEL', rec, 'p') end
end
local n = (#KEYS - 1) / 2
local added = 0
for i = 2, n + 1 do
  if not redis.call('SET', KEYS[i], id, 'PX', ttl, 'GET') then added = added + 1 end
end
if added > 0 then count(width, ttl, 'u', NOW + ttl, added) end
local seqs, seen = {}, {}
for i = n + 2, 2 * n + 1 do
  local held = redis.call('ZRANGE', KEYS[i], 0, -1)
  if #held > 0 then
    for _, seq in ipairs(held) do
      if not seen[seq] then
        seen[seq] = true
        seqs[#seqs + 1] = seq
      end
    end
    redis.call('DEL', KEYS[i])
  end
end
local out = {1}
if #seqs == 0 then return out end
table.sort(seqs, function(a, b) return tonumber(a) < tonumber(b) end)
local expired = 0
for _, seq in ipairs(seqs) do
  local receipt = drop_orphan(seq)
  if receipt then out[#out + 1] = receipt else expired = expired + 1 end
end
if expired > 0 then redis.call('HINCRBY', META, 'orphansExpired', expired) end
return out
`;

// KEYS: index keys, in the caller's order. ARGV: P, now. Returns {id, fields} or nil.
const FIND_BY_UPSTREAM = `
return find(1, #KEYS)
`;

// KEYS: n index keys, the n orphan keys of the same (cluster, key)s (distinct).
// ARGV: P, now, expiresAt, orphan ttl, receipt JSON, most orphans held.
// Returns {id, fields} when a live message is indexed under a key (nothing held), else nil.
const HOLD_ORPHAN = `
local n = #KEYS / 2
local found = find(1, n)
if found then return found end
sweep_orphans(100)
local ttl = tonumber(ARGV[4])
local ox = P .. 'ox'
if redis.call('ZCARD', ox) >= tonumber(ARGV[6]) then
  local oldest = redis.call('ZRANGE', ox, 0, 0)[1]
  if oldest then
    drop_orphan(oldest)
    redis.call('HINCRBY', META, 'orphansEvicted', 1)
  end
end
local seq = redis.call('HINCRBY', META, 'oseq', 1)
local okeys = {}
for i = n + 1, 2 * n do
  okeys[#okeys + 1] = KEYS[i]
  redis.call('ZADD', KEYS[i], seq, seq)
  extend(KEYS[i], ttl)
end
local key = P .. 'o:' .. seq
redis.call('HSET', key, 'r', ARGV[5], 'e', ARGV[3], 'k', cjson.encode(okeys))
redis.call('PEXPIRE', key, ttl)
redis.call('ZADD', ox, ARGV[3], seq)
extend(ox, ttl)
return nil
`;

// KEYS: the client's queue. ARGV: P, now, client, expiresAt, item JSON, ttl. Returns the delivery id.
const ENQUEUE = `
sweep_deliveries(16)
local ttl = tonumber(ARGV[6])
local id = redis.call('HINCRBY', META, 'dseq', 1)
local key = P .. 'd:' .. id
redis.call('HSET', key, 'c', ARGV[3], 'i', ARGV[5], 'e', ARGV[4], 'a', 0)
redis.call('PEXPIRE', key, ttl)
redis.call('ZADD', KEYS[1], id, id)
extend(KEYS[1], ttl)
redis.call('ZADD', P .. 'dx', ARGV[4], id)
extend(P .. 'dx', ttl)
redis.call('PUBLISH', P .. 'deliveries', ARGV[3])
return id
`;

// KEYS: the client's queue, the client's leases. ARGV: P, now, max, lease end, ttl.
// Returns {id, item JSON, attempts, ...} oldest first.
const TAKE = `
local dq, dl = KEYS[1], KEYS[2]
local ttl = tonumber(ARGV[5])
-- Leases that ran out: back to their place in the queue (the score is the enqueue seq).
local back = redis.call('ZRANGEBYSCORE', dl, '-inf', NOW)
if #back > 0 then
  for _, id in ipairs(back) do redis.call('ZADD', dq, id, id) end
  redis.call('ZREMRANGEBYSCORE', dl, '-inf', NOW)
  extend(dq, ttl)
end
local want = tonumber(ARGV[3])
local out = {}
local got, expired = 0, 0
while got < want do
  local popped = redis.call('ZPOPMIN', dq, want - got)
  if #popped == 0 then break end
  for i = 1, #popped, 2 do
    local id = popped[i]
    local key = P .. 'd:' .. id
    local h = redis.call('HMGET', key, 'i', 'e')
    if h[1] and tonumber(h[2]) > NOW then
      local attempts = redis.call('HINCRBY', key, 'a', 1)
      redis.call('ZADD', dl, ARGV[4], id)
      out[#out + 1] = id
      out[#out + 1] = h[1]
      out[#out + 1] = attempts
      got = got + 1
    else
      redis.call('DEL', key)
      redis.call('ZREM', P .. 'dx', id)
      expired = expired + 1
    end
  end
end
if got > 0 then extend(dl, ttl) end
if expired > 0 then redis.call('HINCRBY', META, 'deliveriesExpired', expired) end
return out
`;

// KEYS: the client's queue, the client's leases. ARGV: P, now, client, delivery id. Returns 1 or 0.
const ACK = `
local id = ARGV[4]
local h = redis.call('HMGET', P .. 'd:' .. id, 'c', 'e')
if h[1] ~= ARGV[3] then return 0 end
drop_delivery(id, h[1])
if tonumber(h[2]) <= NOW then
  redis.call('HINCRBY', META, 'deliveriesExpired', 1)
  return 0
end
return 1
`;

// KEYS: the client's queue, the client's leases. ARGV: P, now, client, delivery id, ttl. Returns 1 or 0.
const RELEASE = `
local id = ARGV[4]
local h = redis.call('HMGET', P .. 'd:' .. id, 'c', 'e')
if h[1] ~= ARGV[3] then return 0 end
if tonumber(h[2]) <= NOW then
  drop_delivery(id, h[1])
  redis.call('HINCRBY', META, 'deliveriesExpired', 1)
  return 0
end
if redis.call('ZREM', KEYS[2], id) == 1 then
  redis.call('ZADD', KEYS[1], id, id)
  extend(KEYS[1], tonumber(ARGV[5]))
end
return 1
`;

// KEYS: the delivery expiry index, then optionally the client's queue and leases.
// ARGV: P, now, sweep limit. Returns the pending count (the client's, or all).
const PENDING = `
sweep_deliveries(tonumber(ARGV[3]))
if #KEYS == 1 then return redis.call('ZCARD', KEYS[1]) end
return redis.call('ZCARD', KEYS[2]) + redis.call('ZCARD', KEYS[3])
`;

// KEYS: meta. ARGV: P, now, sweep limit.
// Returns {entries, upstreamKeys, pendingDeliveries, orphans, expirations, deliveriesExpired,
// orphansExpired, orphansEvicted}.
const STATS = `
local limit = tonumber(ARGV[3])
sweep_deliveries(limit)
sweep_orphans(limit)
local nb = P .. 'nb'
local ended = redis.call('ZRANGEBYSCORE', nb, '-inf', NOW)
if #ended > 0 then
  local expirations = 0
  for _, member in ipairs(ended) do
    local key = P .. 'n:' .. member
    local r = tonumber(redis.call('HGET', key, 'r') or '0')
    if r > 0 then expirations = expirations + r end
    redis.call('DEL', key)
  end
  redis.call('ZREMRANGEBYSCORE', nb, '-inf', NOW)
  if expirations > 0 then redis.call('HINCRBY', META, 'expirations', expirations) end
end
local entries, ukeys = 0, 0
for _, member in ipairs(redis.call('ZRANGE', nb, 0, -1)) do
  local h = redis.call('HMGET', P .. 'n:' .. member, 'r', 'u')
  entries = entries + tonumber(h[1] or '0')
  ukeys = ukeys + tonumber(h[2] or '0')
end
local m = redis.call('HMGET', META, 'expirations', 'deliveriesExpired', 'orphansExpired', 'orphansEvicted')
return {
  entries, ukeys, redis.call('ZCARD', P .. 'dx'), redis.call('ZCARD', P .. 'ox'),
  tonumber(m[1] or '0'), tonumber(m[2] or '0'), tonumber(m[3] or '0'), tonumber(m[4] or '0'),
}
`;

const BODIES: Record<ScriptName, string> = {
  [SCRIPT.save]: SAVE,
  [SCRIPT.setUpstreamId]: SET_UPSTREAM_ID,
  [SCRIPT.findByUpstream]: FIND_BY_UPSTREAM,
  [SCRIPT.holdOrphan]: HOLD_ORPHAN,
  [SCRIPT.enqueue]: ENQUEUE,
  [SCRIPT.take]: TAKE,
  [SCRIPT.ack]: ACK,
  [SCRIPT.release]: RELEASE,
  [SCRIPT.pending]: PENDING,
  [SCRIPT.stats]: STATS,
};

/** The full Lua source of each script (prelude included), by its command name. */
export function scriptSources(): ReadonlyArray<readonly [ScriptName, string]> {
  return (Object.keys(BODIES) as ScriptName[]).map((name) => [name, PRELUDE + BODIES[name]] as const);
}

/** Something scripts can be defined on: an ioredis Redis or Cluster. */
export interface ScriptHost {
  defineCommand(name: string, definition: { lua: string; numberOfKeys?: number; readOnly?: boolean }): void;
}

/**
 * Define every script on the client. Without numberOfKeys each call passes its key count first
 * (ioredis then sends `EVALSHA sha numkeys keys... args...`).
 */
export function defineScripts(client: ScriptHost): void {
  for (const [name, lua] of scriptSources()) client.defineCommand(name, { lua });
}
