// The smppd configuration (SPEC §3): the single source of truth for its shape, defaults and checks.
// Input keys are snake_case and strict (a typo must not silently disable a limit). Durations come out
// as milliseconds; secrets given as `<key>_file` come out with `<key>` filled in by load.ts.
// Output objects are plain data (no classes, no functions) so a reload can diff two configs.

import { z } from 'zod';
import { hasHashTag } from '../store/redis-keys.js';
import { ClusterSchema } from './cluster-schema.js';
import { checkCrossReferences } from './cross-checks.js';
import {
  BIND_TYPES,
  cidr,
  duration,
  hostPort,
  nonEmptyString,
  nonNegativeInt,
  nonNegativeNumber,
  positiveInt,
  regexSource,
  secretRule,
  systemId,
  whenPresent,
} from './fields.js';
import { ListenerSchema } from './listener-schema.js';
import { parsePasswordHash } from '../filter/password-hash.js';

export { BIND_TYPES } from './fields.js';
export { LOAD_BALANCERS, MESSAGE_ID_FORMATS, MOCK_DLR_STATES } from './cluster-schema.js';

const AddressMatchSchema = z
  .strictObject({
    prefix: z.string().optional(),
    regex: regexSource().optional(),
    exact: z.string().optional(),
  })
  .superRefine((m, ctx) => {
    const given = [m.prefix, m.regex, m.exact].filter((v) => v !== undefined).length;
    if (given !== 1) ctx.addIssue({ code: 'custom', path: [], message: 'needs exactly one of prefix, regex, exact' });
  });

const ClientSchema = z
  .strictObject({
    system_id: systemId(),
    /** false: binds are refused (ESME_RBINDFAIL) and a reload unbinds its sessions; its kept receipts wait. */
    enabled: z.boolean().default(true),
    password: z.string().optional(),
    password_file: nonEmptyString().optional(),
    /** The password as an scrypt hash instead (filter/password-hash.ts); or password_hash_file. */
    password_hash: z.string().optional(),
    password_hash_file: nonEmptyString().optional(),
    allowed_ips: z.array(cidr()).prefault(['0.0.0.0/0', '::/0']),
    bind_types: z
      .array(z.enum(BIND_TYPES))
      .min(1, { error: 'must list at least one bind type' })
      .prefault([...BIND_TYPES]),
    /** Sessions of this client across its binds, 0 = unlimited. */
    max_binds: nonNegativeInt().default(0),
    /** submit_sm per second, all binds together, 0 = unlimited. */
    throughput: nonNegativeNumber().default(0),
    /**
     * Source addresses (sender ids) this client may submit from, as route criteria (prefix, regex,
     * exact); empty: any. A submit from another is answered ESME_RINVSRCADR.
     */
    allowed_sources: z.array(AddressMatchSchema).prefault([]),
    /** MO (mobile-originated) traffic to these addresses goes to this client. */
    mo_addresses: z.array(nonEmptyString()).prefault([]),
  })
  .superRefine(secretRule('password', { required: false }))
  .superRefine(secretRule('password_hash', { required: false }))
  .superRefine((c, ctx) => {
    const plain = c.password !== undefined || c.password_file !== undefined;
    const hashed = c.password_hash !== undefined || c.password_hash_file !== undefined;
    if (plain && hashed) {
      ctx.addIssue({ code: 'custom', path: [c.password_hash !== undefined ? 'password_hash' : 'password_hash_file'], message: 'cannot be combined with password' });
    } else if (!plain && !hashed) {
      ctx.addIssue({ code: 'custom', path: [], message: 'needs password or password_file (or password_hash or password_hash_file)' });
    } else if (c.password_hash !== undefined) {
      const parsed = parsePasswordHash(c.password_hash);
      if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', path: ['password_hash'], message: parsed });
    }
  })
  .transform((c) => ({ ...c, password: c.password ?? '' }));

/** One address criterion: exactly one of prefix, regex (JavaScript syntax) or exact. */
/** Every criterion given must match; an empty match matches every message. */
const RouteMatchSchema = z.strictObject({
  destination: AddressMatchSchema.optional(),
  source: AddressMatchSchema.optional(),
  sender_id: AddressMatchSchema.optional(),
  /** Only this client's traffic (a client system_id). */
  client: nonEmptyString().optional(),
});

