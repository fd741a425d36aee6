// How the Redis store connects (SPEC §3 `store.redis`), and the client settings that make Redis
// trouble visible at once instead of stalling submits.
//
// Connection settings, all expressible in the config:
// - Standalone: `url: redis://[user:password@]host:6379[/db]`; `rediss://` for TLS. `password`
//   (or `password_file`) overrides the URL's; `tls: { ca, servername }` sets a private CA / SNI.
// - Sentinel: `sentinel: { name: mymaster, addresses: [s1:26379, ...], password? }`; the URL then
//   only gives Redis's credentials, db and TLS (its host is ignored: the sentinels name the master).
//   ioredis follows failovers by asking the sentinels again.
// - Cluster: `cluster: { nodes: [n1:6379, ...] }`; the URL gives credentials and TLS. The key prefix
//   must carry a hash tag ("{smppd}:"), see redis-keys.ts.
//
// Durability: smppd acknowledges a submit once its record is written to Redis, so the records must
// outlive a Redis restart or failover, or receipts for messages acknowledged before it no longer
// match. Run Redis with the append-only file and `appendfsync always` (or `everysec`, accepting up
// to a second of acknowledged writes lost on a crash), or with a replica behind Sentinel; with
// `maxmemory`, use `maxmemory-policy noeviction` (redis-store.ts).
//
// Fail fast, recover alone: a store call while Redis is unreachable must reject at once (StoreError
// BACKEND: the forwarder answers a retriable status and readiness goes 503) rather than wait in a
// queue. Hence no offline queue, no retry of a command after its connection dropped (in-flight calls
// fail with the connection; resending a script that may have run twice is no better), a command
// timeout for a Redis that stops answering, and reconnection in the background with capped
// exponential backoff and jitter.
//
// ioredis 5, not 6: ioredis 6 reads replies with a new RESP3 decoder whose private fields compile
// to WeakMap lookups. With ioredis 5 (redis-parser, RESP2: all the store needs), `npm run
// bench:accept` counts 13% fewer instructions per saveAccepted in its process (callgrind,
// bench/README.md "The Redis store, (f)").

import { readFileSync } from 'node:fs';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { RedisConfig } from '../config/schema.js';

export interface RedisConnectionSettings {
  /** redis:// or rediss://; default redis://127.0.0.1:6379. */
  readonly url?: string;
  /** Overrides the URL's password. */
  readonly password?: string;
  /** TLS beyond what rediss:// implies: a CA bundle (PEM text) and a servername. */
  readonly tls?: { readonly ca?: string; readonly servername?: string };
  readonly sentinel?: { readonly name: string; readonly addresses: readonly string[]; readonly password?: string };
  readonly cluster?: { readonly nodes: readonly string[] };
  readonly connectTimeoutMs?: number;
  readonly commandTimeoutMs?: number;
  /** Longest pause between two reconnection attempts; default 2 s. */
  readonly reconnectMaxDelayMs?: number;
}

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
export const DEFAULT_COMMAND_TIMEOUT_MS = 2_000;
export const DEFAULT_RECONNECT_MAX_DELAY_MS = 2_000;

/** Backoff before reconnection attempt `times` (1-based): 50 ms doubling to maxMs, plus up to 50 ms jitter. */
export function reconnectDelay(times: number, maxMs: number): number {
  return Math.min(50 * 2 ** Math.min(times - 1, 16), maxMs) + Math.floor(Math.random() * 50);
}

/** The ioredis options that make calls fail fast while Redis is away (see the top of this file). */
export function failFastOptions(
  settings: Pick<RedisConnectionSettings, 'connectTimeoutMs' | 'commandTimeoutMs' | 'reconnectMaxDelayMs'> = {},
): RedisOptions {
  const maxDelay = settings.reconnectMaxDelayMs ?? DEFAULT_RECONNECT_MAX_DELAY_MS;
  return {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    connectTimeout: settings.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    commandTimeout: settings.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
    retryStrategy: (times) => reconnectDelay(times, maxDelay),
  };
}

function hostPort(text: string): { host: string; port: number } {
  const colon = text.lastIndexOf(':');
  const host = text.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  return { host, port: Number(text.slice(colon + 1)) };
}

/** Credentials, db and TLS from a redis(s):// URL, for Sentinel and Cluster where its host is not used. */
function urlParts(url: string): Pick<RedisOptions, 'username' | 'password' | 'db' | 'tls'> {
  const parsed = new URL(url);
  const parts: Pick<RedisOptions, 'username' | 'password' | 'db' | 'tls'> = {};
  if (parsed.username !== '') parts.username = decodeURIComponent(parsed.username);
  if (parsed.password !== '') parts.password = decodeURIComponent(parsed.password);
  const db = parsed.pathname.replace(/^\//, '');
  if (db !== '') parts.db = Number(db);
  if (parsed.protocol === 'rediss:') parts.tls = {};
  return parts;
}

/** A new ioredis client for these settings (the caller owns it), with the fail-fast options. */
export function createRedisClient(settings: RedisConnectionSettings): Redis | Cluster {
  const url = settings.url ?? DEFAULT_REDIS_URL;
  const base = failFastOptions(settings);
  const fromUrl = urlParts(url);
  const auth: RedisOptions = { ...fromUrl };
  if (settings.password !== undefined) auth.password = settings.password;
  if (settings.tls !== undefined) auth.tls = { ...fromUrl.tls, ...settings.tls };

  if (settings.cluster !== undefined) {
    const { retryStrategy, enableOfflineQueue, ...perNode } = base;
    const options: ClusterOptions = {
      enableOfflineQueue,
      clusterRetryStrategy: retryStrategy === undefined || retryStrategy === null ? undefined : (times) => retryStrategy(times),
      redisOptions: { ...perNode, username: auth.username, password: auth.password, tls: auth.tls },
    };
    return new Cluster(settings.cluster.nodes.map(hostPort), options);
  }
  if (settings.sentinel !== undefined) {
    return new Redis({
      ...base,
      ...auth,
      name: settings.sentinel.name,
      sentinels: settings.sentinel.addresses.map(hostPort),
      sentinelPassword: settings.sentinel.password,
      // TLS to Redis implies TLS to the sentinels (one deployment, one policy).
      enableTLSForSentinelMode: auth.tls !== undefined,
      sentinelTLS: auth.tls,
    });
  }
  const options: RedisOptions = { ...base };
  if (settings.password !== undefined) options.password = settings.password;
  if (settings.tls !== undefined) options.tls = auth.tls;
  return new Redis(url, options);
}

/** Connection settings from `store.redis`; a TLS `ca` path is read with `readFile`. */
export function redisSettingsFromConfig(
  config: RedisConfig,
  readFile: (path: string) => string = (path) => readFileSync(path, 'utf8'),
): RedisConnectionSettings {
  const tls = config.tls === false ? undefined : { ...config.tls, ca: config.tls.ca === undefined ? undefined : readFile(config.tls.ca) };
  return {
    url: config.url,
    password: config.password,
    tls,
    sentinel: config.sentinel && { name: config.sentinel.name, addresses: config.sentinel.addresses, password: config.sentinel.password },
    cluster: config.cluster && { nodes: config.cluster.nodes },
    connectTimeoutMs: config.connect_timeout,
    commandTimeoutMs: config.command_timeout,
  };
}
