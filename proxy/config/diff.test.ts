import { describe, expect, it } from 'vitest';
import { appliedConfig, diffConfig, endpointSessionChanged, sameValue } from './diff.js';
import { ConfigSchema, type Config, type ConfigInput } from './schema.js';

const base = {
  listeners: [
    { name: 'default', address: '0.0.0.0:2775', limits: { window: 100 } },
    { name: 'edge', address: '0.0.0.0:2776', filters: [{ type: 'rate_limit', config: { requests_per_second: 10 } }] },
  ],
  clients: [
    { system_id: 'acme', password: 'secret', throughput: 500 },
    { system_id: 'beta', password: 'b' },
  ],
  clusters: [
    {
      name: 'vodacom',
      endpoints: [
        { address: 'smsc1:2775', system_id: 'myid', password: 'pw', weight: 1, window: 10 },
        { address: 'smsc2:2775', system_id: 'myid', password: 'pw' },
      ],
    },
    { name: 'test', mock: { latency: '50ms' } },
  ],
  routes: [
    { name: 'voda', match: { destination: { prefix: '+25884' } }, cluster: 'vodacom', priority: 1 },
    { name: 'rest', cluster: 'test' },
  ],
} satisfies ConfigInput;

type Input = typeof base & Record<string, unknown>;

function parse(input: object): Config {
  return ConfigSchema.parse(input);
}

/** The base config with `edit` applied to a deep copy. */
function changed(edit: (c: Input) => void): Config {
  const copy = structuredClone(base) as Input;
  edit(copy);
  return parse(copy);
}

const current = parse(base);

/** The first cluster's endpoints, editable. */
const eps = (c: Input): Array<Record<string, unknown>> =>
  (c.clusters[0] as unknown as { endpoints: Array<Record<string, unknown>> }).endpoints;

