// Hot reload against a real proxy (issue 4, SPEC §3, §6): simulators as upstreams, node-smpp clients,
// listeners on port 0. What changes takes effect at once; what stays keeps its sessions.

import { once } from 'node:events';
import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { watchConfig } from '../proxy/config/watch.js';
import { Status } from '../proxy/smpp/index.js';
import { freePort } from './bench/processes.js';
import { startSimulator, type Simulator } from './sim/index.js';
import { cleanupList, eventually } from './helpers/receipts-proxy.js';
import { startReloadableProxy, type ReloadableProxy } from './helpers/reload-proxy.js';

const cleanup = cleanupList();
afterEach(() => cleanup.run());

async function sim(): Promise<Simulator> {
  return cleanup.add(await startSimulator({}));
}

function endpoint(s: Simulator, extra: object = {}) {
  return { address: `127.0.0.1:${s.port}`, system_id: 'smppd', password: 'pw', binds: 1, window: 10, ...extra };
}

interface Raw {
  listeners: Array<Record<string, unknown>>;
  clients: Array<Record<string, unknown>>;
  clusters: Array<Record<string, unknown>>;
  routes: Array<Record<string, unknown>>;
}

function base(a: Simulator, b: Simulator): Raw {
  return {
    listeners: [{ name: 'main', address: '127.0.0.1:0', limits: { window: 50 } }],
    clients: [
      { system_id: 'acme', password: 'secret' },
      { system_id: 'beta', password: 'b' },
    ],
    clusters: [
      { name: 'a', endpoints: [endpoint(a)] },
      { name: 'b', endpoints: [endpoint(b)] },
    ],
    routes: [{ name: 'all', cluster: 'a' }],
  };
}

async function start(raw: Raw): Promise<ReloadableProxy> {
  const p = cleanup.add(await startReloadableProxy(raw));
  await upstreamsBound(p);
  return p;
}

/** Every cluster of the running config can take traffic. */
function upstreamsBound(p: ReloadableProxy): Promise<void> {
  return eventually('every cluster is bound', () => [...p.proxy.clusters.values()].every((c) => c.available()));
}

async function reloadWith(p: ReloadableProxy, raw: Raw): Promise<string[]> {
  p.setConfig(raw);
  const result = await p.reload();
  expect(result).toMatchObject({ ok: true, problems: [] });
  return result.changes;
}

