// Loading files: the shipped examples, the three formats, `${ENV}`, `_file` secrets, syntax errors.

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { ReadFile } from './files.js';
import { loadConfig, parseConfig, UNREAD_FILE, type LoadResult } from './load.js';
import type { Config } from './schema.js';

const examples = fileURLToPath(new URL('../../examples/', import.meta.url));

function ok(result: LoadResult): { config: Config; warnings: string[] } {
  if (!result.ok) throw new Error(`expected a valid config, got:\n${result.problems.join('\n')}`);
  return result;
}

/** Serves files from memory; anything else is ENOENT, like a missing mount. */
function memoryFiles(files: Record<string, string>): ReadFile {
  return async (path) => {
    const text = files[path];
    if (text === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
    return text;
  };
}

describe('examples', () => {
  test('smppd.yaml, .json and .toml give the same config', async () => {
    const [yaml, json, toml] = await Promise.all(
      ['smppd.yaml', 'smppd.json', 'smppd.toml'].map(async (name) => ok(await loadConfig(join(examples, name), { env: {} }))),
    );
    expect(json).toEqual(yaml);
    expect(toml).toEqual(yaml);
    expect(yaml!.warnings).toEqual([]);
    const { config } = yaml!;
    expect(config.listeners.map((l) => [l.address, l.limits.window])).toEqual([['0.0.0.0:2775', 100]]);
    expect(config.admin.address).toBe('127.0.0.1:9090');
    expect(config.clients.map((c) => [c.system_id, c.password, c.bind_types])).toEqual([
      ['acme', 'secret', ['transmitter', 'receiver', 'transceiver']],
    ]);
    expect(config.clusters[0]).toMatchObject({
      name: 'test',
      endpoints: [],
      mock: { response: 0, latency: 10, dlr: 'delivered', dlr_delay: 1_000 },
    });
    expect(config.routes).toEqual([{ name: 'default', match: {}, cluster: 'test', fallback: [], priority: 100 }]);
    expect(config.store.backend).toBe('memory');
  });

  test("the seed's short example loads unchanged", async () => {
    const { config, warnings } = ok(await loadConfig(join(examples, 'seed.yaml'), { env: {} }));
    expect(config.clusters[0]!.endpoints[0]).toMatchObject({ address: 'smsc.vodacom.mz:2775', system_id: 'myid', password: 'secret' });
    expect(config.routes[0]!.priority).toBe(1);
    expect(warnings).toEqual([
      'clients: empty, so every bind will be refused',
      'admin.token: not set, so /config, /sessions and POST endpoints on 0.0.0.0:9090 answer loopback clients only',
    ]);
  });

  describe('the SPEC §3 example (full.yaml) loads unchanged', () => {
    // full.yaml names /path/tls.crt, /path/tls.key, /path/ca.crt and /path/token. The loader reads
    // them (token) or checks them readable (TLS), so the test writes real files into a temp dir and
    // passes a readFile that maps /path/* there. The config text itself is still read from disk as is.
    let dir = '';
    let readMapped: ReadFile = async () => '';
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'smppd-config-'));
      await Promise.all([
        writeFile(join(dir, 'tls.crt'), '-----BEGIN CERTIFICATE-----\n'),
        writeFile(join(dir, 'tls.key'), '-----BEGIN PRIVATE KEY-----\n'),
        writeFile(join(dir, 'ca.crt'), '-----BEGIN CERTIFICATE-----\n'),
        writeFile(join(dir, 'token'), 'admin-token-from-secret\n'),
      ]);
      readMapped = (path) => readFile(path.startsWith('/path/') ? join(dir, path.slice('/path/'.length)) : path, 'utf8');
    });
    afterAll(() => rm(dir, { recursive: true, force: true }));

    test('every section as written', async () => {
      const { config, warnings } = ok(await loadConfig(join(examples, 'full.yaml'), { env: {}, readFile: readMapped }));
      expect(config.listeners[0]).toEqual({
        name: 'default',
        address: '0.0.0.0:2775',
        protocol: 'smpp34',
        tls: { cert: '/path/tls.crt', key: '/path/tls.key', client_ca: '/path/ca.crt' },
        limits: { max_connections: 1000, idle_timeout: 60_000, request_timeout: 30_000, window: 100 },
        filters: [
          { type: 'firewall', config: { allow: ['10.0.0.0/8'], deny: [] } },
          { type: 'rate_limit', config: { requests_per_second: 100, burst: 100 } },
        ],
      });
      expect(config.clients[0]).toEqual({
        system_id: 'acme',
        enabled: true,
        password: 'secret',
        allowed_ips: ['0.0.0.0/0'],
        bind_types: ['transmitter', 'receiver', 'transceiver'],
        max_binds: 10,
        throughput: 500,
        allowed_sources: [],
        mo_addresses: ['+258840001'],
      });
      expect(config.clusters[0]!.retry).toEqual({
        max_attempts: 3,
        initial_backoff: 200,
        max_backoff: 5_000,
        on: [0x58, 0x14, 0x08, 'timeout', 'disconnect'],
      });
      expect(config.clusters[1]).toMatchObject({ name: 'test', mock: { response: 0, latency: 50, dlr: 'delivered', dlr_delay: 1_000 } });
      expect(config.routes[0]).toEqual({
        name: 'vodacom-route',
        match: { destination: { prefix: '+25884' }, client: 'acme' },
        cluster: 'vodacom',
        fallback: ['mcel'],
        priority: 1,
      });
      expect(config.store).toEqual({
        backend: 'memory',
        ttl: 259_200_000,
        max_entries: 1_000_000,
        redis: {
          url: 'redis://127.0.0.1:6379',
          key_prefix: 'smppd:',
          tls: false,
          connect_timeout: 5_000,
          command_timeout: 2_000,
        },
      });
      expect(config.admin).toEqual({ address: '0.0.0.0:9090', token_file: '/path/token', token: 'admin-token-from-secret' });
      // SPEC's example falls back to a cluster it does not define: loaded, with a warning.
      expect(warnings).toEqual(['routes[0].fallback[0]: unknown cluster "mcel" is skipped']);
    });

    test('without the files it names, each one is a problem', async () => {
      const result = await loadConfig(join(examples, 'full.yaml'), {
        env: {},
        readFile: (path) => (path.startsWith('/path/') ? memoryFiles({})(path) : readFile(path, 'utf8')),
      });
      expect(result).toEqual({
        ok: false,
        problems: [
          'admin.token_file: cannot read "/path/token": ENOENT',
          'listeners[0].tls.cert: cannot read "/path/tls.crt": ENOENT',
          'listeners[0].tls.key: cannot read "/path/tls.key": ENOENT',
          'listeners[0].tls.client_ca: cannot read "/path/ca.crt": ENOENT',
        ],
      });
    });
  });
});

