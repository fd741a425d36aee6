// Every admin endpoint (SPEC §5) through inject(), against a real proxy (buildProxy) with its SMPP
// listener on 127.0.0.1 port 0, the embedded mock cluster upstream, and node-smpp as the client: the
// figures on /healthz, /stats and /metrics are the proxy's own, moved by real traffic.

import { once } from 'node:events';
import { connect, createServer } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProxy, type Proxy } from '../app.js';
import { parseConfig, type LoadOptions } from '../config/load.js';
import { SmppClient } from '../listener/testing.js';
import { Status } from '../smpp/index.js';
import { createLogger } from '../telemetry/logger.js';
import { buildAdmin } from './admin.js';
import { adminDepsFromProxy } from './from-proxy.js';
import { familyOf, parsePrometheusText, sampleValue, type Exposition } from './testing.js';
import type { AdminDeps } from './types.js';

const SECRETS = {
  // SMPP 3.4 §5.2.4: a bind password is at most 8 characters.
  client: 'cLi3nt7q',
  endpoint: 'Up5trm9k',
  admin: 'adm1n-t0ken-Vb9',
  redisUrl: 'r3dis-url-pw-Hn4',
  redis: 'r3dis-pw-Lm8',
};

const SPEC_METRICS = [
  'smppd_messages_submitted_total',
  'smppd_messages_delivered_total',
  'smppd_messages_failed_total',
  'smppd_dlr_received_total',
  'smppd_connection_active',
  'smppd_endpoint_requests_total',
  'smppd_endpoint_latency_seconds',
];

const logger = createLogger({ level: 'silent' });

interface Running {
  proxy: Proxy;
  deps: AdminDeps;
  admin: FastifyInstance;
  /** The first listener's port. */
  port: number;
  stop(): Promise<void>;
}

/** A proxy from a config as a user writes it, started, with an admin API over it. */
async function startProxy(raw: object, opts: { reloadSource?: () => object; readFile?: LoadOptions['readFile'] } = {}): Promise<Running> {
  const loadOpts: LoadOptions = { env: {}, ...(opts.readFile === undefined ? {} : { readFile: opts.readFile }) };
  const loaded = await parseConfig(raw, loadOpts);
  if (!loaded.ok) throw new Error(`config problems:\n${loaded.problems.join('\n')}`);
  const source = opts.reloadSource;
  const proxy = buildProxy(loaded.config, {
    logger,
    ...(source === undefined ? {} : { reloadConfig: () => parseConfig(source(), loadOpts) }),
  });
  await proxy.start();
  const deps = adminDepsFromProxy(proxy, logger);
  const admin = buildAdmin(deps);
  let stopped: Promise<void> | undefined;
  return {
    proxy,
    deps,
    admin,
    port: proxy.addresses().values().next().value!.port,
    stop: () =>
      (stopped ??= (async () => {
        await proxy.stop();
        await admin.close();
      })()),
  };
}