const RouteSchema = z.strictObject({
  name: nonEmptyString(),
  match: RouteMatchSchema.prefault({}),
  cluster: nonEmptyString(),
  /** Ordered clusters to try when the first is open or unavailable. */
  fallback: z.array(nonEmptyString()).prefault([]),
  /** Lowest number wins, first match among equals. The default ranks a route after explicit small numbers. */
  priority: z
    .number({ error: whenPresent('must be an integer') })
    .int({ error: 'must be an integer' })
    .default(100),
});

const REDIS_URL_HINT = 'must be a redis:// or rediss:// URL';
const redisUrl = () =>
  z.string({ error: whenPresent(REDIS_URL_HINT) }).refine((text) => {
    try {
      return ['redis:', 'rediss:'].includes(new URL(text).protocol);
    } catch {
      return false;
    }
  }, { error: REDIS_URL_HINT });

const RedisTlsSchema = z.strictObject({
  /** PEM CA bundle to verify Redis with (default: the system's CAs). */
  ca: nonEmptyString().optional(),
  /** Certificate name when the address is an IP or differs from the certificate. */
  servername: nonEmptyString().optional(),
});

type RedisTls = z.output<typeof RedisTlsSchema>;

/** Redis through Sentinel: the master `name` is looked up on the sentinels. */
const RedisSentinelSchema = z
  .strictObject({
    name: nonEmptyString(),
    addresses: z.array(hostPort({ allowPortZero: false })).min(1, { error: 'must list at least one sentinel' }),
    /** The sentinels' own password, when they require one (the URL's is Redis's). */
    password: z.string().optional(),
    password_file: nonEmptyString().optional(),
  })
  .superRefine(secretRule('password', { required: false }));

/** Redis Cluster: any reachable nodes; the rest is discovered. */
const RedisClusterSchema = z.strictObject({
  nodes: z.array(hostPort({ allowPortZero: false })).min(1, { error: 'must list at least one node' }),
});

const CLUSTER_PREFIX_HINT = 'with cluster, must contain a hash tag such as "{smppd}:" (the store keeps all its keys in one slot)';

const RedisSchema = z
  .strictObject({
    /** redis:// or rediss:// (TLS); user:password@ and /db allowed. With sentinel or cluster: credentials, db and TLS only. */
    url: redisUrl().optional(),
    url_file: nonEmptyString().optional(),
    password: z.string().optional(),
    password_file: nonEmptyString().optional(),
    key_prefix: z.string().default('smppd:'),
    /** TLS on (also implied by rediss://), optionally with a CA bundle and servername. */
    tls: z
      .union([z.boolean(), RedisTlsSchema], { error: whenPresent('must be true, false or { ca, servername }') })
      .default(false)
      .transform((tls): RedisTls | false => (tls === true ? {} : tls)),
    sentinel: RedisSentinelSchema.optional(),
    cluster: RedisClusterSchema.optional(),
    /** Longest wait for a connection; a store call waits this long only before the first one. */
    connect_timeout: duration({ positive: true }).prefault('5s'),
    /** Longest wait for one command's answer before the store call fails (retriable for the client). */
    command_timeout: duration({ positive: true }).prefault('2s'),
  })
  .superRefine(secretRule('url', { required: false }))
  .superRefine(secretRule('password', { required: false }))
  .superRefine((r, ctx) => {
    if (r.sentinel !== undefined && r.cluster !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['cluster'], message: 'cannot be combined with sentinel' });
    }
    if (r.cluster !== undefined && !hasHashTag(r.key_prefix)) {
      ctx.addIssue({ code: 'custom', path: ['key_prefix'], message: CLUSTER_PREFIX_HINT });
    }
  })
  .transform((r) => ({ ...r, url: r.url ?? (r.url_file === undefined ? 'redis://127.0.0.1:6379' : '') }));

const StoreSchema = z.strictObject({
  backend: z.enum(['memory', 'redis']).default('memory'),
  /** How long a message is kept for receipts and queries. */
  ttl: duration({ positive: true }).prefault('72h'),
  /** Memory backend bound; the oldest entries go first. */
  max_entries: positiveInt().default(1_000_000),
  redis: RedisSchema.prefault({}),
});

