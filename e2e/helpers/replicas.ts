// Several real smppd processes sharing one Redis (issue 5): what a Kubernetes Deployment with
// `store.backend: redis` runs. Each replica gets its own admin port (readiness, /metrics, /healthz),
// the same config otherwise, and the test's Redis URL with a key prefix no other test uses.

import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { startSimulator, type Simulator, type SimulatorOptions } from '../sim/index.js';
import { buildIfStale, spawnSmppd, type SmppdProcess } from './dataplane-process.js';
import { cleanupList, eventually } from './receipts-proxy.js';
import { freePort, startRedisServer, type RedisServer } from './redis-server.js';

export interface ReplicaOptions {
  redisUrl: string;
  /** Simulator ports: one cluster endpoint each. */
  simPorts: readonly number[];
  count?: number;
  /** Fields of the cluster besides name and endpoints (throughput, max_binds, ...). */
  cluster?: Record<string, unknown>;
  /** Fields of each endpoint besides address and credentials (default binds 1, window 100). */
  endpoint?: Record<string, unknown>;
  /** Fields of the client acme/secret (max_binds, throughput, ...). */
  client?: Record<string, unknown>;
  /** Listener limits. */
  limits?: Record<string, unknown>;
  /** Key prefix (default a fresh one). */
  keyPrefix?: string;
  /** The `rebalance` section (default: absent, so off). */
  rebalance?: Record<string, unknown>;
  /** store.ttl (default 1h). */
  storeTtl?: string;
  /** Fields of store.redis besides url and key_prefix (password_file, tls, ...). */
  redis?: Record<string, unknown>;
}

export interface Replica {
  readonly index: number;
  readonly process: SmppdProcess;
  readonly smppPort: number;
  readonly adminPort: number;
}

export interface Replicas {
  readonly list: Replica[];
  readonly keyPrefix: string;
  stop(): Promise<void>;
}

function config(o: ReplicaOptions, adminPort: number, keyPrefix: string) {
  return {
    listeners: [{ name: 'smpp', address: '127.0.0.1:0', limits: { window: 500, request_timeout: '10s', ...o.limits } }],
    clients: [{ system_id: 'acme', password: 'secret', ...o.client }],
    clusters: [
      {
        name: 'sim',
        endpoints: o.simPorts.map((port) => ({
          address: `127.0.0.1:${port}`,
          system_id: 'smppd',
          password: 'pw',
          binds: 1,
          window: 100,
          ...o.endpoint,
        })),
        bind_type: 'transceiver',
        message_id: 'auto',
        ...o.cluster,
      },
    ],
    routes: [{ name: 'all', cluster: 'sim' }],
    store: { backend: 'redis', ttl: o.storeTtl ?? '1h', redis: { url: o.redisUrl, key_prefix: keyPrefix, ...o.redis } },
    admin: { address: `127.0.0.1:${adminPort}` },
    shutdown: { drain_timeout: '2s' },
    ...(o.rebalance === undefined ? {} : { rebalance: o.rebalance }),
  };
}

/** Starts `count` (default 3) smppd processes on one Redis, in parallel. */
export async function startReplicas(o: ReplicaOptions): Promise<Replicas> {
  const keyPrefix = o.keyPrefix ?? `smppd-e2e:${randomBytes(4).toString('hex')}:`;
  const count = o.count ?? 3;
  const list = await Promise.all(
    Array.from({ length: count }, async (_, index): Promise<Replica> => {
      const adminPort = await freePort();
      const smppd = await spawnSmppd(config(o, adminPort, keyPrefix));
      return { index, process: smppd, smppPort: smppd.ports.get('smpp')!, adminPort };
    }),
  );
  return {
    list,
    keyPrefix,
    stop: async () => {
      await Promise.all(list.map((r) => r.process.stop()));
    },
  };
}

/** GET `path` on a replica's admin API: status and text, or status 0 when it does not answer. */
export async function admin(r: Replica, path: string): Promise<{ status: number; text: string }> {
  try {
    const res = await fetch(`http://127.0.0.1:${r.adminPort}${path}`);
    return { status: res.status, text: await res.text() };
  } catch {
    return { status: 0, text: '' };
  }
}

/** A metric's value from the replica's /metrics (the sum over its series); 0 when absent. */
export async function metric(r: Replica, name: string): Promise<number> {
  const { text } = await admin(r, '/metrics');
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/** Deliveries kept in the store (its /store/stats, the fleet's count); -1 when the replica does not answer. */
export async function pendingDeliveries(r: Replica): Promise<number> {
  const { status, text } = await admin(r, '/store/stats');
  return status === 200 ? (JSON.parse(text) as { pendingDeliveries: number }).pendingDeliveries : -1;
}

/**
 * Waits until every replica answers /readyz 200: its store connected and its key prefix checked. A
 * Kubernetes Service sends clients only to ready pods; a submit that comes before is answered
 * ESME_RMSGQFUL (the store not available yet).
 */
export async function everyReplicaReady(replicas: Replicas): Promise<void> {
  await eventually('every replica ready', async () => {
    for (const r of replicas.list) if ((await admin(r, '/readyz')).status !== 200) return false;
    return true;
  });
}

export interface ReplicaSuite {
  /** Closed after each test, last added first. */
  readonly cleanup: ReturnType<typeof cleanupList>;
  /** The file's private redis-server (started before the first test). */
  redis(): RedisServer;
  /** A simulator and three replicas on it, every replica bound upstream and ready. */
  simulatorWithReplicas(sim: Partial<SimulatorOptions>, replicas?: Partial<ReplicaOptions>): Promise<{ sim: Simulator; replicas: Replicas }>;
}

/**
 * The frame of a replica test file: smppd built, one private redis-server for the file (`durable`:
 * see redis-server.ts), and each test's processes and clients closed after it. Call at the top
 * level of the file.
 */
export function replicaSuite(redisOptions: { durable?: boolean } = {}): ReplicaSuite {
  const cleanup = cleanupList();
  let redis: RedisServer | undefined;
  beforeAll(async () => {
    await buildIfStale();
    redis = await startRedisServer(redisOptions);
  }, 180_000);
  afterEach(() => cleanup.run());
  afterAll(() => redis?.stop());
  const running = (): RedisServer => {
    if (redis === undefined) throw new Error('redis-server is not started yet (beforeAll)');
    return redis;
  };
  return {
    cleanup,
    redis: running,
    async simulatorWithReplicas(simOptions, replicaOptions = {}) {
      const sim = cleanup.add(await startSimulator(simOptions));
      const replicas = cleanup.add(await startReplicas({ ...replicaOptions, redisUrl: running().url, simPorts: [sim.port] }));
      const count = replicaOptions.count ?? 3;
      // Three processes start and bind while the rest of the suite runs in parallel: on a slow day
      // (half the usual speed, 2026-11-26 night) that once took more than the default 10 s.
      await eventually('every replica bound upstream', () => sim.stats().bound >= count, { timeoutMs: 30_000, describe: () => sim.stats() });
      await everyReplicaReady(replicas);
      return { sim, replicas };
    },
  };
}
