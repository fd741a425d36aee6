// A whole smppd in the test process whose config source the test controls, for reload tests: the
// proxy reloads from `source()` (a config object as a user writes it, or a file path) exactly as
// SIGHUP / POST /config/reload make it reload from its file.

import { buildProxy, type Proxy, type ReloadResult } from '../../proxy/app.js';
import { loadConfig, parseConfig, type LoadResult } from '../../proxy/config/load.js';
import { createLogger } from '../../proxy/telemetry/logger.js';
import type { LogLevel } from '../../proxy/config/schema.js';
import { SmppClient } from '../../proxy/listener/testing.js';

export interface ReloadableProxy {
  proxy: Proxy;
  /** The port of listener `name` (default: the first). */
  port(name?: string): number;
  /** Replaces the config object reloads read (object sources only). */
  setConfig(raw: object): void;
  reload(): Promise<ReloadResult>;
  /** A node-smpp client bound as `type` through listener `listener`. */
  bind(opts?: { systemId?: string; password?: string; type?: 'transmitter' | 'receiver' | 'transceiver'; listener?: string }): Promise<SmppClient>;
  stop(): Promise<void>;
}

/** `source`: a config object (reloads read the latest setConfig) or a config file path. */
export async function startReloadableProxy(source: object | string, opts: { logLevel?: LogLevel } = {}): Promise<ReloadableProxy> {
  let raw = typeof source === 'string' ? undefined : source;
  const load = (): Promise<LoadResult> =>
    raw === undefined ? loadConfig(source as string, { env: {} }) : parseConfig(structuredClone(raw), { env: {} });
  const first = await load();
  if (!first.ok) throw new Error(`config problems:\n${first.problems.join('\n')}`);
  const proxy = buildProxy(first.config, { logger: createLogger({ level: opts.logLevel ?? 'silent' }), reloadConfig: load });
  await proxy.start();
  const clients: SmppClient[] = [];
  let stopped: Promise<void> | undefined;
  const port = (name?: string): number => {
    const addresses = proxy.addresses();
    const address = name === undefined ? addresses.values().next().value : addresses.get(name);
    if (address === undefined) throw new Error(`no listener ${name ?? ''} listening`);
    return address.port;
  };
  return {
    proxy,
    port,
    setConfig(next) {
      raw = next;
    },
    reload: () => proxy.reload(),
    async bind(o = {}) {
      const c = await SmppClient.connect(port(o.listener));
      clients.push(c);
      const status = await c.bind(o.type ?? 'transceiver', o.systemId ?? 'acme', o.password ?? 'secret');
      if (status !== 0) throw new Error(`bind refused with ${status}`);
      return c;
    },
    stop: () =>
      (stopped ??= (async () => {
        await proxy.stop();
        await Promise.all(clients.map((c) => c.close()));
      })()),
  };
}
