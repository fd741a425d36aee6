// Issue 4 acceptance, graceful shutdown (SPEC §6): SIGTERM to a real smppd process under load —
// readiness turns 503 at once, every request in flight at the signal is answered, clients receive
// unbind, and the process exits 0 within the drain timeout.

import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { afterEach, beforeAll, expect, it } from 'vitest';
import { Status } from '../proxy/smpp/index.js';
import { startSimulator } from './sim/index.js';
import { buildIfStale, spawnSmppd } from './helpers/dataplane-process.js';
import { cleanupList, eventually } from './helpers/receipts-proxy.js';
import { startLoad } from './helpers/reload-load.js';

const DRAIN_TIMEOUT_MS = 5_000;

const cleanup = cleanupList();
afterEach(() => cleanup.run());

beforeAll(async () => {
  await buildIfStale();
}, 180_000);

/** A port nobody listens on right now (the admin API needs a known one: it does not log port 0's). */
async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** GET /readyz: its status, or 0 when the admin API no longer answers. */
async function readyz(port: number): Promise<number> {
  try {
    return (await fetch(`http://127.0.0.1:${port}/readyz`)).status;
  } catch {
    return 0;
  }
}

it('SIGTERM under load: 503 at once, in-flight requests answered, clients unbound, exit 0 within the drain timeout', async () => {
  // Slow answers upstream, so requests are in flight when the signal comes.
  const sim = cleanup.add(await startSimulator({ latencyMs: 200 }));
  const adminPort = await freePort();
  const smppd = cleanup.add(
    await spawnSmppd({
      listeners: [{ name: 'main', address: '127.0.0.1:0', limits: { window: 500 } }],
      clients: [{ system_id: 'acme', password: 'secret' }],
      clusters: [
        { name: 'sim', endpoints: [{ address: `127.0.0.1:${sim.port}`, system_id: 'smppd', password: 'pw', binds: 2, window: 400 }] },
      ],
      routes: [{ name: 'all', cluster: 'sim' }],
      admin: { address: `127.0.0.1:${adminPort}` },
      shutdown: { drain_timeout: `${DRAIN_TIMEOUT_MS}ms` },
    }),
  );
  await eventually('smppd ready', async () => (await readyz(adminPort)) === 200);
  const exited = once(smppd.child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;

  const load = cleanup.add(await startLoad({ port: smppd.ports.get('main')!, binds: 4, rate: 1_500, window: 200 }));
  await eventually('load flowing', () => load.result().responses >= 1_000);
  const inFlight = load.outstanding;
  expect(inFlight).toBeGreaterThan(0);

  const sentAtSignal = load.sent;
  const signalledAt = performance.now();
  smppd.child.kill('SIGTERM');
  await eventually('readiness 503', async () => (await readyz(adminPort)) === 503, { intervalMs: 1 });
  const notReadyAfterMs = performance.now() - signalledAt;

  // Every client session is unbound by smppd, after its requests were answered.
  await load.allClosed();
  const [code, signal] = await exited;
  const exitAfterMs = performance.now() - signalledAt;

  const r = load.result();
  expect(load.unansweredAmong(sentAtSignal)).toBe(0);
  expect(r.unbindsReceived).toBe(4);
  expect(r.unmatchedResponses).toBe(0);
  // Those in flight at the signal were accepted upstream; later ones were refused while draining.
  expect(r.byStatus.get(Status.ESME_ROK)).toBeGreaterThanOrEqual(sentAtSignal);
  expect([...r.byStatus.keys()].every((s) => s === Status.ESME_ROK || s === Status.ESME_RSYSERR)).toBe(true);
  expect({ code, signal }).toEqual({ code: 0, signal: null });
  expect(notReadyAfterMs).toBeLessThan(500);
  expect(exitAfterMs).toBeLessThan(DRAIN_TIMEOUT_MS);
  expect(smppd.stderr()).toBe('');
}, 60_000);