describe('diffConfig', () => {
  it('the same config: nothing to do', () => {
    const d = diffConfig(current, parse(structuredClone(base)));
    expect(d.empty).toBe(true);
    expect(d.summary).toEqual([]);
    expect(d.routes.changed).toBe(false);
  });

  it('listeners: added, removed, re-opened (address, TLS on), limits and filters in place', () => {
    const next = changed((c) => {
      c.listeners[0]!.address = '0.0.0.0:2780';
      c.listeners[0]!.limits = { window: 50 };
      (c.listeners[1] as Record<string, unknown>).filters = [];
      (c.listeners as unknown[]).push({ name: 'tls', address: '0.0.0.0:3550' });
    });
    const d = diffConfig(current, next);
    expect(d.listeners.added).toEqual(['tls']);
    expect(d.listeners.removed).toEqual([]);
    expect(d.listeners.changed).toEqual([
      { name: 'default', reopen: true, tls: false, limits: ['window'], filters: false },
      { name: 'edge', reopen: false, tls: false, limits: [], filters: true },
    ]);
    expect(d.summary).toEqual([
      'listener tls: added',
      'listener default: re-opened (bound sessions stay); limits window changed',
      'listener edge: filters changed',
    ]);

    const withTls = changed((c) => {
      (c.listeners[0] as Record<string, unknown>).tls = { cert: '/a.crt', key: '/a.key' };
    });
    expect(diffConfig(current, withTls).listeners.changed[0]).toMatchObject({ reopen: true, tls: false });
    const newCert = ConfigSchema.parse({
      ...structuredClone(base),
      listeners: [{ ...base.listeners[0], tls: { cert: '/b.crt', key: '/b.key' } }, base.listeners[1]],
    });
    expect(diffConfig(withTls, newCert).listeners.changed[0]).toMatchObject({ reopen: false, tls: true });

    const removed = changed((c) => c.listeners.splice(1, 1));
    expect(diffConfig(current, removed).summary).toEqual(['listener edge: removed (its sessions are unbound)']);
  });

  it('clients: added, removed, changed in place (a new password keeps bound sessions)', () => {
    const next = changed((c) => {
      c.clients[0]!.password = 'new';
      c.clients[0]!.throughput = 100;
      c.clients.splice(1, 1);
      (c.clients as unknown[]).push({ system_id: 'gamma', password: 'g' });
    });
    const d = diffConfig(current, next);
    expect(d.clients).toEqual({
      added: ['gamma'],
      removed: ['beta'],
      changed: [{ systemId: 'acme', fields: ['password', 'throughput'] }],
    });
    expect(d.summary).toContain('client acme: password, throughput changed (bound sessions stay)');
    expect(d.summary).toContain('client beta: removed (its sessions are unbound)');
  });

  it('endpoints: weight, window and binds in place; password, system_type and tls re-bind', () => {
    const next = changed((c) => {
      const [e1, e2] = eps(c);
      e1!.weight = 3;
      e1!.window = 50;
      e1!.binds = 2;
      e2!.password = 'rotated';
    });
    const d = diffConfig(current, next);
    expect(d.clusters.changed).toEqual([
      {
        name: 'vodacom',
        settings: [],
        endpoints: {
          added: [],
          removed: [],
          rebind: [{ endpoint: 'myid@smsc2:2775', fields: ['password'] }],
          updated: [{ endpoint: 'myid@smsc1:2775', fields: ['weight', 'binds', 'window'] }],
        },
      },
    ]);
    expect(d.summary).toEqual([
      'cluster vodacom: endpoint myid@smsc2:2775 re-bound (password changed)',
      'cluster vodacom: endpoint myid@smsc1:2775 weight, binds, window changed (sessions stay)',
    ]);
    for (const edit of [{ system_type: 'VMA' }, { tls: true }]) {
      const e = changed((c) => Object.assign(eps(c)[0]!, edit));
      expect(diffConfig(current, e).clusters.changed[0]!.endpoints.rebind).toHaveLength(1);
    }
  });

  it('an endpoint whose address or system_id changed is a removal and an addition', () => {
    const next = changed((c) => {
      eps(c)[1]!.address = 'smsc3:2775';
      eps(c)[0]!.system_id = 'other';
    });
    const e = diffConfig(current, next).clusters.changed[0]!.endpoints;
    expect(e.added).toEqual(['other@smsc1:2775', 'myid@smsc3:2775']);
    expect(e.removed).toEqual(['myid@smsc1:2775', 'myid@smsc2:2775']);
  });

  it('cluster settings change in place; bind_type re-binds every endpoint; mock <-> endpoints replaces', () => {
    const next = changed((c) => {
      const v = c.clusters[0] as Record<string, unknown>;
      v.load_balancer = 'weighted';
      v.retry = { max_attempts: 5 };
      v.throughput = 100;
      (c.clusters[1] as Record<string, unknown>).mock = { latency: '10ms' };
    });
    const d = diffConfig(current, next);
    expect(d.clusters.changed.map((x) => [x.name, x.settings])).toEqual([
      ['vodacom', ['load_balancer', 'retry', 'throughput']],
      ['test', ['mock']],
    ]);

    const bindType = changed((c) => ((c.clusters[0] as Record<string, unknown>).bind_type = 'transmitter'));
    const e = diffConfig(current, bindType).clusters.changed[0]!;
    expect(e.settings).toEqual(['bind_type']);
    expect(e.endpoints.rebind.map((x) => x.fields)).toEqual([['bind_type'], ['bind_type']]);

    const replaced = changed((c) => {
      c.clusters[1] = { name: 'test', endpoints: [{ address: 'x:1', system_id: 's', password: 'p' }] } as never;
    });
    expect(diffConfig(current, replaced).clusters).toMatchObject({ replaced: ['test'], changed: [] });
  });

  it('clusters added and removed', () => {
    const next = changed((c) => {
      c.clusters[1] = { name: 'mcel', mock: {} } as never;
      c.routes[1]!.cluster = 'mcel';
    });
    const d = diffConfig(current, next);
    expect(d.clusters).toMatchObject({ added: ['mcel'], removed: ['test'] });
    expect(d.summary).toEqual([
      'cluster mcel: added',
      'cluster test: removed (closes once its requests are answered)',
      'routes: changed rest',
    ]);
  });

  it('routes: added, removed, changed, and a new order among the same routes', () => {
    const next = changed((c) => {
      c.routes[0]!.priority = 2;
      (c.routes as unknown[]).push({ name: 'new', cluster: 'test', match: { client: 'acme' } });
    });
    expect(diffConfig(current, next).routes).toEqual({
      changed: true,
      added: ['new'],
      removed: [],
      modified: ['voda'],
      reordered: false,
    });
    const swapped = changed((c) => c.routes.reverse());
    expect(diffConfig(current, swapped).routes).toMatchObject({ changed: true, reordered: true, modified: [] });
    expect(diffConfig(current, swapped).summary).toEqual(['routes: order changed']);
  });

  it('store and admin.address need a restart: warnings, and the running values are kept', () => {
    const next = changed((c) => {
      c.store = { backend: 'redis', ttl: '1h' };
      c.admin = { address: '127.0.0.1:9999', token: 't' };
      c.log = { level: 'debug' };
      c.shutdown = { drain_timeout: '5s' };
    });
    const d = diffConfig(current, next);
    expect(d.restartNeeded).toEqual(['store.backend', 'store.ttl', 'admin.address']);
    expect(d.warnings).toEqual([
      'store.backend: changed, takes effect after a restart (the running value is kept)',
      'store.ttl: changed, takes effect after a restart (the running value is kept)',
      'admin.address: changed, takes effect after a restart (the running value is kept)',
    ]);
    expect(d.summary).toEqual(['admin: token changed', 'log.level: info -> debug', 'shutdown.drain_timeout: 30000 ms -> 5000 ms']);
    expect(d.log.level).toEqual({ from: 'info', to: 'debug' });
    expect(d.shutdown.drainTimeoutMs).toEqual({ from: 30_000, to: 5_000 });

    const applied = appliedConfig(current, next);
    expect(applied.store).toEqual(current.store);
    expect(applied.admin).toEqual({ ...next.admin, address: current.admin.address });
    expect(applied.log).toEqual(next.log);
    expect(diffConfig(applied, next).restartNeeded).toEqual(['store.backend', 'store.ttl', 'admin.address']);
  });
});

describe('helpers', () => {
  it('endpointSessionChanged looks at address and credentials only', () => {
    const e = current.clusters[0]!.endpoints[0]!;
    expect(endpointSessionChanged(e, { ...e, weight: 9, window: 1, binds: 4 })).toBe(false);
    expect(endpointSessionChanged(e, { ...e, password: 'x' })).toBe(true);
    expect(endpointSessionChanged(e, { ...e, tls: { servername: 'a' } })).toBe(true);
    expect(endpointSessionChanged(e, { ...e, address: 'b:1' })).toBe(true);
  });

  it('sameValue compares plain data deeply, ignoring key order', () => {
    expect(sameValue({ a: [1, { b: 2 }], c: 'x' }, { c: 'x', a: [1, { b: 2 }] })).toBe(true);
    expect(sameValue({ a: [1, 2] }, { a: [2, 1] })).toBe(false);
    expect(sameValue({ a: undefined }, {})).toBe(true);
    expect(sameValue([], {})).toBe(false);
    expect(sameValue(null, {})).toBe(false);
  });
});
