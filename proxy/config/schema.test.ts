// Validation as an operator sees it: each broken config gives exact `path: message` lines.

import { describe, expect, expectTypeOf, test } from 'vitest';
import { parseConfig, type LoadResult } from './load.js';
import type { ClientConfig, Config, EndpointConfig, ListenerConfig, MockConfig, RetryCondition } from './schema.js';

// Cases poke at arbitrary paths of raw, not yet validated data: exactly what `any` is for.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Raw = Record<string, any>;

/** A small valid config; each case below breaks one thing in a fresh copy. */
function base(): Raw {
  return {
    listeners: [{ name: 'default', address: '0.0.0.0:2775' }],
    clients: [{ system_id: 'acme', password: 'secret' }],
    clusters: [
      { name: 'vodacom', endpoints: [{ address: 'smsc.vodacom.mz:2775', system_id: 'myid', password: 'pw' }] },
      { name: 'mcel', endpoints: [{ address: 'smsc.mcel.mz:2775', system_id: 'myid', password: 'pw' }] },
    ],
    routes: [{ name: 'vodacom-route', match: { destination: { prefix: '+25884' } }, cluster: 'vodacom', fallback: ['mcel'] }],
  };
}

const noFiles = async (path: string): Promise<string> => {
  throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
};

async function problemsOf(raw: unknown, env: Record<string, string> = {}): Promise<string[]> {
  const result: LoadResult = await parseConfig(raw, { env, readFile: noFiles });
  return result.ok ? [] : result.problems;
}

test('the base config is valid', async () => {
  expect(await problemsOf(base())).toEqual([]);
});

