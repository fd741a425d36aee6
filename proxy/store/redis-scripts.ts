// The Lua side of the Redis MessageStore. Every store method is one operation below, run inside one
// script call (but a batch of saveAccepted alone: plain commands in one MULTI/EXEC,
// redis-accept-writes.ts; and a batch of findByUpstream alone: a small script of its own,
// redis-find-reads.ts), so each runs as one atomic step in Redis (setUpstreamId or saveAccepted and
// holdOrphan cannot interleave: a receipt racing its submit_sm_resp is either returned by the
// former or finds the message in holdOrphan). Key layout and the two clocks: redis-keys.ts.
//
// Batching: the store sends the operations its callers start within one event-loop turn as ONE
// script call (`smppdStoreBatch`), run in call order; each keeps its own keys, arguments and
// result. On this machine a command costs ~15-20 µs of client CPU and ~9 µs of Redis CPU before
// any work (bench/store.ts, `ping` vs a batched script), so a proxy with many messages in flight
// pays that once per batch instead of once per call; a lone call is a batch of one. The call goes
// as EVALSHA, EVAL when Redis does not have the script (redis-batch-command.ts).
//
// Call layout: KEYS[1] = the store's meta key (<p>meta, always there), then every operation's keys,
// concatenated; ARGV[1] = prefix, ARGV[2] = the operations as one JSON array of [name, key count,
// arguments...], ARGV[3], ARGV[4] and ARGV[5] = the store's ttl, bucket width and lease (ms).
// saveAccepted, the operation of every message, is not in the JSON: consecutive ones with the same
// \`now\` form a run, written as plain ARGV strings from ARGV[6] on (layout at run_at), and the JSON
// holds [RUN_OP, its first ARGV index] in their place (no keys: ttl and width from ARGV); so do
// consecutive findByUpstream with one \`now\` (one per receipt), as [FIND_RUN_OP, first ARGV index,
// count] (find_run). The fixed first key is for Redis
// Cluster: ioredis routes a command by its first key and sends one without keys to a random node,
// which may not own the prefix's slot (the script builds most keys from the prefix); a batch of
// keyless operations (get, findByUpstream) must still go to the node of the prefix's hash tag
// (redis-keys.ts). An operation's first argument is always `now` (epoch ms by the store's clock).
// The reply is one JSON array with one element per operation, in order; `false` stands for "none"
// (nil would end a Lua array), and an empty list may come as {} (cjson cannot tell an empty
// table's kind: callers read a non-array as []).
// JSON both ways because the per-argument and per-array-element costs dominate otherwise: ioredis
// encodes and decodes each bulk string in JavaScript (~0.5-1 µs each) and Redis converts each
// reply element from Lua; cjson and JSON.parse do it in C. With this layout, batched counts and
// unpack() below, save + setUpstreamId + findByUpstream with 256 in flight went from ~9,900 to
// ~16,000 messages/s on the 2-core dev VM, client CPU per message from ~47 to ~26 µs and Redis CPU
// down ~20% (bench/store.ts-style run). Stats bucket counts are written once per call
// (flush_counts), not once per message.
//
// Runs of saveAccepted. Under load nearly every operation is a saveAccepted (one per submitted
// message), and the closed-loop benchmark (issue 5) waits for the whole script: while no orphan is
// held, a run is written with one HSET per record block, one for the index fields in the bucket's
// hash and one per index block (run_at, redis-keys.ts), straight from ARGV: no Lua table, string or
// loop step per message but the field names an index block removes from the bucket's hash. The
// records, counters and replies are the same as the operations one by one would leave, and so is
// what each index field finds (redis-store.test.ts checks it); a run ends at any other operation,
// so that one sees every write before it. Redis CPU per
// saveAccepted in batches of 64 (2 index keys each, INFO cpu, a throwaway script of bench/store.ts
// kind): ~11 µs with the runs in the JSON (cjson decoding them: ~2.5 µs; the Lua loop over them:
// ~3.5 µs), ~5 µs from ARGV; the client's CPU per call about the same either way.

import { BUCKET_SHAPE_FIELD, BUCKET_SHAPE_VALUE } from './redis-keys.js';

