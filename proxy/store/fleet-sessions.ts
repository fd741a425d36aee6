// How many client sessions each replica holds, shared in Redis for the rebalancer
// (listener/rebalance.ts).
//
// Key `<p>fleet:sessions`, a hash: field = replica id, value = "<sessions>|<reported at>|<valid for>"
// (ms). Each replica writes its own field at each rebalance tick and reads the whole hash in the same
// call (one script, one round trip). A report older than the time its writer said it is valid for
// (three of that replica's intervals) belongs to a replica that stopped or cannot reach Redis: it is
// left out of the fleet and deleted. Each writer's own validity counts, so replicas whose intervals
// differ for a while (a reload reaching them one after the other) do not drop each other. Times are
// Redis's clock (TIME), so the replicas' clocks do not matter. A replica that stops deletes its field
// (leave). The hash's own Redis TTL is extended on each report, so it goes when no replica reports.

import type { Cluster, Redis } from 'ioredis';

export interface FleetSessions {
  /**
   * Reports `sessions` for `replica`, valid for `validMs`, and returns the session counts of every
   * replica whose report is still valid (this one included). Rejects when Redis is unreachable.
   */
  report(replica: string, sessions: number, validMs: number): Promise<number[]>;
  /** Removes the replica's report (it stops). */
  leave(replica: string): Promise<void>;
}

// ARGV[4]: the time in ms, or '' for Redis's own (tests pass a clock).
const REPORT = `
local key, replica, sessions, valid = KEYS[1], ARGV[1], ARGV[2], tonumber(ARGV[3])
local now = tonumber(ARGV[4])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
redis.call('HSET', key, replica, sessions .. '|' .. now .. '|' .. valid)
if redis.call('PTTL', key) < 2 * valid then redis.call('PEXPIRE', key, 2 * valid) end
local counts = {}
local all = redis.call('HGETALL', key)
for i = 1, #all, 2 do
  local n, at, ms = string.match(all[i + 1], '^(%d+)|(%d+)|(%d+)$')
  if n and now - tonumber(at) <= tonumber(ms) then
    counts[#counts + 1] = tonumber(n)
  else
    redis.call('HDEL', key, all[i])
  end
end
return counts
`;

export function fleetSessionsKey(prefix: string): string {
  return `${prefix}fleet:sessions`;
}

type ReportCall = (key: string, replica: string, sessions: number, validMs: number, at: number | '') => Promise<number[]>;

/** `now`: a clock for tests; by default Redis's own. */
export function createRedisFleetSessions(redis: Redis | Cluster, keyPrefix: string, now?: () => number): FleetSessions {
  const key = fleetSessionsKey(keyPrefix);
  // EVALSHA, EVAL when Redis lacks the script (as fleet-limits.ts defines its scripts).
  redis.defineCommand('smppdFleetSessions', { lua: REPORT, numberOfKeys: 1 });
  const call = (redis as unknown as Record<'smppdFleetSessions', ReportCall>).smppdFleetSessions.bind(redis);
  return {
    async report(replica, sessions, validMs) {
      return call(key, replica, Math.floor(sessions), Math.ceil(validMs), now === undefined ? '' : Math.floor(now()));
    },
    async leave(replica) {
      await redis.hdel(key, replica);
    },
  };
}