describe('files and formats', () => {
  test('syntax errors name the file, line and column', async () => {
    const files = memoryFiles({
      '/etc/smppd/a.yaml': 'listeners: []\nlisteners: []\n',
      '/etc/smppd/b.json': '{\n  "listeners": [],\n}\n',
      '/etc/smppd/c.toml': 'listeners = [\nadmin = 1\n',
    });
    const load = (path: string) => loadConfig(path, { env: {}, readFile: files });
    expect(await load('/etc/smppd/a.yaml')).toEqual({ ok: false, problems: ['/etc/smppd/a.yaml:2:1: Map keys must be unique'] });
    expect(await load('/etc/smppd/b.json')).toEqual({
      ok: false,
      problems: ['/etc/smppd/b.json: Expected double-quoted property name in JSON at position 21 (line 3 column 1)'],
    });
    expect(await load('/etc/smppd/c.toml')).toEqual({ ok: false, problems: ['/etc/smppd/c.toml:2:1: invalid value'] });
  });

  test('unknown extension, missing file, empty file', async () => {
    const files = memoryFiles({ '/etc/smppd/empty.yaml': '# nothing yet\n' });
    const load = (path: string) => loadConfig(path, { env: {}, readFile: files });
    expect(await load('/etc/smppd/smppd.ini')).toEqual({
      ok: false,
      problems: ['/etc/smppd/smppd.ini: unknown config format (use .yaml, .yml, .json or .toml)'],
    });
    expect(await load('/etc/smppd/missing.yml')).toEqual({ ok: false, problems: ['/etc/smppd/missing.yml: cannot read: ENOENT'] });
    expect(await load('/etc/smppd/empty.yaml')).toEqual({ ok: false, problems: ['/etc/smppd/empty.yaml: file is empty'] });
  });

  test('validation problems of a file carry config paths', async () => {
    const files = memoryFiles({ '/c.yml': 'listeners:\n  - name: a\n    address: "0.0.0.0:2775"\n    limits: { idle_timout: 60s }\n' });
    expect(await loadConfig('/c.yml', { env: {}, readFile: files })).toEqual({
      ok: false,
      problems: ['listeners[0].limits.idle_timout: unknown key'],
    });
  });
});

const withClient = (client: Record<string, unknown>) => ({ clients: [{ system_id: 'acme', ...client }] as Array<Record<string, unknown>> });