/** Operation names, as sent in ARGV. */
export const OP = {
  save: 'save',
  get: 'get',
  setUpstreamId: 'setUpstreamId',
  saveAccepted: 'saveAccepted',
  findByUpstream: 'find',
  takeHeld: 'takeHeld',
  recount: 'recount',
  holdOrphan: 'hold',
  enqueue: 'enqueue',
  take: 'take',
  ack: 'ack',
  release: 'release',
  pending: 'pending',
  stats: 'stats',
  ackOrphans: 'ackOrphans',
  reclaimOrphans: 'reclaimOrphans',
  takeOrphansExpired: 'takeOrphansExpired',
} as const;
export type OpName = (typeof OP)[keyof typeof OP];

/** The element of the operations' JSON that stands for a run of saveAccepted in ARGV (Call layout above). */
export const RUN_OP = 'R';
/** The element that stands for a run of findByUpstream in ARGV: [FIND_RUN_OP, first ARGV index, count] (find_run). */
export const FIND_RUN_OP = 'F';

// Shared state and helpers of the operations. P and NOW are set per operation by the dispatcher at
// the end.
const HELPERS = `
local P = ARGV[1]
local TTL, WIDTH = tonumber(ARGV[3]), tonumber(ARGV[4])
-- How long a taken orphan waits for its ack before another replica may hand it out (take_orphan).
local ORPHAN_LEASE = tonumber(ARGV[5])
local NOW = 0
local META = KEYS[1] -- P .. 'meta', passed so that Cluster routes every call to the prefix's slot

-- Redis TTL of key at least ms (never shortened: another replica may run with a longer ttl).
local function extend(key, ms)
  if redis.call('PTTL', key) < ms then redis.call('PEXPIRE', key, ms) end
end

-- Stats bucket counts changed by this call, written once per bucket and field at the end of the
-- call (flush_counts) instead of once per message: member -> {width, ttl, b, r = n, u = n}.
local COUNTS = {}
local COUNTED = false

-- n more (or fewer) records ('r') or index keys ('u') that expire at 'at', in the stats bucket of 'at'.
local function count(width, ttl, field, at, n)
  local b = math.floor(at / width)
  local member = width .. ':' .. b
  local c = COUNTS[member]
  if not c then
    c = {width = width, ttl = ttl, b = b, r = 0, u = 0}
    COUNTS[member] = c
    COUNTED = true
  elseif ttl > c.ttl then
    c.ttl = ttl
  end
  c[field] = c[field] + n
end

local function flush_counts()
  if not COUNTED then return end
  for member, c in pairs(COUNTS) do
    local key = P .. 'n:' .. member
    for _, field in ipairs({'r', 'u'}) do
      local n = c[field]
      if n < 0 then
        if redis.call('EXISTS', key) == 1 then redis.call('HINCRBY', key, field, n) end
      elseif n > 0 and redis.call('HINCRBY', key, field, n) == n then
        local ends = (c.b + 1) * c.width
        redis.call('PEXPIRE', key, ends - NOW + c.ttl)
        redis.call('ZADD', P .. 'nb', ends, member)
        extend(P .. 'nb', ends - NOW + c.ttl)
      end
    end
  end
  COUNTS = {}
  COUNTED = false
end

-- The end of the time bucket of \`now\`, plus ttl: a record saved then is counted until this
-- (count(..., ends - 1)), and its block, like an index bucket written then, keeps a Redis TTL of at
-- least this long.
local function bucket_ends(now, width, ttl)
  return (math.floor(now / width) + 1) * width + ttl
end

-- A record string's expiresAt (its first field, redis-keys.ts).
local function expires_at(v)
  return tonumber(string.match(v, '^[^|]*'))
end

-- A record string saved before is saved again: its count leaves the bucket it was counted in (its
-- expiresAt is its save time + ttl, redis-store.ts), for the caller to count it in the new one.
local function uncount_record(old, width, ttl)
  count(width, ttl, 'r', bucket_ends(expires_at(old) - ttl, width, ttl) - 1, -1)
end

-- The records under distinct fields of record block key that were saved before (a run saves them
-- again): each uncounted where it was counted; how many. The caller counts them in the new bucket.
local function uncount_saved(key, fields)
  local olds = redis.call('HMGET', key, unpack(fields))
  local n = 0
  for k = 1, #fields do
    if olds[k] then
      uncount_record(olds[k], WIDTH, TTL)
      n = n + 1
    end
  end
  return n
end


-- Whether any orphan is held (the global index exists); nil = not looked at since it last changed.
local ORPHANS_HELD = nil

-- Records in blocks <p>r:<id but its last character>, index entries in time buckets <p>x:<b>,
-- b = floor(t / width) (redis-keys.ts). Each key gets its Redis TTL once per call (TOUCHED), not once
-- per entry.
local TOUCHED = {}
-- The name <p>x:<b> of bucket b, made once per call: Lua writes a number into a string with
-- sprintf, ~2,000 instructions each time (callgrind of redis-server under receipts).
local BUCKET_KEYS = {}
local function bucket_key(b)
  local key = BUCKET_KEYS[b]
  if not key then
    key = P .. 'x:' .. b
    BUCKET_KEYS[b] = key
  end
  return key
end
-- Whoever writes entries to a bucket's hash makes it a hashtable first (redis-keys.ts, "Bucket
-- shape"), once per call.
local SHAPED = {}
local function shape_bucket(key)
  if SHAPED[key] then return end
  SHAPED[key] = true
  redis.call('HSETNX', key, '${BUCKET_SHAPE_FIELD}', '${BUCKET_SHAPE_VALUE}')
end
local function touch(key, deadline)
  if TOUCHED[key] then return end
  TOUCHED[key] = true
  extend(key, deadline - NOW)
end

-- The id indexed under field: its newest entry in the buckets that can hold a live one (newest
-- first, down to the bucket of NOW - ttl); nil when none. In a bucket, the entry in the bucket's
-- hash <p>x:<b> comes before one in the index block <p>x:<b>:<field but its last character>
-- (run_at keeps the former from hiding a newer one in the latter; redis-keys.ts, "Index blocks").
local function probe_index(field, width, ttl)
  local top = math.floor(NOW / width)
  local block, last = string.sub(field, 1, -2), string.sub(field, -1)
  for b = top, math.floor((NOW - ttl) / width), -1 do
    local key = bucket_key(b)
    local v = redis.call('HGET', key, field) or redis.call('HGET', key .. ':' .. block, last)
    if v then return v end
  end
  return nil
end

-- Record blocks (redis-keys.ts): the hash <p>r:<id but its last character> holds record id under
-- that last character.
local function record_at(id)
  return P .. 'r:' .. string.sub(id, 1, -2), string.sub(id, -1)
end

-- The record string saved for id (live or not), or nil.
local function record_of(id)
  local key, field = record_at(id)
  return redis.call('HGET', key, field)
end

-- A record string when its expiresAt has not passed by NOW.
local function live(v)
  if v and expires_at(v) > NOW then return v end
  return nil
end

-- {id, record} of the first live record indexed under fields A[first..last], or false.
local function find(A, first, last, width, ttl)
  for i = first, last do
    local id = probe_index(A[i], width, ttl)
    if id then
      local v = live(record_of(id))
      if v then return {id, v} end
    end
  end
  return false
end

-- Remove an orphan hold everywhere; its receipt when still alive, else false.
-- Takes orphan hold seq out of the held indexes (<p>ox and its <p>ok: keys); its receipt when still
-- alive, else false. Its hash <p>o:<seq> is left to the caller.
local function unhold_orphan(seq)
  ORPHANS_HELD = nil
  local h = redis.call('HMGET', P .. 'o:' .. seq, 'r', 'e', 'k')
  redis.call('ZREM', P .. 'ox', seq)
  if h[3] then
    for _, k in ipairs(cjson.decode(h[3])) do redis.call('ZREM', k, seq) end
  end
  if h[1] and tonumber(h[2]) > NOW then return h[1] end
  return false
end

local function drop_orphan(seq)
  local receipt = unhold_orphan(seq)
  redis.call('DEL', P .. 'o:' .. seq)
  return receipt
end

-- An orphan hold the caller (a setUpstreamId or saveAccepted of message \`id\`) takes: out of the
-- held indexes, but kept, with the message id, in <p>ot scored by the end of its lease until the
-- caller acknowledges it (ackOrphans) once it delivered or kept the receipt. A replica that dies in
-- between leaves it there, and after the lease reclaimOrphans hands it to another (at-least-once).
-- Its receipt when still alive, else false (then it is dropped).
local function take_orphan(seq, id)
  local receipt = unhold_orphan(seq)
  local key = P .. 'o:' .. seq
  if not receipt then
    redis.call('DEL', key)
    return false
  end
  redis.call('HSET', key, 'm', id)
  redis.call('HDEL', key, 'k')
  -- Gone by itself if nobody ever acknowledges or reclaims it (no replica sweeping any more).
  redis.call('PEXPIRE', key, ORPHAN_LEASE + TTL)
  redis.call('ZADD', P .. 'ot', NOW + ORPHAN_LEASE, seq)
  extend(P .. 'ot', ORPHAN_LEASE + TTL)
  return receipt
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

local OPS = {}
`;