describe('broken configs', () => {
  const cases: Array<[string, (c: Raw) => void, string[]]> = [
    [
      'unknown key (a typo must not silently disable a limit)',
      (c) => (c.listeners[0].limits = { idle_timout: '60s' }),
      ['listeners[0].limits.idle_timout: unknown key'],
    ],
    ['unknown top-level key', (c) => (c.setings = {}), ['setings: unknown key']],
    [
      'bad duration',
      (c) => (c.clusters[0].retry = { initial_backoff: '5 sec' }),
      ['clusters[0].retry.initial_backoff: must be a duration like 500ms, 30s, 5m or 72h'],
    ],
    [
      'duration of the wrong type',
      (c) => (c.listeners[0].limits = { request_timeout: true }),
      ['listeners[0].limits.request_timeout: must be a duration like 500ms, 30s, 5m or 72h'],
    ],
    ['zero request_timeout', (c) => (c.listeners[0].limits = { request_timeout: '0s' }), ['listeners[0].limits.request_timeout: must be longer than 0']],
    ['unknown cluster in a route', (c) => (c.routes[0].cluster = 'foo'), ['routes[0].cluster: unknown cluster "foo"']],
    [
      'fallback to the route\'s own cluster',
      (c) => (c.routes[0].fallback = ['vodacom']),
      ['routes[0].fallback[0]: "vodacom" is already the route\'s cluster'],
    ],
    ['fallback listed twice', (c) => (c.routes[0].fallback = ['mcel', 'mcel']), ['routes[0].fallback[1]: duplicate cluster "mcel"']],
    ['fallback not a list', (c) => (c.routes[0].fallback = 'mcel'), ['routes[0].fallback: must be a list']],
    [
      'duplicate listener name',
      (c) => c.listeners.push({ name: 'default', address: '0.0.0.0:2776' }),
      ['listeners[1].name: duplicate listener name "default"'],
    ],
    [
      'two listeners on one address',
      (c) => c.listeners.push({ name: 'other', address: '0.0.0.0:2775' }),
      ['listeners[1].address: "0.0.0.0:2775" is already used by listener "default"'],
    ],
    [
      'duplicate cluster name',
      (c) => (c.clusters[1].name = 'vodacom'),
      ['clusters[1].name: duplicate cluster name "vodacom"'],
    ],
    [
      'duplicate client system_id',
      (c) => c.clients.push({ system_id: 'acme', password: 'x' }),
      ['clients[1].system_id: duplicate system_id "acme"'],
    ],
    [
      'duplicate route name',
      (c) => c.routes.push({ name: 'vodacom-route', cluster: 'mcel' }),
      ['routes[1].name: duplicate route name "vodacom-route"'],
    ],
    [
      'one MO address claimed by two clients',
      (c) => {
        c.clients[0].mo_addresses = ['+258840001'];
        c.clients.push({ system_id: 'other', password: 'x', mo_addresses: ['+258840001'] });
      },
      ['clients[1].mo_addresses[0]: "+258840001" already belongs to client "acme"'],
    ],
    [
      'bad regex',
      (c) => (c.routes[0].match.destination = { regex: '^(+258' }),
      ['routes[0].match.destination.regex: invalid regular expression: Nothing to repeat'],
    ],
    [
      'two criteria in one address match',
      (c) => (c.routes[0].match.source = { prefix: '1', exact: '12' }),
      ['routes[0].match.source: needs exactly one of prefix, regex, exact'],
    ],
    ['unknown client in a route', (c) => (c.routes[0].match.client = 'nobody'), ['routes[0].match.client: unknown client "nobody"']],
    [
      'bad CIDR (IPv4 and IPv6)',
      (c) => (c.listeners[0].filters = [{ type: 'firewall', config: { allow: ['10.0.0.0/8', '2001:db8::/32', '10.0.0.0/33'], deny: ['fe80::/129'] } }]),
      [
        'listeners[0].filters[0].config.allow[2]: must be an IP address or CIDR, e.g. 10.0.0.0/8 or 2001:db8::/32',
        'listeners[0].filters[0].config.deny[0]: must be an IP address or CIDR, e.g. 10.0.0.0/8 or 2001:db8::/32',
      ],
    ],
    [
      'bad client allowed_ips',
      (c) => (c.clients[0].allowed_ips = ['10.0.0.1/8x']),
      ['clients[0].allowed_ips[0]: must be an IP address or CIDR, e.g. 10.0.0.0/8 or 2001:db8::/32'],
    ],
    [
      'unknown filter type',
      (c) => (c.listeners[0].filters = [{ type: 'auth', config: {} }]),
      ['listeners[0].filters[0].type: must be one of firewall, rate_limit'],
    ],
    ['bad listener address', (c) => (c.listeners[0].address = '2775'), ['listeners[0].address: must be host:port, e.g. 0.0.0.0:2775']],
    [
      'upstream port 0',
      (c) => (c.clusters[0].endpoints[0].address = 'smsc.vodacom.mz:0'),
      ['clusters[0].endpoints[0].address: must be host:port with a port from 1 to 65535, e.g. smsc.example.com:2775'],
    ],
    ['bad admin address', (c) => (c.admin = { address: '0.0.0.0:99999' }), ['admin.address: must be host:port, e.g. 0.0.0.0:2775']],
    [
      'secret both inline and as a file',
      (c) => (c.clients[0].password_file = '/run/secrets/acme'),
      ['clients[0].password_file: cannot be combined with password'],
    ],
    [
      'endpoint secret both inline and as a file',
      (c) => (c.clusters[0].endpoints[0].password_file = '/run/secrets/vodacom'),
      ['clusters[0].endpoints[0].password_file: cannot be combined with password'],
    ],
    [
      'client without password',
      (c) => delete c.clients[0].password,
      ['clients[0]: needs password or password_file (or password_hash or password_hash_file)'],
    ],
    [
      'status_map with a key that is not a command_status',
      (c) => (c.clusters[0].status_map = { SLOW: 'ESME_RTHROTTLED' }),
      ['clusters[0].status_map.SLOW: the key must be a command_status: a number such as 0x45 or a name'],
    ],
    [
      'status_map with a value that is not a command_status',
      (c) => (c.clusters[0].status_map = { '0x45': 'NOPE' }),
      ['clusters[0].status_map.0x45: must be a command_status: a number such as 0x58 or a name such as ESME_RTHROTTLED'],
    ],
    [
      'receipt_stats mapping to a stat that is not one',
      (c) => (c.clusters[0].receipt_stats = { FAILED: 'BROKEN' }),
      ['clusters[0].receipt_stats.FAILED: must be one of DELIVRD, EXPIRED, DELETED, UNDELIV, ACCEPTD, UNKNOWN, REJECTD, ENROUTE'],
    ],
    [
      'client with a password and a password_hash',
      (c) => (c.clients[0].password_hash = `$scrypt$ln=10,r=8,p=1$${'A'.repeat(12)}$${'B'.repeat(24)}`),
      ['clients[0].password_hash: cannot be combined with password'],
    ],
    [
      'client with a password_hash that is not one',
      (c) => {
        delete c.clients[0].password;
        c.clients[0].password_hash = 'secret';
      },
      ['clients[0].password_hash: must be $scrypt$ln=<n>,r=<n>,p=<n>$<salt base64>$<hash base64> (make one with smppd --hash-password)'],
    ],
    ['admin token and token_file', (c) => (c.admin = { token: 't', token_file: '/t' }), ['admin.token_file: cannot be combined with token']],
    [
      'redis url and url_file',
      (c) => (c.store = { redis: { url: 'redis://h:6379', url_file: '/u' } }),
      ['store.redis.url_file: cannot be combined with url'],
    ],
    ['redis url of another scheme', (c) => (c.store = { redis: { url: 'http://h:6379' } }), ['store.redis.url: must be a redis:// or rediss:// URL']],
    [
      'redis cluster with a key prefix that would spread keys over slots',
      (c) => (c.store = { backend: 'redis', redis: { cluster: { nodes: ['n1:6379'] } } }),
      ['store.redis.key_prefix: with cluster, must contain a hash tag such as "{smppd}:" (the store keeps all its keys in one slot)'],
    ],
    [
      'redis sentinel and cluster both',
      (c) =>
        (c.store = {
          redis: { key_prefix: '{smppd}:', sentinel: { name: 'm', addresses: ['s1:26379'] }, cluster: { nodes: ['n1:6379'] } },
        }),
      ['store.redis.cluster: cannot be combined with sentinel'],
    ],
    [
      'redis sentinel without addresses',
      (c) => (c.store = { redis: { sentinel: { name: 'm', addresses: [] } } }),
      ['store.redis.sentinel.addresses: must list at least one sentinel'],
    ],
    [
      'redis CA file that cannot be read',
      (c) => (c.store = { redis: { url: 'rediss://redis:6380', tls: { ca: '/ca.pem' } } }),
      ['store.redis.tls.ca: cannot read "/ca.pem": ENOENT'],
    ],
    [
      'redis timeouts and tls',
      (c) => (c.store = { redis: { connect_timeout: 0, command_timeout: 'soon', tls: 'yes' } }),
      [
        'store.redis.tls: must be true, false or { ca, servername }',
        'store.redis.connect_timeout: must be longer than 0',
        'store.redis.command_timeout: must be a duration like 500ms, 30s, 5m or 72h',
      ],
    ],
    [
      'negative window',
      (c) => (c.clusters[1].endpoints[0].window = -5),
      ['clusters[1].endpoints[0].window: must be a positive integer'],
    ],
    ['fractional listener window', (c) => (c.listeners[0].limits = { window: 1.5 }), ['listeners[0].limits.window: must be a positive integer']],
    ['window as text', (c) => (c.listeners[0].limits = { window: '100' }), ['listeners[0].limits.window: must be a positive integer']],
    [
      'mock and endpoints both',
      (c) => (c.clusters[0].mock = { response: 'success' }),
      ['clusters[0].mock: cannot be combined with endpoints'],
    ],
    ['neither mock nor endpoints', (c) => (c.clusters[1] = { name: 'mcel' }), ['clusters[1]: needs endpoints or mock']],
    ['empty endpoints and no mock', (c) => (c.clusters[1].endpoints = []), ['clusters[1]: needs endpoints or mock']],
    [
      'bad mock response',
      (c) => (c.clusters[1] = { name: 'mcel', mock: { response: 'ok', dlr: 'delivrd' } }),
      [
        'clusters[1].mock.response: must be success or a command_status such as ESME_RTHROTTLED or 0x58',
        'clusters[1].mock.dlr: must be one of delivered, expired, deleted, undeliverable, accepted, unknown, rejected, none',
      ],
    ],
    [
      'bad enum',
      (c) => (c.clusters[0].load_balancer = 'least_conn'),
      ['clusters[0].load_balancer: must be one of round_robin, weighted, least_connections, random, p2c'],
    ],
    [
      'bad retry condition',
      (c) => (c.clusters[0].retry = { on: [0x58, 'throttled'] }),
      ['clusters[0].retry.on[1]: must be a command_status (0x58, ESME_RTHROTTLED), timeout or disconnect'],
    ],
    [
      'max_backoff below initial_backoff',
      (c) => (c.clusters[0].retry = { initial_backoff: '10s' }),
      ['clusters[0].retry.max_backoff: must not be shorter than initial_backoff'],
    ],
    ['missing required key', (c) => delete c.clusters[0].endpoints[0].system_id, ['clusters[0].endpoints[0].system_id: is required']],
    [
      'system_id too long for SMPP',
      (c) => (c.clients[0].system_id = 'a-very-long-system-id'),
      ['clients[0].system_id: must be 1 to 15 characters (SMPP 3.4 §5.2.1)'],
    ],
    [
      'unknown key inside endpoint tls',
      (c) => (c.clusters[0].endpoints[0].tls = { cafile: '/ca.pem' }),
      ['clusters[0].endpoints[0].tls.cafile: unknown key'],
    ],
    ['a section of the wrong type', (c) => (c.listeners = { name: 'x' }), ['listeners: must be a list']],
  ];

  test.each(cases)('%s', async (_name, breakIt, expected) => {
    const config = base();
    breakIt(config);
    expect(await problemsOf(config)).toEqual(expected);
  });

  test('a document that is not a mapping', async () => {
    expect(await problemsOf(['listeners'])).toEqual(['(root): must be an object']);
  });

  test('every problem is listed at once, references included', async () => {
    const config = base();
    config.listeners[0].limits = { window: 0, idle_timout: '1s' };
    config.clusters[0].load_balancer = 'nope';
    config.routes[0].cluster = 'ghost';
    config.routes.push({ name: 'r2', cluster: 'vodacom', match: { client: 'nobody' } });
    expect(await problemsOf(config)).toEqual([
      'listeners[0].limits.window: must be a positive integer',
      'listeners[0].limits.idle_timout: unknown key',
      'clusters[0].load_balancer: must be one of round_robin, weighted, least_connections, random, p2c',
      'routes[0].cluster: unknown cluster "ghost"',
      'routes[1].match.client: unknown client "nobody"',
    ]);
  });

  test('a missing environment variable is reported at its path, without a follow-on error', async () => {
    const config = base();
    config.clients[0].password = '${ACME_PASSWORD}';
    config.listeners[0].address = '0.0.0.0:${SMPP_PORT}';
    expect(await problemsOf(config)).toEqual([
      'listeners[0].address: environment variable "SMPP_PORT" is not set',
      'clients[0].password: environment variable "ACME_PASSWORD" is not set',
    ]);
  });
});