describe('${ENV} interpolation', () => {
  test('replaces variables from the env given, not from process.env', async () => {
    process.env.SMPPD_TEST_ONLY_IN_PROCESS = 'leaked';
    try {
      const raw = {
        listeners: [{ name: 'l', address: '${HOST}:${PORT}' }],
        clients: [{ system_id: '${CLIENT}', password: 'pre-${PW}-post' }],
        admin: { token: '${SMPPD_TEST_ONLY_IN_PROCESS:-from-default}' },
      };
      const { config } = ok(await parseConfig(raw, { env: { HOST: '127.0.0.1', PORT: '2775', CLIENT: 'acme', PW: 'p' } }));
      expect(config.listeners[0]!.address).toBe('127.0.0.1:2775');
      expect(config.clients[0]).toMatchObject({ system_id: 'acme', password: 'pre-p-post' });
      expect(config.admin.token).toBe('from-default');
    } finally {
      delete process.env.SMPPD_TEST_ONLY_IN_PROCESS;
    }
  });

  test('defaults, escapes, and the raw input left untouched', async () => {
    const raw = withClient({ password: '$${LITERAL}-${EMPTY:-fallback}-${EMPTY}-${SET:-unused}' });
    const { config } = ok(await parseConfig(raw, { env: { EMPTY: '', SET: 'set' } }));
    expect(config.clients[0]!.password).toBe('${LITERAL}-fallback--set');
    expect(raw.clients[0]!.password).toBe('$${LITERAL}-${EMPTY:-fallback}-${EMPTY}-${SET:-unused}');
  });

  test('an unset variable or a malformed reference is an error naming the path', async () => {
    const result = await parseConfig(withClient({ password: '${MISSING}', mo_addresses: ['${not valid}'] }), { env: {} });
    expect(result).toEqual({
      ok: false,
      problems: [
        'clients[0].password: environment variable "MISSING" is not set',
        'clients[0].mo_addresses[0]: invalid environment reference "${not valid}"',
      ],
    });
  });

  test('file paths are interpolated too', async () => {
    const readFile = memoryFiles({ '/run/secrets/acme/password': 'from-file\n' });
    const raw = withClient({ password_file: '${SECRETS}/acme/password' });
    const { config } = ok(await parseConfig(raw, { env: { SECRETS: '/run/secrets' }, readFile }));
    expect(config.clients[0]!.password).toBe('from-file');
  });
});

describe('_file secrets', () => {
  test('every secret can come from a file; one trailing newline is trimmed', async () => {
    const readFile = memoryFiles({
      '/s/client': 'client-pw\n',
      '/s/endpoint': 'endpoint-pw\r\n',
      '/s/token': 'token\n\n',
      '/s/redis-url': 'redis://:redis-pw@redis:6379/0',
      '/s/redis-password': 'redis-pw',
    });
    const raw = {
      clients: [{ system_id: 'acme', password_file: '/s/client' }],
      clusters: [{ name: 'c', endpoints: [{ address: 'smsc:2775', system_id: 'id', password_file: '/s/endpoint' }] }],
      store: { backend: 'redis', redis: { url_file: '/s/redis-url', password_file: '/s/redis-password' } },
      admin: { token_file: '/s/token' },
    };
    const { config } = ok(await parseConfig(raw, { env: {}, readFile }));
    expect(config.clients[0]).toMatchObject({ password: 'client-pw', password_file: '/s/client' });
    expect(config.clusters[0]!.endpoints[0]!.password).toBe('endpoint-pw');
    expect(config.admin.token).toBe('token\n');
    expect(config.store.redis).toMatchObject({ url: 'redis://:redis-pw@redis:6379/0', password: 'redis-pw' });
  });

  test('a password_hash_file must hold a password hash; --validate skips one it could not read', async () => {
    const readFile = memoryFiles({ '/s/hash': 'secret\n', '/s/unread': UNREAD_FILE });
    const problems = await parseConfig({ clients: [{ system_id: 'acme', password_hash_file: '/s/hash' }] }, { env: {}, readFile });
    expect(problems).toEqual({
      ok: false,
      problems: [
        'clients[0].password_hash_file: the file\'s content must be $scrypt$ln=<n>,r=<n>,p=<n>$<salt base64>$<hash base64> (make one with smppd --hash-password)',
      ],
    });
    ok(await parseConfig({ clients: [{ system_id: 'acme', password_hash_file: '/s/unread' }] }, { env: {}, readFile }));
  });

  test('unreadable and empty secret files are problems', async () => {
    const readFile = memoryFiles({ '/s/empty': '\n' });
    const raw = {
      clients: [
        { system_id: 'a', password_file: '/s/missing' },
        { system_id: 'b', password_file: '/s/empty' },
      ],
    };
    expect(await parseConfig(raw, { env: {}, readFile })).toEqual({
      ok: false,
      problems: ['clients[0].password_file: cannot read "/s/missing": ENOENT', 'clients[1].password_file: file "/s/empty" is empty'],
    });
  });

  test('endpoint TLS CA files are checked', async () => {
    const raw = { clusters: [{ name: 'c', endpoints: [{ address: 'smsc:2775', system_id: 'id', tls: { ca: '/s/ca.pem' } }] }] };
    expect(await parseConfig(raw, { env: {}, readFile: memoryFiles({}) })).toEqual({
      ok: false,
      problems: ['clusters[0].endpoints[0].tls.ca: cannot read "/s/ca.pem": ENOENT'],
    });
  });
});
