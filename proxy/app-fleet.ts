// Wiring for app.ts: with `store.backend: redis` the limits that hold for the whole fleet (issue 5):
// clusters' throughput and max_binds (cluster/fleet-throttle.ts, cluster/endpoint-slots.ts), clients'
// throughput (filter/fleet-throughput.ts) and max_binds (listener/client-slots.ts), all on one
// Redis connection of their own (store/fleet-limits.ts: algorithms and precision). With the memory
// backend there is no fleet: undefined, and every limit stays this replica's own.

import type { ClusterFleet } from './cluster/fleet-throttle.js';
import type { ClientConfig, StoreConfig } from './config/schema.js';
import { createFleetClientThroughput, type ClientThroughput } from './filter/index.js';
import type { ClientSlots } from './listener/index.js';
import {
  clientRateKey,
  clientSlotsKey,
  clusterRateKey,
  createRedisFleetLimits,
  endpointSlotsKey,
} from './store/fleet-limits.js';
import { createRedisFleetSessions, type FleetSessions } from './store/fleet-sessions.js';
import { createRedisClient, redisSettingsFromConfig } from './store/redis-connection.js';
import type { Logger } from './telemetry/logger.js';

export interface Fleet {
  readonly clusters: ClusterFleet;
  readonly clientSlots: ClientSlots;
  /** Each replica's count of bound client sessions (the rebalancer's). */
  readonly sessions: FleetSessions;
  /** Clients' throughput across the fleet (one instance shared by all listeners). */
  clientThroughput(clients: readonly ClientConfig[]): ClientThroughput;
  close(): Promise<void>;
}

/** The same trouble is logged at most once per this long (Redis away: every retry would log). */
const LOG_EVERY_MS = 10_000;

export function createFleet(config: StoreConfig, logger: Logger, readFile?: (path: string) => string): Fleet | undefined {
  if (config.backend !== 'redis') return undefined;
  const prefix = config.redis.key_prefix;
  const redis = createRedisClient(redisSettingsFromConfig(config.redis, readFile));
  redis.on('error', () => {}); // the store's connection reports Redis trouble (readiness, logs)
  const logged = new Map<string, number>();
  const onError = (err: unknown, what: string): void => {
    const now = Date.now();
    if (now - (logged.get(what) ?? -Infinity) < LOG_EVERY_MS) return;
    logged.set(what, now);
    logger.warn({ err }, what);
  };
  const limits = createRedisFleetLimits({ redis, keyPrefix: prefix, onError });
  return {
    clusters: {
      tokens: limits.tokens,
      slots: limits.slots,
      rateKey: (cluster) => clusterRateKey(prefix, cluster),
      endpointSlotsKey: (cluster, endpoint) => endpointSlotsKey(prefix, cluster, endpoint),
      onError,
    },
    clientSlots: { slots: limits.slots, keyOf: (systemId) => clientSlotsKey(prefix, systemId) },
    sessions: createRedisFleetSessions(redis, prefix),
    clientThroughput: (clients) =>
      createFleetClientThroughput(clients, { tokens: limits.tokens, keyOf: (systemId) => clientRateKey(prefix, systemId), onError }),
    close: () => limits.close(),
  };
}