describe('defaults', () => {
  test('everything not given has a default', async () => {
    const result = await parseConfig(base(), { env: {}, readFile: noFiles });
    if (!result.ok) throw new Error(result.problems.join('\n'));
    const { config } = result;
    expect(config.listeners[0]).toEqual({
      name: 'default',
      address: '0.0.0.0:2775',
      protocol: 'smpp34',
      limits: { max_connections: 1000, idle_timeout: 60_000, request_timeout: 30_000, window: 100 },
      filters: [],
    });
    expect(config.clients[0]).toMatchObject({
      allowed_ips: ['0.0.0.0/0', '::/0'],
      bind_types: ['transmitter', 'receiver', 'transceiver'],
      max_binds: 0,
      throughput: 0,
      mo_addresses: [],
    });
    const { endpoints, ...cluster } = config.clusters[0]!;
    expect(endpoints[0]).toEqual({
      address: 'smsc.vodacom.mz:2775',
      system_id: 'myid',
      password: 'pw',
      system_type: '',
      weight: 1,
      binds: 1,
      window: 10,
      tls: false,
    });
    expect(cluster).toEqual({
      name: 'vodacom',
      bind_type: 'transceiver',
      load_balancer: 'round_robin',
      circuit_breaker: { threshold: 5, timeout: 30_000 },
      health_check: { interval: 30_000, timeout: 5_000 },
      retry: { max_attempts: 3, initial_backoff: 200, max_backoff: 5_000, on: [0x58, 0x14, 0x08, 'timeout', 'disconnect'] },
      message_id: 'auto',
      submit_multi: 'auto',
      status_map: {},
      receipt_stats: {},
      throughput: 0,
      throttle_pause: 1_000,
      max_binds: 0,
    });
    expect(config.routes[0]).toEqual({
      name: 'vodacom-route',
      match: { destination: { prefix: '+25884' } },
      cluster: 'vodacom',
      fallback: ['mcel'],
      priority: 100,
    });
    expect(config.store).toEqual({
      backend: 'memory',
      ttl: 72 * 3_600_000,
      max_entries: 1_000_000,
      redis: {
        url: 'redis://127.0.0.1:6379',
        key_prefix: 'smppd:',
        tls: false,
        connect_timeout: 5_000,
        command_timeout: 2_000,
      },
    });
    expect(config.admin).toEqual({ address: '0.0.0.0:9090' });
    expect(config.log).toEqual({ level: 'info' });
    expect(config.shutdown).toEqual({ drain_timeout: 30_000 });
  });

  test('redis through Sentinel with TLS, or through Cluster', async () => {
    const sentinel = await parseConfig(
      {
        store: {
          backend: 'redis',
          redis: {
            url: 'rediss://:pw@ignored:6379/1',
            tls: true,
            sentinel: { name: 'mymaster', addresses: ['s1:26379', '[::1]:26380'], password: 'spw' },
            connect_timeout: '1s',
            command_timeout: '500ms',
          },
        },
      },
      { env: {}, readFile: noFiles },
    );
    if (!sentinel.ok) throw new Error(sentinel.problems.join('\n'));
    expect(sentinel.config.store.redis).toMatchObject({
      tls: {},
      sentinel: { name: 'mymaster', addresses: ['s1:26379', '[::1]:26380'], password: 'spw' },
      connect_timeout: 1_000,
      command_timeout: 500,
    });
    const cluster = await parseConfig(
      { store: { backend: 'redis', redis: { key_prefix: '{smppd}:', cluster: { nodes: ['n1:6379', 'n2:6379'] } } } },
      { env: {}, readFile: noFiles },
    );
    if (!cluster.ok) throw new Error(cluster.problems.join('\n'));
    expect(cluster.config.store.redis.cluster).toEqual({ nodes: ['n1:6379', 'n2:6379'] });
  });

  test('an empty document is a valid (idle) config', async () => {
    const result = await parseConfig({}, { env: {}, readFile: noFiles });
    expect(result.ok && result.config.listeners).toEqual([]);
  });

  test('mock defaults, rate limit burst, endpoint tls: true', async () => {
    const config = base();
    config.clusters[1] = { name: 'mcel', mock: {} };
    config.clusters[0].endpoints[0].tls = true;
    config.listeners[0].filters = [{ type: 'rate_limit', config: { requests_per_second: 2.5 } }, { type: 'firewall' }];
    const result = await parseConfig(config, { env: {}, readFile: noFiles });
    if (!result.ok) throw new Error(result.problems.join('\n'));
    expect(result.config.clusters[1]!.mock).toEqual({
      response: 0,
      latency: 0,
      dlr: 'delivered',
      dlr_delay: 1_000,
      error_rate: 0,
      error_status: 0x08,
      throttle_rate: 0,
    });
    expect(result.config.clusters[0]!.endpoints[0]!.tls).toEqual({});
    expect(result.config.listeners[0]!.filters).toEqual([
      { type: 'rate_limit', config: { requests_per_second: 2.5, burst: 3 } },
      { type: 'firewall', config: { allow: [], deny: [] } },
    ]);
  });

  test('retry conditions by number, hex text, name or word; durations as milliseconds', async () => {
    const config = base();
    config.clusters[0].retry = { on: ['ESME_RTHROTTLED', '0x14', 8, 'esme_rmsgqful', 'timeout'], max_backoff: 60_000 };
    config.clusters[1] = { name: 'mcel', mock: { response: 'ESME_RTHROTTLED', latency: 25 } };
    const result = await parseConfig(config, { env: {}, readFile: noFiles });
    if (!result.ok) throw new Error(result.problems.join('\n'));
    expect(result.config.clusters[0]!.retry).toEqual({
      max_attempts: 3,
      initial_backoff: 200,
      max_backoff: 60_000,
      on: [0x58, 0x14, 0x08, 'timeout'],
    });
    expect(result.config.clusters[1]!.mock).toMatchObject({ response: 0x58, latency: 25 });
  });
});

test('parsed types are resolved plain data', () => {
  // Checked by tsc: what consumers get is milliseconds, resolved secrets, normalised unions.
  expectTypeOf<EndpointConfig['password']>().toEqualTypeOf<string>();
  expectTypeOf<ClientConfig['password']>().toEqualTypeOf<string>();
  expectTypeOf<ListenerConfig['limits']['idle_timeout']>().toEqualTypeOf<number>();
  expectTypeOf<RetryCondition>().toEqualTypeOf<number | 'timeout' | 'disconnect'>();
  expectTypeOf<EndpointConfig['tls']>().toEqualTypeOf<false | { ca?: string | undefined; servername?: string | undefined }>();
  expectTypeOf<MockConfig['response']>().toEqualTypeOf<number>();
  expectTypeOf<Config['admin']['token']>().toEqualTypeOf<string | undefined>();
});