// One function per operation: (K, A) = its keys and arguments; A[1] is now.
const OPERATIONS = `
-- Write record string v for id in its block: saving again replaces the record and restarts its ttl
-- (the block's Redis TTL is extended, the count moves to the bucket of now).
local function save_record(id, v, width, ttl)
  local key, field = record_at(id)
  local ends = bucket_ends(NOW, width, ttl)
  local old = redis.call('HGET', key, field)
  if old then uncount_record(old, width, ttl) end
  redis.call('HSET', key, field, v)
  count(width, ttl, 'r', ends - 1, 1)
  touch(key, ends)
end

-- Take the orphans held under K (<p>ok: keys) for message id, now that it is indexed:
-- {1, seq, receipt, seq, receipt...}, oldest first (index_and_take).
local function take_held(K, id)
  local out = {1}
  -- Orphans are rare: one look at the global index (once per call while it does not change) spares
  -- a look per key.
  if ORPHANS_HELD == nil then ORPHANS_HELD = redis.call('EXISTS', P .. 'ox') == 1 end
  if not ORPHANS_HELD then return out end
  local seqs, seen = {}, {}
  for i = 1, #K do
    local held = redis.call('ZRANGE', K[i], 0, -1)
    if #held > 0 then
      for _, seq in ipairs(held) do
        if not seen[seq] then
          seen[seq] = true
          seqs[#seqs + 1] = seq
        end
      end
      redis.call('DEL', K[i])
    end
  end
  if #seqs == 0 then return out end
  table.sort(seqs, function(a, b) return tonumber(a) < tonumber(b) end)
  local expired = 0
  for _, seq in ipairs(seqs) do
    local receipt = take_orphan(seq, id)
    if receipt then
      out[#out + 1] = seq
      out[#out + 1] = receipt
    else
      expired = expired + 1
    end
  end
  if expired > 0 then redis.call('HINCRBY', META, 'orphansExpired', expired) end
  return out
end

-- Index id under the fields A[first..#A], then take the orphans held under K (the same n
-- (cluster, key)s as <p>ok: keys), in the same script step: a receipt held before this point is
-- returned here, one held after it finds the message (OPS.hold). {1, seq, receipt, seq, receipt...},
-- oldest first: each is kept until the caller acknowledges its seq (take_orphan).
local function index_and_take(K, A, first, id, width, ttl)
  local n = #K
  if n > 0 then
    local xb = math.floor(NOW / width)
    local xkey = bucket_key(xb)
    local args = {}
    for i = first, #A do
      args[#args + 1] = A[i]
      args[#args + 1] = id
    end
    shape_bucket(xkey)
    local added = redis.call('HSET', xkey, unpack(args))
    touch(xkey, bucket_ends(NOW, width, ttl))
    if added > 0 then count(width, ttl, 'u', NOW + ttl, added) end
  end
  return take_held(K, id)
end

-- A: now, ttl, bucket width, id, record string. Replaces the record and restarts its ttl.
OPS.save = function(K, A)
  save_record(A[4], A[5], tonumber(A[3]), tonumber(A[2]))
  return 1
end

-- A: now, ttl, bucket width, id. The live record string, or false.
OPS.get = function(K, A)
  return live(record_of(A[4])) or false
end

-- K: the n orphan keys of the (cluster, key)s. A: now, ttl, bucket width, id, cluster, upstreamId,
-- endpoint (record-string encoded, redis-store.ts), '1' when an endpoint is given, the n index fields.
-- {0} for an unknown or expired record, else {1, seq, receipt...} (the orphans taken: index_and_take).
OPS.setUpstreamId = function(K, A)
  local ttl, width = tonumber(A[2]), tonumber(A[3])
  local id, cluster = A[4], A[5]
  local v = record_of(id)
  if not live(v) then return {0} end
  -- e SEP k SEP p SEP u SEP rest: replace k, p and u.
  local s1 = string.find(v, '|', 1, true)
  local s2 = string.find(v, '|', s1 + 1, true)
  local s3 = string.find(v, '|', s2 + 1, true)
  local s4 = string.find(v, '|', s3 + 1, true)
  local p
  if A[8] == '1' then p = A[7]
  elseif string.sub(v, s1 + 1, s2 - 1) == cluster then p = string.sub(v, s2 + 1, s3 - 1)
  else p = '' end
  local rkey, rfield = record_at(id)
  redis.call('HSET', rkey, rfield, string.sub(v, 1, s1) .. cluster .. '|' .. p .. '|' .. A[6] .. string.sub(v, s4))
  return index_and_take(K, A, 9, id, width, ttl)
end

-- save then setUpstreamId in one step, for a message the upstream accepted before it was saved.
-- K: none. A: now, ttl, bucket width, id, the record string as setUpstreamId would leave it
-- (cluster, endpoint and upstreamId already set: redis-store.ts), the n index fields.
-- {1, receipt...} as setUpstreamId. The orphan keys setUpstreamId is given are built here from the
-- index fields (<p>ok:<field>, redis-keys.ts): one message is one operation per batch, and its keys
-- as KEYS cost a bulk string each to encode in the client and to parse here (more than the rest of
-- the operation's arguments together); the batch's first key still routes it in Redis Cluster.
OPS.saveAccepted = function(_, A)
  local ttl, width = tonumber(A[2]), tonumber(A[3])
  save_record(A[4], A[5], width, ttl)
  local K = {}
  for i = 6, #A do K[#K + 1] = P .. 'ok:' .. A[i] end
  return index_and_take(K, A, 6, A[4], width, ttl)
end

-- HSET on Lua's C stack: unpack passes every value there, and it holds ~8,000.
local HSET_CHUNK = 2000

local ACCEPTED = {1}

-- HSET key with the field/value pairs ARGV[first..last], HSET_CHUNK values at a time; how many
-- fields were new. A field given twice counts once, the last value wins: as HSETs of the pairs one
-- by one.
local function hset_argv(key, first, last)
  local added = 0
  for i = first, last, HSET_CHUNK do
    added = added + redis.call('HSET', key, unpack(ARGV, i, math.min(i + HSET_CHUNK - 1, last)))
  end
  return added
end

-- HDEL key's fields block .. ARGV[j] for the pairs ARGV[first..last] (last character, id),
-- HSET_CHUNK at a time; how many were there.
local function hdel_block_fields(key, block, first, last)
  local removed = 0
  for i = first, last, HSET_CHUNK do
    local fields = {}
    for j = i, math.min(i + HSET_CHUNK - 1, last), 2 do fields[#fields + 1] = block .. ARGV[j] end
    removed = removed + redis.call('HDEL', key, unpack(fields))
  end
  return removed
end

-- A run of saveAccepted operations with one \`now\`, laid out in ARGV from index s by the store
-- (redis-store.ts, AcceptRuns and pushIndex; Call layout above):
--   now, block count, then per record block: its key suffix (the ids but their last character), its
--   pair count n and n pairs (last character, record string); then the index: the count of pairs
--   for the bucket's hash and those pairs (index field, id), then the count of index blocks and per
--   index block: its name (the fields but their last character), its pair count n and n pairs
--   (last character, id) (redis-keys.ts, "Index blocks").
-- Operation k of the run is the k-th record pair; its index fields are the fields carrying its id
-- (two operations of a run with one id, which the forwarder never sends, share theirs: with
-- orphans held the first takes those of both; records, index and counts are the same either way).
-- Written as OPS.saveAccepted would write them one by one: with no orphan held, one HSET per
-- record block, one for the bucket's hash and one per index block, and no Lua work per message (the
-- ARGV strings go to Redis as they are) but, when the bucket's hash exists, the names of the fields
-- an index block takes out of it; with orphans held, one operation at a time, each may take
-- some, and the index goes to the bucket's hash. Sets results[ri..] (one per operation); returns
-- the next result index.
local function run_at(s, results, ri)
  local now = tonumber(ARGV[s])
  local nblocks = tonumber(ARGV[s + 1])
  NOW = now
  if ORPHANS_HELD == nil then ORPHANS_HELD = redis.call('EXISTS', P .. 'ox') == 1 end
  local i = s + 2
  if ORPHANS_HELD then
    -- The index starts after the record blocks: each id's fields, from both of its parts.
    local x = i
    for _ = 1, nblocks do x = x + 2 + 2 * tonumber(ARGV[x + 1]) end
    local fields_of = {}
    local function add(id, field)
      local fields = fields_of[id]
      if not fields then
        fields = {}
        fields_of[id] = fields
      end
      fields[#fields + 1] = field
    end
    local nflat = tonumber(ARGV[x])
    for j = x + 1, x + 2 * nflat, 2 do add(ARGV[j + 1], ARGV[j]) end
    x = x + 1 + 2 * nflat
    local nx = tonumber(ARGV[x])
    x = x + 1
    for _ = 1, nx do
      local block, n = ARGV[x], tonumber(ARGV[x + 1])
      for j = x + 2, x + 2 * n, 2 do add(ARGV[j + 1], block .. ARGV[j]) end
      x = x + 2 + 2 * n
    end
    for _ = 1, nblocks do
      local suffix, n = ARGV[i], tonumber(ARGV[i + 1])
      for j = i + 2, i + 2 * n, 2 do
        local id = suffix .. ARGV[j]
        local A = {now, TTL, WIDTH, id, ARGV[j + 1]}
        for _, field in ipairs(fields_of[id] or {}) do A[#A + 1] = field end
        fields_of[id] = nil
        NOW = now
        results[ri] = OPS.saveAccepted(nil, A)
        ri = ri + 1
      end
      i = i + 2 + 2 * n
    end
    return ri, false
  end
  local ends = bucket_ends(now, WIDTH, TTL)
  local counted = 0
  for _ = 1, nblocks do
    local key = P .. 'r:' .. ARGV[i]
    local n = tonumber(ARGV[i + 1])
    local first, last = i + 2, i + 1 + 2 * n
    i = last + 1
    -- Records saved before (never, from the forwarder) move their count as save_record's do.
    if redis.call('EXISTS', key) == 1 then
      local fields, seen = {}, {}
      for j = first, last, 2 do
        local f = ARGV[j]
        if not seen[f] then
          seen[f] = true
          fields[#fields + 1] = f
        end
      end
      counted = counted + uncount_saved(key, fields)
    end
    counted = counted + hset_argv(key, first, last)
    touch(key, ends)
    for _ = 1, n do
      results[ri] = ACCEPTED
      ri = ri + 1
    end
  end
  if counted > 0 then count(WIDTH, TTL, 'r', ends - 1, counted) end
  local xkey = bucket_key(math.floor(now / WIDTH))
  local added = 0
  local nflat = tonumber(ARGV[i])
  if nflat > 0 then
    shape_bucket(xkey)
    added = hset_argv(xkey, i + 1, i + 2 * nflat)
    touch(xkey, ends)
  end
  i = i + 1 + 2 * nflat
  local nx = tonumber(ARGV[i])
  i = i + 1
  if nx > 0 then
    -- A field in the bucket's hash hides the same field in its index block (probe_index): a field
    -- written to its block now leaves the bucket's hash, when there is one.
    local flat = nflat > 0 or redis.call('EXISTS', xkey) == 1
    for _ = 1, nx do
      local block, n = ARGV[i], tonumber(ARGV[i + 1])
      local key = xkey .. ':' .. block
      added = added + hset_argv(key, i + 2, i + 1 + 2 * n)
      touch(key, ends)
      if flat then added = added - hdel_block_fields(xkey, block, i + 2, i + 1 + 2 * n) end
      i = i + 2 + 2 * n
    end
  end
  if added ~= 0 then count(WIDTH, TTL, 'u', now + TTL, added) end
  return ri, true
end

-- A run of findByUpstream with one \`now\`, n operations laid out in ARGV from index s by the store
-- (redis-store.ts, FindRuns): now, then per operation its index fields and an empty string (a field
-- is never empty). Sets results[ri..] as OPS.find would; returns the next result index.
-- Why not in the JSON: every receipt costs one find, and cjson decoding its operation (a table, a
-- strtod per number) and the dispatch took about as long as its three HGETs (a throwaway script of
-- 40-find batches, Redis usec per find); the JSON.stringify of it was ~1,700 instructions of smppd's.
local function find_run(s, n, results, ri)
  NOW = tonumber(ARGV[s])
  local first = s + 1
  for _ = 1, n do
    local last = first
    while ARGV[last] ~= '' do last = last + 1 end
    results[ri] = find(ARGV, first, last - 1, WIDTH, TTL)
    ri = ri + 1
    first = last + 1
  end
  return ri
end

-- K: the orphan keys of a saveAccepted written by plain commands (redis-accept-writes.ts), which
-- found orphans held. A: now, id. {1, seq, receipt...} as saveAccepted's own (take_held).
OPS.takeHeld = function(K, A)
  return take_held(K, A[2])
end

-- Corrects the stats counts of a run of saveAccepted written by plain commands
-- (redis-accept-writes.ts, recountsOf), which counted each record and index entry as new.
-- A: now, records and index entries counted but not added (0 or fewer), the expiresAt of each record
-- the run saved again (counted in its old bucket until now). 1.
OPS.recount = function(_, A)
  local ends = bucket_ends(NOW, WIDTH, TTL)
  local records, entries = tonumber(A[2]), tonumber(A[3])
  if records ~= 0 then count(WIDTH, TTL, 'r', ends - 1, records) end
  if entries ~= 0 then count(WIDTH, TTL, 'u', NOW + TTL, entries) end
  for i = 4, #A do uncount_record(A[i], WIDTH, TTL) end
  return 1
end

-- A: now, the index fields in the caller's order. {id, record} or false. The ttl and bucket width
-- are the store's (ARGV): the operation of every receipt carries no more numbers than it must
-- (each costs a strtod in cjson, ~1,000 instructions).
OPS.find = function(K, A)
  return find(A, 2, #A, WIDTH, TTL)
end

-- K: the n orphan keys of the (cluster, key)s (distinct).
-- A: now, expiresAt, orphan ttl, receipt JSON, most orphans held, store ttl, bucket width, the n index fields.
-- {id, record} when a live message is indexed under a key (nothing held), else false.
OPS.hold = function(K, A)
  local found = find(A, 8, #A, tonumber(A[7]), tonumber(A[6]))
  if found then return found end
  sweep_orphans(100)
  local ttl = tonumber(A[3])
  local ox = P .. 'ox'
  if redis.call('ZCARD', ox) >= tonumber(A[5]) then
    local oldest = redis.call('ZRANGE', ox, 0, 0)[1]
    if oldest then
      drop_orphan(oldest)
      redis.call('HINCRBY', META, 'orphansEvicted', 1)
    end
  end
  local seq = redis.call('HINCRBY', META, 'oseq', 1)
  local okeys = {}
  for i = 1, #K do
    okeys[#okeys + 1] = K[i]
    redis.call('ZADD', K[i], seq, seq)
    extend(K[i], ttl)
  end
  local key = P .. 'o:' .. seq
  redis.call('HSET', key, 'r', A[4], 'e', A[2], 'k', cjson.encode(okeys))
  redis.call('PEXPIRE', key, ttl)
  redis.call('ZADD', ox, A[2], seq)
  extend(ox, ttl)
  ORPHANS_HELD = true
  return false
end

-- K: the client's queue. A: now, client, expiresAt, item JSON, ttl. The delivery id.
OPS.enqueue = function(K, A)
  sweep_deliveries(16)
  local ttl = tonumber(A[5])
  local id = redis.call('HINCRBY', META, 'dseq', 1)
  local key = P .. 'd:' .. id
  redis.call('HSET', key, 'c', A[2], 'i', A[4], 'e', A[3], 'a', 0)
  redis.call('PEXPIRE', key, ttl)
  redis.call('ZADD', K[1], id, id)
  extend(K[1], ttl)
  redis.call('ZADD', P .. 'dx', A[3], id)
  extend(P .. 'dx', ttl)
  redis.call('PUBLISH', P .. 'deliveries', A[2])
  return id
end

-- K: the client's queue, the client's leases. A: now, max, lease end, ttl.
-- {id, item JSON, attempts, ...}, oldest first.
OPS.take = function(K, A)
  local dq, dl = K[1], K[2]
  local ttl = tonumber(A[4])
  -- Leases that ran out: back to their place in the queue (the score is the enqueue seq).
  local back = redis.call('ZRANGEBYSCORE', dl, '-inf', NOW)
  if #back > 0 then
    for _, id in ipairs(back) do redis.call('ZADD', dq, id, id) end
    redis.call('ZREMRANGEBYSCORE', dl, '-inf', NOW)
    extend(dq, ttl)
  end
  local want = tonumber(A[2])
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
        redis.call('ZADD', dl, A[3], id)
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
end

-- A: now, the seqs of orphans taken (index_and_take). The caller delivered or kept their receipts:
-- forget them. How many were still there.
OPS.ackOrphans = function(_, A)
  local n = 0
  for i = 2, #A do
    n = n + redis.call('DEL', P .. 'o:' .. A[i])
    redis.call('ZREM', P .. 'ot', A[i])
  end
  return n
end

-- A: now, most to hand out. Taken orphans whose lease ran out without an ack (the replica that took
-- them died, or failed to keep them): each leased again to this caller, as {seq, message id,
-- receipt, ...}, oldest lease first.
OPS.reclaimOrphans = function(_, A)
  local ot = P .. 'ot'
  local out = {}
  for _, seq in ipairs(redis.call('ZRANGEBYSCORE', ot, '-inf', NOW, 'LIMIT', 0, tonumber(A[2]))) do
    local key = P .. 'o:' .. seq
    local h = redis.call('HMGET', key, 'r', 'm')
    if h[1] and h[2] then
      redis.call('ZADD', ot, NOW + ORPHAN_LEASE, seq)
      extend(ot, ORPHAN_LEASE + TTL)
      redis.call('PEXPIRE', key, ORPHAN_LEASE + TTL)
      out[#out + 1] = seq
      out[#out + 1] = h[2]
      out[#out + 1] = h[1]
    else
      redis.call('ZREM', ot, seq)
    end
  end
  return out
end

-- A: now, sweep limit. How many orphans expired since any caller last took them: META's
-- orphansExpired less orphansExpiredTaken, which it then catches up, so each expiry goes to one
-- caller. The first call on a prefix (no orphansExpiredTaken yet) starts counting from now.
OPS.takeOrphansExpired = function(_, A)
  sweep_orphans(tonumber(A[2]))
  local m = redis.call('HMGET', META, 'orphansExpired', 'orphansExpiredTaken')
  local expired = tonumber(m[1] or '0')
  redis.call('HSET', META, 'orphansExpiredTaken', expired)
  if not m[2] then return 0 end
  return math.max(0, expired - tonumber(m[2]))
end

-- K: the client's queue, the client's leases. A: now, client, delivery id. 1 or 0.
OPS.ack = function(K, A)
  local id = A[3]
  local h = redis.call('HMGET', P .. 'd:' .. id, 'c', 'e')
  if h[1] ~= A[2] then return 0 end
  drop_delivery(id, h[1])
  if tonumber(h[2]) <= NOW then
    redis.call('HINCRBY', META, 'deliveriesExpired', 1)
    return 0
  end
  return 1
end

-- K: the client's queue, the client's leases. A: now, client, delivery id, ttl. 1 or 0.
OPS.release = function(K, A)
  local id = A[3]
  local h = redis.call('HMGET', P .. 'd:' .. id, 'c', 'e')
  if h[1] ~= A[2] then return 0 end
  if tonumber(h[2]) <= NOW then
    drop_delivery(id, h[1])
    redis.call('HINCRBY', META, 'deliveriesExpired', 1)
    return 0
  end
  if redis.call('ZREM', K[2], id) == 1 then
    redis.call('ZADD', K[1], id, id)
    extend(K[1], tonumber(A[4]))
  end
  return 1
end

-- K: the delivery expiry index, then optionally the client's queue and leases. A: now, sweep limit.
-- The pending count (the client's, or all).
OPS.pending = function(K, A)
  sweep_deliveries(tonumber(A[2]))
  if #K == 1 then return redis.call('ZCARD', K[1]) end
  return redis.call('ZCARD', K[2]) + redis.call('ZCARD', K[3])
end

-- A: now, sweep limit.
-- {entries, upstreamKeys, pendingDeliveries, orphans, expirations, deliveriesExpired,
--  orphansExpired, orphansEvicted}.
OPS.stats = function(K, A)
  flush_counts()
  local limit = tonumber(A[2])
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
end
`;