const AdminSchema = z
  .strictObject({
    address: hostPort({ allowPortZero: true }).default('0.0.0.0:9090'),
    /** Bearer token for /config and POST endpoints; absent = no token required. */
    token: nonEmptyString().optional(),
    token_file: nonEmptyString().optional(),
  })
  .superRefine(secretRule('token', { required: false }));

/**
 * Moving client binds to replicas that have fewer (beyond SPEC §3; listener/rebalance.ts): a Service
 * spreads new connections, but SMPP binds live for days, so replicas added by a scale-out would
 * otherwise stay idle. Needs store.backend: redis, where the replicas count their sessions.
 */
const RebalanceSchema = z.strictObject({
  enabled: z.boolean().default(false),
  /** How often each replica compares its bound sessions with the fleet's. */
  interval: duration({ positive: true }).prefault('30s'),
  /** A replica unbinds sessions while it holds more than (1 + tolerance) × the fleet average. */
  tolerance: z.number().min(0).max(10).default(0.25),
  /** Sessions unbound per interval, at most. */
  max_unbinds: positiveInt().default(1),
  /** A session bound more recently than this is not unbound (it may just have moved here). */
  min_session_age: duration().prefault('5m'),
});

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const ConfigSchema = z
  .strictObject({
    listeners: z.array(ListenerSchema).prefault([]),
    /** Who may bind; without a client list every bind is refused. */
    clients: z.array(ClientSchema).prefault([]),
    clusters: z.array(ClusterSchema).prefault([]),
    routes: z.array(RouteSchema).prefault([]),
    store: StoreSchema.prefault({}),
    admin: AdminSchema.prefault({}),
    log: z.strictObject({ level: z.enum(LOG_LEVELS).default('info') }).prefault({}),
    shutdown: z.strictObject({ drain_timeout: duration().prefault('30s') }).prefault({}),
    rebalance: RebalanceSchema.prefault({}),
  })
  // Always run, so one broken section does not hide a dangling reference in another.
  .superRefine(checkCrossReferences, { when: () => true });

/** The config as written (durations as text, optional sections absent). */
export type ConfigInput = z.input<typeof ConfigSchema>;
/** The parsed config: defaults filled, durations in milliseconds, secrets resolved. */
export type Config = z.output<typeof ConfigSchema>;

export type ListenerConfig = Config['listeners'][number];
export type ListenerLimits = ListenerConfig['limits'];
export type ListenerTlsConfig = NonNullable<ListenerConfig['tls']>;
export type FilterConfig = ListenerConfig['filters'][number];
export type FirewallFilterConfig = Extract<FilterConfig, { type: 'firewall' }>['config'];
export type RateLimitFilterConfig = Extract<FilterConfig, { type: 'rate_limit' }>['config'];
export type ClientConfig = Config['clients'][number];
export type BindType = ClientConfig['bind_types'][number];
export type ClusterConfig = Config['clusters'][number];
export type EndpointConfig = ClusterConfig['endpoints'][number];
export type EndpointTlsConfig = Exclude<EndpointConfig['tls'], false>;
export type MockConfig = NonNullable<ClusterConfig['mock']>;
export type CircuitBreakerConfig = ClusterConfig['circuit_breaker'];
export type HealthCheckConfig = ClusterConfig['health_check'];
export type RetryConfig = ClusterConfig['retry'];
export type RetryCondition = RetryConfig['on'][number];
export type LoadBalancerKind = ClusterConfig['load_balancer'];
export type MessageIdFormat = ClusterConfig['message_id'];
export type RouteConfig = Config['routes'][number];
export type RouteMatchConfig = RouteConfig['match'];
export type AddressMatchConfig = NonNullable<RouteMatchConfig['destination']>;
export type StoreConfig = Config['store'];
export type RedisConfig = StoreConfig['redis'];
export type AdminConfig = Config['admin'];
export type LogConfig = Config['log'];
export type LogLevel = LogConfig['level'];
export type ShutdownConfig = Config['shutdown'];
export type RebalanceConfig = Config['rebalance'];

export type ListenerConfigInput = NonNullable<ConfigInput['listeners']>[number];
export type ClientConfigInput = NonNullable<ConfigInput['clients']>[number];
export type ClusterConfigInput = NonNullable<ConfigInput['clusters']>[number];
export type RouteConfigInput = NonNullable<ConfigInput['routes']>[number];