/** A TCP port nothing listens on (an upstream that is down). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function mockProxyConfig(extra: object = {}): object {
  return {
    listeners: [{ name: 'main', address: '127.0.0.1:0' }],
    clients: [{ system_id: 'acme', password: SECRETS.client }],
    clusters: [{ name: 'test', mock: { latency: '0ms', dlr: 'delivered', dlr_delay: '5ms' } }],
    routes: [{ name: 'mz', match: { destination: { prefix: '25884' } }, cluster: 'test' }],
    shutdown: { drain_timeout: '1s' },
    ...extra,
  };
}

async function metricsOf(admin: FastifyInstance): Promise<Exposition> {
  const res = await admin.inject({ method: 'GET', url: '/metrics' });
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(res.body);
}

const auth = { authorization: `Bearer ${SECRETS.admin}` };

// ---- one proxy that carried traffic ----------------------------------------------------------

describe('admin API over a proxy that carried traffic', () => {
  let run: Running;
  let client: SmppClient;
  let before: Exposition;
  let downPort: number;
  let reloadSource: object;

  beforeAll(async () => {
    downPort = await closedPort();
    const raw = mockProxyConfig({
      clusters: [
        { name: 'test', mock: { latency: '0ms', dlr: 'delivered', dlr_delay: '5ms' } },
        // A second cluster that never binds: /healthz shows it, but the mock keeps the proxy healthy.
        { name: 'down', endpoints: [{ address: `127.0.0.1:${downPort}`, system_id: 'up', password: SECRETS.endpoint }] },
      ],
      store: {
        backend: 'memory',
        redis: { url: `redis://user:${SECRETS.redisUrl}@127.0.0.1:6379/0`, password: SECRETS.redis },
      },
      admin: { address: '127.0.0.1:0', token: SECRETS.admin },
    });
    // A second listener whose firewall refuses 127.0.0.1: one refused connection.
    (raw as { listeners: object[] }).listeners.push({
      name: 'fenced',
      address: '127.0.0.1:0',
      filters: [{ type: 'firewall', config: { allow: ['10.0.0.0/8'] } }],
    });
    reloadSource = raw;
    run = await startProxy(raw, { reloadSource: () => reloadSource });
    before = await metricsOf(run.admin);

    // Traffic: three routed submits (accepted by the mock, each with a receipt), one unroutable.
    client = await SmppClient.connect(run.port);
    expect(await client.bind('transceiver', 'acme', SECRETS.client)).toBe(Status.ESME_ROK);
    const ok = await Promise.all([1, 2, 3].map((i) => client.submit({ destination_addr: `25884000000${i}` })));
    expect(ok.map((r) => r.command_status)).toEqual([0, 0, 0]);
    const refused = await client.submit({ destination_addr: '999' });
    expect(refused.command_status).toBe(Status.ESME_RINVDSTADR);
    await client.waitDelivered(3);

    const fenced = connect(run.proxy.addresses().get('fenced')!.port, '127.0.0.1');
    fenced.on('error', () => {});
    await once(fenced, 'close');
  });

  afterAll(async () => {
    await client?.close();
    await run?.stop();
  });

  it('GET /livez answers 200', async () => {
    const res = await run.admin.inject({ method: 'GET', url: '/livez' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });

  it('GET /readyz answers 200 once started', async () => {
    const res = await run.admin.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'ready', checks: { listeners: true, store: true } });
  });

  it('GET /healthz shows listeners, clusters with endpoints, and the store', async () => {
    const res = await run.admin.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.status).toBe('ok');
    expect(body.listeners).toEqual([
      expect.objectContaining({ name: 'main', address: `127.0.0.1:${run.port}`, connections: 1, boundSessions: 1 }),
      expect.objectContaining({ name: 'fenced', connections: 0, refused: { firewall: 1, max_connections: 0 } }),
    ]);
    const byName = Object.fromEntries(body.clusters.map((c: { name: string }) => [c.name, c]));
    expect(byName.test).toMatchObject({
      available: true,
      endpoints: [{ name: 'mock', state: 'bound', circuit: 'closed', sessions: 1 }],
    });
    expect(byName.down.available).toBe(false);
    expect(byName.down.endpoints).toEqual([
      expect.objectContaining({ address: `127.0.0.1:${downPort}`, sessions: 0, circuit: expect.any(String), throttled: false }),
    ]);
    expect(byName.down.endpoints[0].state).not.toBe('bound');
    expect(body.store).toMatchObject({ backend: 'memory', reachable: true, entries: 3 });
    expect(JSON.stringify(body)).not.toContain(SECRETS.endpoint);
  });

  it('GET /metrics is Prometheus text holding every SPEC §5 name', async () => {
    const after = await metricsOf(run.admin);
    for (const name of SPEC_METRICS) {
      expect(after.types.has(name), name).toBe(true);
      expect(after.samples.some((s) => familyOf(s.name, after.types) === name), `${name} has samples`).toBe(true);
    }
    expect(after.types.get('smppd_endpoint_latency_seconds')).toBe('histogram');
    // Node process metrics come from the same registry.
    expect(after.types.has('process_cpu_user_seconds_total')).toBe(true);
  });

  it('GET /metrics values move with traffic', async () => {
    const after = await metricsOf(run.admin);
    const delta = (name: string, labels: Record<string, string> = {}) =>
      (sampleValue(after, name, labels) ?? 0) - (sampleValue(before, name, labels) ?? 0);
    const ep = { cluster: 'test', endpoint: 'mock' };

    expect(delta('smppd_messages_submitted_total')).toBe(4);
    expect(delta('smppd_messages_delivered_total')).toBe(3);
    expect(delta('smppd_messages_failed_total')).toBe(1);
    expect(delta('smppd_dlr_received_total', { cluster: 'test', status: 'DELIVRD' })).toBe(3);
    expect(delta('smppd_connection_active', { listener: 'main' })).toBe(1);
    expect(delta('smppd_endpoint_requests_total', ep)).toBe(3);
    expect(delta('smppd_endpoint_latency_seconds_count', ep)).toBe(3);
    expect(delta('smppd_endpoint_latency_seconds_bucket', { ...ep, le: '+Inf' })).toBe(3);
    // Snapshot gauges set at scrape time.
    expect(sampleValue(after, 'smppd_store_entries')).toBe(3);
    expect(sampleValue(after, 'smppd_store_up')).toBe(1);
    expect(sampleValue(after, 'smppd_client_sessions', { listener: 'main', bind_type: 'transceiver' })).toBe(1);
    expect(sampleValue(after, 'smppd_pending_deliveries')).toBe(0);
    expect(delta('smppd_submit_responses_total', { status: 'ESME_RINVDSTADR' })).toBe(1);
    expect(delta('smppd_connections_refused_total', { listener: 'fenced', reason: 'firewall' })).toBe(1);
    expect(sampleValue(after, 'smppd_connection_active', { listener: 'fenced' })).toBe(0);
  });

  it('GET /metrics labels carry no phone number, message id or system_id', async () => {
    const after = await metricsOf(run.admin);
    const values = after.samples.flatMap((s) => Object.values(s.labels));
    expect(values.filter((v) => /25884|acme|^\d{6,}$/.test(v))).toEqual([]);
  });

  it('GET /stats: sessions, submits, responses by status, receipts, retries, queue depths', async () => {
    const res = await run.admin.inject({ method: 'GET', url: '/stats' });
    expect(res.statusCode).toBe(200);
    const stats = res.json();
    expect(stats).toMatchObject({
      sessions: {
        connections: 1,
        bound: 1,
        byBindType: { transceiver: 1 },
        listeners: {
          main: { connections: 1, boundSessions: 1 },
          fenced: { connections: 0, boundSessions: 0, refused: { firewall: 1, max_connections: 0 } },
        },
        upstream: { bound: 1, configured: 2 },
      },
      submits: { received: 4, accepted: 3, failed: 1 },
      responses: { ESME_ROK: 3, ESME_RINVDSTADR: 1 },
      receipts: { received: 3, byStatus: { DELIVRD: 3 }, byCluster: { test: 3 }, unmatched: 0 },
      mo: { received: 0 },
      retries: { total: 0, byReason: {} },
      queues: { upstreamInFlight: 0, upstreamQueued: 0, pendingDeliveries: 0, orphanReceipts: 0 },
    });
    expect(Object.keys(stats.queues.clusters).sort()).toEqual(['down', 'test']);
    expect(Date.parse(stats.at)).not.toBeNaN();
  });

  it('GET /store/stats: entries, memory figures, expirations, pending receipts', async () => {
    const res = await run.admin.inject({ method: 'GET', url: '/store/stats' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      backend: 'memory',
      entries: 3,
      expirations: 0,
      pendingDeliveries: 0,
      orphans: 0,
      memory: { upstreamKeys: expect.any(Number), approxBytes: expect.any(Number) },
    });
  });

  it('GET /feedback/stats: decisions, outcomes, latency and receipt statuses per route, cluster and endpoint', async () => {
    const res = await run.admin.inject({ method: 'GET', url: '/feedback/stats' });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.routes).toEqual({
      mz: {
        decisions: 3,
        clusters: { test: 3 },
        outcomes: { ESME_ROK: 3 },
        latencyMs: expect.objectContaining({ count: 3 }) as unknown,
        receipts: { DELIVRD: 3 },
      },
    });
    expect(body.clusters.test).toMatchObject({
      decisions: 3,
      requests: 3,
      outcomes: { ESME_ROK: 3 },
      latencyMs: { count: 3 },
      receipts: { DELIVRD: 3 },
      endpoints: { mock: { requests: 3, outcomes: { ESME_ROK: 3 }, latencyMs: { count: 3 }, receipts: { DELIVRD: 3 } } },
    });
  });

  it('GET /config shows the running config with every secret as "***"', async () => {
    const res = await run.admin.inject({ method: 'GET', url: '/config', headers: auth });
    expect(res.statusCode).toBe(200);
    const text = res.body;
    for (const [what, secret] of Object.entries(SECRETS)) expect(text.includes(secret), what).toBe(false);
    const config = res.json();
    expect(config.clients[0]).toMatchObject({ system_id: 'acme', password: '***' });
    expect(config.clusters[1].endpoints[0]).toMatchObject({ system_id: 'up', password: '***' });
    expect(config.admin.token).toBe('***');
    expect(config.store.redis).toMatchObject({ password: '***', url: 'redis://user:***@127.0.0.1:6379/0' });
    expect(config.routes[0]).toMatchObject({ name: 'mz', cluster: 'test' });
  });

  it('/config and POSTs need the bearer token when one is configured', async () => {
    const cases = [
      { headers: {}, status: 401 },
      { headers: { authorization: 'Bearer wrong' }, status: 401 },
      { headers: { authorization: `Basic ${Buffer.from(`x:${SECRETS.admin}`).toString('base64')}` }, status: 401 },
      { headers: auth, status: 200 },
    ];
    for (const { headers, status } of cases) {
      const res = await run.admin.inject({ method: 'GET', url: '/config', headers });
      expect(res.statusCode, JSON.stringify(headers)).toBe(status);
      if (status === 401) {
        expect(res.json()).toMatchObject({ error: 'unauthorized' });
        expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
        expect(res.body).not.toContain(SECRETS.admin);
      }
    }
    // From a remote address too: the token is what counts.
    const remote = await run.admin.inject({ method: 'GET', url: '/config', headers: auth, remoteAddress: '10.1.2.3' });
    expect(remote.statusCode).toBe(200);
    const post = await run.admin.inject({ method: 'POST', url: '/config/reload' });
    expect(post.statusCode).toBe(401);
    const head = await run.admin.inject({ method: 'HEAD', url: '/config' });
    expect(head.statusCode).toBe(401);
  });

  it('POST /config/reload with an invalid source: 400 listing the problems; the running config stays', async () => {
    reloadSource = {
      ...mockProxyConfig(),
      clusters: [{ name: 'test', mock: { latency: 'soon' } }],
      routes: [{ name: 'mz', cluster: 'nowhere' }],
    };
    const res = await run.admin.inject({ method: 'POST', url: '/config/reload', headers: auth });
    expect(res.statusCode).toBe(400);
    const body = res.json();
    expect(body.error).toBe('invalid_config');
    expect(body.problems).toEqual([
      'clusters[0].mock.latency: must be a duration like 500ms, 30s, 5m or 72h',
      'routes[0].cluster: unknown cluster "nowhere"',
    ]);
    // Traffic carries on under the old config.
    const resp = await client.submit({ destination_addr: '258840000009' });
    expect(resp.command_status).toBe(Status.ESME_ROK);
    const config = await run.admin.inject({ method: 'GET', url: '/config', headers: auth });
    expect(config.json().clusters.map((c: { name: string }) => c.name)).toEqual(['test', 'down']);
  });

  it('GET /sessions lists the bound client sessions; POST /sessions/:id/unbind unbinds one; both need the token', async () => {
    const second = await SmppClient.connect(run.port);
    expect(await second.bind('transmitter', 'acme', SECRETS.client)).toBe(Status.ESME_ROK);
    expect((await run.admin.inject({ method: 'GET', url: '/sessions' })).statusCode).toBe(401);

    const listed = (await run.admin.inject({ method: 'GET', url: '/sessions', headers: auth })).json() as {
      sessions: Array<{ id: string; systemId: string; bindType: string; listener: string; remoteAddress: string; boundAt: string }>;
    };
    expect(listed.sessions.map((s) => s.bindType).sort()).toEqual(['transceiver', 'transmitter']);
    for (const s of listed.sessions) {
      expect(s).toMatchObject({ systemId: 'acme', listener: 'main', remoteAddress: '127.0.0.1' });
      expect(Date.now() - Date.parse(s.boundAt)).toBeLessThan(60_000);
    }
    const target = listed.sessions.find((s) => s.bindType === 'transmitter')!;

    expect((await run.admin.inject({ method: 'POST', url: `/sessions/${target.id}/unbind` })).statusCode).toBe(401);
    const res = await run.admin.inject({ method: 'POST', url: `/sessions/${target.id}/unbind`, headers: auth });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ status: 'unbinding', session: { id: target.id } });
    await second.waitUnbind();
    await second.closed;
    const after = (await run.admin.inject({ method: 'GET', url: '/sessions', headers: auth })).json() as { sessions: Array<{ bindType: string }> };
    expect(after.sessions.map((s) => s.bindType)).toEqual(['transceiver']);

    const unknown = await run.admin.inject({ method: 'POST', url: `/sessions/${target.id}/unbind`, headers: auth });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ error: 'not_found' });
  });

  it('unknown paths answer a JSON 404', async () => {
    const res = await run.admin.inject({ method: 'GET', url: '/nope' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: 'not_found', message: 'no such endpoint' });
  });
});

// ---- deps that differ from the running proxy ----------------------------------------------------

describe('admin API without a token', () => {
  let run: Running;
  let open: FastifyInstance;
  let reloads = 0;

  beforeAll(async () => {
    run = await startProxy(mockProxyConfig({ admin: { address: '127.0.0.1:0' } }));
    open = buildAdmin({
      ...run.deps,
      reload: async () => {
        reloads++;
        return { ok: true, changes: { routes: { changed: ['mz'] } } };
      },
    });
  });

  afterAll(async () => {
    await open?.close();
    await run?.stop();
  });

  it('/config and POSTs answer loopback peers only (403 otherwise)', async () => {
    for (const remoteAddress of ['127.0.0.1', '127.8.8.8', '::1', '::ffff:127.0.0.1']) {
      const res = await open.inject({ method: 'GET', url: '/config', remoteAddress });
      expect(res.statusCode, remoteAddress).toBe(200);
    }
    for (const remoteAddress of ['10.1.2.3', '::ffff:10.1.2.3', '2001:db8::1']) {
      const get = await open.inject({ method: 'GET', url: '/config', remoteAddress });
      expect(get.statusCode, remoteAddress).toBe(403);
      expect(get.json()).toMatchObject({ error: 'forbidden' });
      const post = await open.inject({ method: 'POST', url: '/config/reload', remoteAddress });
      expect(post.statusCode, remoteAddress).toBe(403);
    }
    // A forwarding header cannot make a remote peer local.
    const forwarded = await open.inject({
      method: 'GET',
      url: '/config',
      remoteAddress: '10.1.2.3',
      headers: { 'x-forwarded-for': '127.0.0.1' },
    });
    expect(forwarded.statusCode).toBe(403);
    expect(reloads).toBe(0);
  });

  it('read-only figures and probes stay open to any peer', async () => {
    for (const url of ['/livez', '/readyz', '/healthz', '/metrics', '/stats', '/store/stats', '/feedback/stats']) {
      const res = await open.inject({ method: 'GET', url, remoteAddress: '10.1.2.3' });
      expect(res.statusCode, url).toBe(200);
    }
  });

  it('POST /config/reload that applies: 200 with what changed (any body ignored)', async () => {
    const res = await open.inject({ method: 'POST', url: '/config/reload' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'reloaded', changes: { routes: { changed: ['mz'] } }, warnings: [] });
    const withBody = await open.inject({ method: 'POST', url: '/config/reload', payload: { anything: 1 } });
    expect(withBody.statusCode).toBe(200);
    expect(reloads).toBe(2);
  });

  it('a reload that throws answers 500 without details', async () => {
    const failing = buildAdmin({
      ...run.deps,
      reload: async () => {
        throw new Error(`boom ${SECRETS.client}`);
      },
    });
    const res = await failing.inject({ method: 'POST', url: '/config/reload' });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({ error: 'internal', message: 'internal error, see the proxy log' });
    await failing.close();
  });

  it('the token can come from token_file', async () => {
    const fromFile = await startProxy(mockProxyConfig({ admin: { address: '127.0.0.1:0', token_file: '/run/secrets/admin-token' } }), {
      readFile: async (path) => {
        if (path === '/run/secrets/admin-token') return 'f1le-t0ken\n';
        throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
      },
    });
    try {
      expect((await fromFile.admin.inject({ method: 'GET', url: '/config' })).statusCode).toBe(401);
      const res = await fromFile.admin.inject({ method: 'GET', url: '/config', headers: { authorization: 'Bearer f1le-t0ken' } });
      expect(res.statusCode).toBe(200);
      expect(res.body).not.toContain('f1le-t0ken');
    } finally {
      await fromFile.stop();
    }
  });
});

describe('admin API health and readiness', () => {
  it('GET /healthz answers 503 when the only cluster is down', async () => {
    const port = await closedPort();
    const run = await startProxy({
      listeners: [{ name: 'main', address: '127.0.0.1:0' }],
      clients: [{ system_id: 'acme', password: SECRETS.client }],
      clusters: [{ name: 'down', endpoints: [{ address: `127.0.0.1:${port}`, system_id: 'up', password: SECRETS.endpoint }] }],
      routes: [{ name: 'all', cluster: 'down' }],
      shutdown: { drain_timeout: '1s' },
    });
    try {
      const res = await run.admin.inject({ method: 'GET', url: '/healthz' });
      expect(res.statusCode).toBe(503);
      const body = res.json();
      expect(body.status).toBe('unavailable');
      expect(body.clusters).toEqual([expect.objectContaining({ name: 'down', available: false })]);
      // Readiness is about this replica taking connections, not about upstreams.
      expect((await run.admin.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    } finally {
      await run.stop();
    }
  });

  it('GET /readyz answers 503 from the moment a drain starts; /livez stays 200', async () => {
    const run = await startProxy(mockProxyConfig());
    const client = await SmppClient.connect(run.port);
    try {
      expect(await client.bind('transceiver', 'acme', SECRETS.client)).toBe(Status.ESME_ROK);
      expect((await run.admin.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);

      const stopping = run.proxy.stop();
      const during = await run.admin.inject({ method: 'GET', url: '/readyz' });
      expect(during.statusCode).toBe(503);
      expect(during.json()).toMatchObject({ error: 'not_ready', checks: { listeners: false } });
      await stopping;
      await client.closed; // the drain unbound the client
      expect(client.unbinds).toHaveLength(1);
      expect((await run.admin.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(503);
      expect((await run.admin.inject({ method: 'GET', url: '/livez' })).statusCode).toBe(200);
    } finally {
      await client.close();
      await run.admin.close();
    }
  });

  it('GET /readyz answers 503 when the store is unreachable', async () => {
    const run = await startProxy(mockProxyConfig());
    try {
      const admin = buildAdmin({
        ...run.deps,
        store: {
          stats: () => Promise.reject(new Error('ECONNREFUSED')),
          healthy: () => false,
          problem: () => 'redis is unreachable (reconnecting): connect ECONNREFUSED 127.0.0.1:6379',
        },
      });
      const ready = await admin.inject({ method: 'GET', url: '/readyz' });
      expect(ready.statusCode).toBe(503);
      expect(ready.json()).toMatchObject({
        error: 'not_ready',
        message: 'store unreachable',
        checks: { store: false },
        storeProblem: 'redis is unreachable (reconnecting): connect ECONNREFUSED 127.0.0.1:6379',
      });
      const store = await admin.inject({ method: 'GET', url: '/store/stats' });
      expect(store.statusCode).toBe(503);
      expect(store.json()).toMatchObject({ error: 'store_unavailable' });
      const health = await admin.inject({ method: 'GET', url: '/healthz' });
      expect(health.json().store).toEqual({
        backend: 'memory',
        reachable: false,
        entries: null,
        pendingDeliveries: null,
        problem: 'redis is unreachable (reconnecting): connect ECONNREFUSED 127.0.0.1:6379',
      });
      const scraped = await admin.inject({ method: 'GET', url: '/metrics' });
      expect(scraped.statusCode).toBe(200);
      expect(scraped.body).toMatch(/^smppd_store_up 0$/m);
      await admin.close();
    } finally {
      await run.stop();
    }
  });
});