const DISPATCH = `
local ops = cjson.decode(ARGV[2])
local results = {}
-- Every operation went through a run with no orphan held: the reply is '*' instead of a JSON array
-- of {1}s (ALL_ACCEPTED_REPLY in redis-store.ts), which cjson would write number by number.
local all_accepted = true
-- KEYS[1] is META; the operations' keys follow. oi: the element of ops, ri: the operation (a run
-- element stands for several).
local ki, ri = 2, 1
for oi = 1, #ops do
  local op = ops[oi]
  if op[1] == '${RUN_OP}' then
    local fast
    ri, fast = run_at(op[2], results, ri)
    if not fast then all_accepted = false end
  elseif op[1] == '${FIND_RUN_OP}' then
    all_accepted = false
    ri = find_run(op[2], op[3], results, ri)
  else
    local nk = op[2]
    all_accepted = false
    -- unpack into a table constructor: sized once, in C (a copying loop costs twice as much).
    local K, A = {unpack(KEYS, ki, ki + nk - 1)}, {unpack(op, 3)}
    ki = ki + nk
    NOW = tonumber(A[1])
    results[ri] = OPS[op[1]](K, A)
    ri = ri + 1
  end
end
flush_counts()
if all_accepted then return '*' end
return cjson.encode(results)
`;

/** The full Lua source of the batch script. */
export const BATCH_SOURCE = HELPERS + OPERATIONS + DISPATCH;
