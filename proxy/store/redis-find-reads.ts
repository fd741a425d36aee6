// A batch of findByUpstream alone (one per receipt) through a small script of its own, instead of
// the batch script (redis-scripts.ts, find_run).
//
// Why: a find in the batch script cost redis-server ~39,000 instructions (callgrind, 40 finds per
// call), of which its three HGETs were ~14,000. The rest was the batch script's generality: the
// operations' JSON decoded, each record string parsed for its expiry (string.match, tonumber) and
// written again into the JSON reply by cjson (~6,700 for a record of ~120 bytes, a throwaway
// harness: bench/README.md, "Kept (twelfth session)"). Redis is the one thread every replica shares, and
// with receipts flowing a find was most of its work per message. Plain HGETs in a MULTI/EXEC cost
// Redis less again, but they take two round trips (the record's key is the id the first one finds),
// and a receipt waits for both while the SMSC's window of receipts in flight is full: receipts
// end to end came out no faster (alternating runs), and smppd spent ~15,000 instructions per
// receipt more on the replies (a QUEUED each).
//
// FIND_SOURCE does what the batch script's find does but the last step: per find, the newest index
// entry of its first field that has one (buckets newest first, the bucket's hash before the block:
// redis-keys.ts), and that id's record string, whatever its expiry. The reply is flat: id and
// record per find, nil for none; no JSON. The store decides a find when the record is live at its
// now (liveRecord) or when no field has an entry (none then, as the batch script answers); a find
// whose record is gone or expired goes to the batch script, which goes on to the next field.
//
// Call layout: KEYS[1] = the store's meta key (Redis Cluster routes the call by it, as the batch
// script's). ARGV[1] = prefix, ARGV[2] and ARGV[3] = the store's bucket width and ttl (ms), then
// runs of finds with one `now`: now, the finds' field counts as one string of digits (one digit
// per find), then the fields of each find in turn.

import { charCode } from '../smpp/string-calls.js';
import type { RespArg } from './redis-batch-command.js';

export const FIND_SOURCE = `
local P = ARGV[1]
local WIDTH, TTL = tonumber(ARGV[2]), tonumber(ARGV[3])
-- The name <p>x:<b> of bucket b, made once per call (Lua writes a number with sprintf).
local BUCKETS = {}
local out, o = {}, 0
local a = 4
while a <= #ARGV do
  local now = tonumber(ARGV[a])
  local counts = ARGV[a + 1]
  a = a + 2
  local top, bottom = math.floor(now / WIDTH), math.floor((now - TTL) / WIDTH)
  for c = 1, #counts do
    local n = string.byte(counts, c) - 48
    local id = false
    for i = a, a + n - 1 do
      local field = ARGV[i]
      local block, last = string.sub(field, 1, -2), string.sub(field, -1)
      for b = top, bottom, -1 do
        local key = BUCKETS[b]
        if not key then
          key = P .. 'x:' .. b
          BUCKETS[b] = key
        end
        id = redis.call('HGET', key, field) or redis.call('HGET', key .. ':' .. block, last)
        if id then break end
      end
      if id then break end
    end
    a = a + n
    local record = false
    if id then record = redis.call('HGET', P .. 'r:' .. string.sub(id, 1, -2), string.sub(id, -1)) end
    out[o + 1] = id
    out[o + 2] = record
    o = o + 2
  end
end
return out
`;

/** Most index fields of a find FIND_SOURCE takes: its count is one digit. */
export const MAX_FIND_FIELDS = 9;

/**
 * The ARGV of FIND_SOURCE after its three fixed ones, for finds given as the store encodes them
 * (name, key count, now, then the index fields), in order.
 */
export function findArgs(finds: readonly (readonly (string | number)[])[]): RespArg[] {
  const args: RespArg[] = [];
  let now = NaN;
  let countsAt = -1;
  let counts = '';
  for (const encoded of finds) {
    const at = encoded[2] as number;
    if (at !== now) {
      if (countsAt >= 0) args[countsAt] = counts;
      now = at;
      countsAt = args.push(at, '') - 1;
      counts = '';
    }
    counts += DIGITS[encoded.length - 3]!;
    for (let f = 3; f < encoded.length; f++) args.push(encoded[f]!);
  }
  if (countsAt >= 0) args[countsAt] = counts;
  return args;
}

const DIGITS = '0123456789';

/**
 * The record string `value` when its expiresAt (its first field: decimal digits up to the first
 * '|', redis-keys.ts) is after `now`; undefined when it is not, or is not such a string (the batch
 * script decides then).
 */
export function liveRecord(value: unknown, now: number): string | undefined {
  if (typeof value !== 'string') return undefined;
  let expiresAt = 0;
  let i = 0;
  for (; i < value.length; i++) {
    const c = charCode(value, i);
    if (c === 0x7c) break; // '|'
    if (c < 0x30 || c > 0x39) return undefined;
    expiresAt = expiresAt * 10 + (c - 0x30);
  }
  return i > 0 && i < value.length && expiresAt > now ? value : undefined;
}