describe('reload', () => {
  it('says so when a cluster it adds does not bind in time, and routes to it anyway', async () => {
    const [a, b] = [await sim(), await sim()];
    const raw = base(a, b);
    const p = await start(raw);
    const deadPort = await freePort(); // nobody listens there
    const next = structuredClone(raw);
    next.clusters.push({ name: 'dead', endpoints: [{ ...endpoint(a), address: `127.0.0.1:${deadPort}` }] });
    next.routes = [{ name: 'all', cluster: 'dead' }];
    p.setConfig(next);
    const result = await p.reload();
    expect(result).toMatchObject({ ok: true, problems: [] });
    expect(result.warnings.filter((w) => w.startsWith("cluster "))).toEqual([
      "cluster dead: not bound 2000 ms after the reload; its routes use it already",
    ]);
    const client = await p.bind();
    expect((await client.submit()).command_status).toBe(Status.ESME_RSYSERR);
  });

  it('a route change takes effect at once; the bound client keeps its session through route, limit and cluster changes', async () => {
    const [a, b] = [await sim(), await sim()];
    const raw = base(a, b);
    const p = await start(raw);
    const client = await p.bind();
    expect((await client.submit()).command_status).toBe(Status.ESME_ROK);
    expect(a.stats().submits).toBe(1);

    const next = structuredClone(raw);
    next.routes = [{ name: 'all', cluster: 'b' }];
    next.listeners[0]!.limits = { window: 20, request_timeout: '10s' };
    next.clusters[0] = { name: 'a', load_balancer: 'least_connections', endpoints: [endpoint(a, { weight: 3, window: 20 })] };
    next.clusters.push({ name: 'spare', mock: {} });
    const changes = await reloadWith(p, next);
    expect(changes).toEqual([
      'listener main: limits request_timeout, window changed',
      'cluster spare: added',
      'cluster a: load_balancer changed',
      `cluster a: endpoint smppd@127.0.0.1:${a.port} weight, window changed (sessions stay)`,
      'routes: changed all',
    ]);

    // The first submit after the reload goes the new way.
    expect((await client.submit()).command_status).toBe(Status.ESME_ROK);
    expect(b.stats().submits).toBe(1);
    expect(a.stats().submits).toBe(1);
    expect(client.unbinds).toHaveLength(0);
    expect(client.isClosed).toBe(false);
    // Upstream sessions whose address and credentials did not change were not re-bound.
    expect(a.stats()).toMatchObject({ binds: 1, bound: 1 });
    expect(b.stats()).toMatchObject({ binds: 1, bound: 1 });
    expect(p.proxy.config.routes[0]!.cluster).toBe('b');
  });

  it('an upstream session is re-bound when its password changed, not when its weight or window did', async () => {
    const [a, b] = [await sim(), await sim()];
    const raw = base(a, b);
    raw.clusters[0] = { name: 'a', endpoints: [endpoint(a, { binds: 2 })] };
    const p = await start(raw);
    await eventually('both sessions bound', () => a.stats().bound === 2);
    const client = await p.bind();

    const tuned = structuredClone(raw);
    tuned.clusters[0] = { name: 'a', endpoints: [endpoint(a, { binds: 2, weight: 5, window: 50 })] };
    await reloadWith(p, tuned);
    expect((await client.submit()).command_status).toBe(Status.ESME_ROK);
    expect(a.stats()).toMatchObject({ binds: 2, bound: 2 });

    const rotated = structuredClone(tuned);
    rotated.clusters[0] = { name: 'a', endpoints: [endpoint(a, { binds: 2, weight: 5, window: 50, password: 'rotated' })] };
    expect(await reloadWith(p, rotated)).toEqual([`cluster a: endpoint smppd@127.0.0.1:${a.port} re-bound (password changed)`]);
    await eventually('re-bound with the new password', () => a.stats().binds === 4 && a.stats().bound === 2);
    await upstreamsBound(p);
    expect((await client.submit()).command_status).toBe(Status.ESME_ROK);
    expect(client.unbinds).toHaveLength(0);
  });

  it("a removed client's session is unbound; the other client's stays", async () => {
    const [a, b] = [await sim(), await sim()];
    const raw = base(a, b);
    const p = await start(raw);
    const acme = await p.bind();
    const beta = await p.bind({ systemId: 'beta', password: 'b' });

    const next = structuredClone(raw);
    next.clients = [{ system_id: 'acme', password: 'changed' }];
    expect(await reloadWith(p, next)).toEqual([
      'client beta: removed (its sessions are unbound)',
      'client acme: password changed (bound sessions stay)',
    ]);
    await beta.waitUnbind();
    await beta.closed;
    expect(acme.unbinds).toHaveLength(0);
    // A changed password does not drop the bound session; it applies to the next bind.
    expect((await acme.submit()).command_status).toBe(Status.ESME_ROK);
    await expect(p.bind({ password: 'secret' })).rejects.toThrow(/bind refused/);
    await p.bind({ password: 'changed' });
  });

  it('a client disabled loses its sessions and cannot bind; enabled again, it binds', async () => {
    const [a, b] = [await sim(), await sim()];
    const raw = base(a, b);
    const p = await start(raw);
    const acme = await p.bind();
    const beta = await p.bind({ systemId: 'beta', password: 'b' });

    const off = structuredClone(raw);
    off.clients = [{ system_id: 'acme', password: 'secret' }, { system_id: 'beta', password: 'b', enabled: false }];
    expect(await reloadWith(p, off)).toEqual(['client beta: disabled (its sessions are unbound)']);
    await beta.waitUnbind();
    await beta.closed;
    expect(acme.unbinds).toHaveLength(0);
    expect((await acme.submit()).command_status).toBe(Status.ESME_ROK);
    await expect(p.bind({ systemId: 'beta', password: 'b' })).rejects.toThrow(`bind refused with ${Status.ESME_RBINDFAIL}`);

    expect(await reloadWith(p, raw)).toEqual(['client beta: enabled']);
    await p.bind({ systemId: 'beta', password: 'b' });
  });

  it('a listener added accepts; a listener removed refuses and unbinds its sessions', async () => {
    const [a, b] = [await sim(), await sim()];
    const raw = base(a, b);
    raw.listeners.push({ name: 'old', address: '127.0.0.1:0' });
    const p = await start(raw);
    const onMain = await p.bind();
    const onOld = await p.bind({ listener: 'old' });
    const oldPort = p.port('old');

    const next = structuredClone(raw);
    next.listeners = [raw.listeners[0]!, { name: 'new', address: '127.0.0.1:0' }];
    expect(await reloadWith(p, next)).toEqual(['listener new: added', 'listener old: removed (its sessions are unbound)']);
    await onOld.waitUnbind();
    await onOld.closed;

    const refused = connect({ host: '127.0.0.1', port: oldPort });
    const [err] = (await once(refused, 'error')) as [NodeJS.ErrnoException];
    expect(err.code).toBe('ECONNREFUSED');
    const onNew = await p.bind({ listener: 'new' });
    expect((await onNew.submit()).command_status).toBe(Status.ESME_ROK);
    expect(onMain.unbinds).toHaveLength(0);
    expect(p.proxy.listeners.map((l) => l.name)).toEqual(['main', 'new']);
  });

  it('an invalid config changes nothing: problems returned, failure counted, traffic carries on', async () => {
    const [a, b] = [await sim(), await sim()];
    const raw = base(a, b);
    const p = await start(raw);
    const client = await p.bind();
    const running = p.proxy.config;

    const broken = structuredClone(raw);
    broken.routes = [{ name: 'all', cluster: 'b' }, { name: 'typo', cluster: 'nowhere' }];
    broken.clients = [{ system_id: 'acme', password: 'secret', throughput: -1 }];
    p.setConfig(broken);
    const result = await p.reload();
    expect(result.ok).toBe(false);
    expect(result.changes).toEqual([]);
    expect(result.problems).toEqual([
      'clients[0].throughput: must be zero or a positive number',
      'routes[1].cluster: unknown cluster "nowhere"',
    ]);
    expect(p.proxy.config).toBe(running);
    expect((await client.submit()).command_status).toBe(Status.ESME_ROK);
    expect(a.stats().submits).toBe(1);
    expect(b.stats().submits).toBe(0);

    p.setConfig(raw);
    expect((await p.reload()).ok).toBe(true);
    const text = await p.proxy.metrics.registry.metrics();
    expect(text).toContain('smppd_config_reloads_total{result="failure"} 1');
    expect(text).toContain('smppd_config_reloads_total{result="success"} 1');
  });

  it('reloads run one at a time: of three at once, the first applies the change and the others find none', async () => {
    const [a, b] = [await sim(), await sim()];
    const raw = base(a, b);
    const p = await start(raw);
    const next = structuredClone(raw);
    next.routes = [{ name: 'all', cluster: 'b' }];
    p.setConfig(next);
    const results = await Promise.all([p.reload(), p.reload(), p.reload()]);
    expect(results.map((r) => [r.ok, r.changes])).toEqual([
      [true, ['routes: changed all']],
      [true, []],
      [true, []],
    ]);
  });

  it('a cluster removed finishes the requests it holds, then unbinds; routes moved off it first', async () => {
    const [a, b] = [await sim(), await sim()];
    a.setOptions({ latencyMs: 300 });
    const raw = base(a, b);
    const p = await start(raw);
    const client = await p.bind();
    const held = client.submit();
    await eventually('the submit reached a', () => a.stats().submits === 1);

    const next = structuredClone(raw);
    next.clusters = [raw.clusters[1]!];
    next.routes = [{ name: 'all', cluster: 'b' }];
    await reloadWith(p, next);
    expect((await client.submit()).command_status).toBe(Status.ESME_ROK);
    expect((await held).command_status).toBe(Status.ESME_ROK);
    await eventually('a unbound', () => a.stats().bound === 0);
    expect([...p.proxy.clusters.keys()]).toEqual(['b']);
    // Its endpoint series leave /metrics with it.
    const series = `endpoint="127.0.0.1:${a.port}"`;
    await eventually('a series dropped', async () => !(await p.proxy.metrics.registry.metrics()).includes(series));
  });

  it("reloads when kubelet swaps the ConfigMap's ..data symlink under the config file", async () => {
    const [a, b] = [await sim(), await sim()];
    const dir = await mkdtemp(join(tmpdir(), 'smppd-reload-'));
    cleanup.add({ close: () => rm(dir, { recursive: true, force: true }) });
    // kubelet's AtomicWriter layout: ..<timestamp>/smppd.yaml, ..data -> ..<timestamp>, smppd.yaml -> ..data/smppd.yaml
    let generation = 0;
    let current = '';
    const publish = async (raw: Raw): Promise<void> => {
      const ts = `..2026_11_25_19_00_00.${++generation}`;
      await mkdir(join(dir, ts));
      await writeFile(join(dir, ts, 'smppd.yaml'), stringify(raw));
      if (current === '') {
        await symlink(ts, join(dir, '..data'));
        await symlink(join('..data', 'smppd.yaml'), join(dir, 'smppd.yaml'));
      } else {
        await symlink(ts, join(dir, '..data_tmp'));
        await rename(join(dir, '..data_tmp'), join(dir, '..data'));
        await rm(join(dir, current), { recursive: true });
      }
      current = ts;
    };
    const raw = base(a, b);
    await publish(raw);
    const file = join(dir, 'smppd.yaml');
    const p = cleanup.add(await startReloadableProxy(file));
    await upstreamsBound(p);
    const reloaded: Array<Promise<unknown>> = [];
    const watcher = watchConfig({ files: [file], debounceMs: 50, onChange: () => reloaded.push(p.reload()) });
    cleanup.add({ close: async () => watcher.close() });
    await watcher.ready;
    const client = await p.bind();

    const next = structuredClone(raw);
    next.routes = [{ name: 'all', cluster: 'b' }];
    await publish(next);
    await eventually('the swap was reloaded', () => p.proxy.config.routes[0]!.cluster === 'b');
    expect(await Promise.all(reloaded)).toEqual([expect.objectContaining({ ok: true, changes: ['routes: changed all'] })]);
    expect((await client.submit()).command_status).toBe(Status.ESME_ROK);
    expect(b.stats().submits).toBe(1);
  });
});
