// How many client sessions each replica holds, shared in Redis for the rebalancer
// (listener/rebalance.ts).
//
// Key `<p>fleet:sessions`, a hash: field = replica id, value = "<sessions>|<reported at, epoch ms>".
// Each replica writes its own field at each rebalance tick and reads the whole hash in the same call
// (one script, one round trip). A field not rewritten within `staleMs` belongs to a replica that
// stopped (or cannot reach Redis): it is left out of the fleet and deleted. The hash's own Redis TTL
// is renewed on each report, so it disappears when no replica reports any more. Times are the
// replicas' clocks: skew between them shortens or stretches `staleMs`.

import type { Cluster, Redis } from 'ioredis';

export interface FleetSessions {
  /**
   * Reports `sessions` for `replica` and returns the session counts of every replica that reported
   * within `staleMs` (this one included). Rejects when Redis is unreachable.
   */
  report(replica: string, sessions: number, staleMs: number): Promise<number[]>;
}

const REPORT = `
local key, replica, sessions, now, stale = KEYS[1], ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
redis.call('HSET', key, replica, sessions .. '|' .. now)
redis.call('PEXPIRE', key, 2 * stale)
local counts = {}
local all = redis.call('HGETALL', key)
for i = 1, #all, 2 do
  local n, at = string.match(all[i + 1], '^(%d+)|(%d+)$')
  if n and now - tonumber(at) <= stale then
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

export function createRedisFleetSessions(redis: Redis | Cluster, keyPrefix: string, now: () => number = Date.now): FleetSessions {
  const key = fleetSessionsKey(keyPrefix);
  return {
    async report(replica, sessions, staleMs) {
      const reply = (await redis.eval(REPORT, 1, key, replica, Math.floor(sessions), Math.floor(now()), Math.ceil(staleMs))) as number[];
      return reply;
    },
  };
}
