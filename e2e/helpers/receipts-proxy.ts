// A whole smppd (proxy/app.ts buildProxy) in the test process, built from a config object through the
// real schema, with its SMPP listener on 127.0.0.1 port 0; and a small "eventually" helper.

import { buildProxy, type Proxy } from '../../proxy/app.js';
import { parseConfig } from '../../proxy/config/load.js';
import { createLogger } from '../../proxy/telemetry/logger.js';
import type { LogLevel } from '../../proxy/config/schema.js';

export interface RunningProxy {
  proxy: Proxy;
  /** The first listener's port. */
  port: number;
  stop(): Promise<void>;
}

/**
 * Builds and starts a proxy. `raw` is a config as a user writes it (snake_case, durations as text);
 * every listener must use port 0. Rejects with the config's problems when it does not load.
 */
export async function startProxy(raw: object, opts: { logLevel?: LogLevel } = {}): Promise<RunningProxy> {
  const loaded = await parseConfig(raw, { env: {} });
  if (!loaded.ok) throw new Error(`config problems:\n${loaded.problems.join('\n')}`);
  const proxy = buildProxy(loaded.config, { logger: createLogger({ level: opts.logLevel ?? 'silent' }) });
  await proxy.start();
  const first = proxy.addresses().values().next().value;
  if (first === undefined) throw new Error('the proxy has no listener');
  let stopped: Promise<void> | undefined;
  return {
    proxy,
    port: first.port,
    stop: () => (stopped ??= proxy.stop()),
  };
}

/**
 * Resolves once `condition()` holds, checking every `intervalMs`; rejects after `timeoutMs` with
 * `what` and the last value `describe()` gives (for "eventually" assertions over other processes'
 * state, such as the proxy's store).
 */
export async function eventually(
  what: string,
  condition: () => boolean | Promise<boolean>,
  opts: { timeoutMs?: number; intervalMs?: number; describe?: () => unknown } = {},
): Promise<void> {
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) {
      const detail = opts.describe === undefined ? '' : `: ${JSON.stringify(opts.describe())}`;
      throw new Error(`timed out waiting until ${what}${detail}`);
    }
    await new Promise((resolve) => setTimeout(resolve, opts.intervalMs ?? 10));
  }
}

export interface SimProxyConfig {
  /** Cluster `message_id` (default auto). */
  messageId?: string;
  /** Client entries (default acme/secret). */
  clients?: object[];
  /** Listener fields besides name and address (e.g. tls, limits). */
  listener?: object;
  /** Endpoint fields besides address and credentials (e.g. tls, binds, window). */
  endpoint?: object;
}

/** A config with one listener on port 0, one cluster with one endpoint (a simulator), one catch-all route. */
export function simProxyConfig(simPort: number, o: SimProxyConfig = {}): object {
  return {
    listeners: [{ name: 'e2e', address: '127.0.0.1:0', limits: { window: 200 }, ...o.listener }],
    clients: o.clients ?? [{ system_id: 'acme', password: 'secret' }],
    clusters: [
      {
        name: 'sim',
        endpoints: [
          { address: `127.0.0.1:${simPort}`, system_id: 'smppd', password: 'pw', binds: 2, window: 100, ...o.endpoint },
        ],
        message_id: o.messageId ?? 'auto',
      },
    ],
    routes: [{ name: 'all', match: {}, cluster: 'sim' }],
  };
}

type Closable = { close(): Promise<unknown> } | { stop(): Promise<unknown> };

/** Things to close after each test, newest first: `afterEach(() => cleanup.run())`. */
export function cleanupList(): { add<T extends Closable>(x: T): T; run(): Promise<void> } {
  const items: Closable[] = [];
  return {
    add(x) {
      items.push(x);
      return x;
    },
    async run() {
      for (const x of items.splice(0).reverse()) await ('stop' in x ? x.stop() : x.close());
    },
  };
}
