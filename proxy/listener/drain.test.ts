// Draining sessions (SPEC §6) and config reload of a listener: a client gets the answer to every
// request it sent before the unbind; removed clients lose their sessions, others keep them; limits,
// filters and the address change on a running listener.

import { once } from 'node:events';
import { connect, createServer, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigSchema, type ListenerConfigInput } from '../config/schema.js';
import { Status, responseFor, type Pdu } from '../smpp/index.js';
import { DEFAULT_CLIENTS, startListener, type Harness, type NodeSmppPdu, type SmppClient } from './testing.js';
import type { HandleRequest } from './types.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

/** A forwarder whose answers the test releases. */
function heldAnswers(): { handle: HandleRequest; waiting: () => number; releaseAll: () => void; arrived: Promise<void> } {
  const held: Array<() => void> = [];
  let n = 0;
  let arrivedResolve!: () => void;
  const arrived = new Promise<void>((resolve) => (arrivedResolve = resolve));
  return {
    handle: (_client, pdu) =>
      new Promise<Pdu>((resolve) => {
        held.push(() => resolve(responseFor(pdu, Status.ESME_ROK, { message_id: `m${++n}` } as never) as Pdu));
        arrivedResolve();
      }),
    waiting: () => held.length,
    releaseAll: () => {
      for (const release of held.splice(0)) release();
    },
    arrived,
  };
}

/** What a client received, in wire order: submit_sm_resp statuses and unbinds. */
function recordOrder(c: SmppClient): string[] {
  const events: string[] = [];
  c.session.on('pdu', (pdu: NodeSmppPdu) => {
    if (pdu.command === 'unbind') events.push('unbind');
    else if (pdu.command === 'submit_sm_resp') events.push(`resp ${pdu.command_status}`);
  });
  return events;
}

/** A port nobody listens on right now. */
async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function listenerConfig(input: Partial<ListenerConfigInput>) {
  return ConfigSchema.parse({ listeners: [{ name: 'test', address: '127.0.0.1:0', ...input }] }).listeners[0]!;
}

describe('closeSessions drains', () => {
  it('a submit in flight gets its submit_sm_resp before the unbind; new submits are refused meanwhile', async () => {
    const fwd = heldAnswers();
    h = await startListener({ handleRequest: fwd.handle });
    const c = await h.bound('transceiver');
    const events = recordOrder(c);
    const inFlight = c.submit();
    await fwd.arrived;

    await h.listener.close();
    const drained = h.listener.closeSessions(5000);
    const refused = await c.submit();
    expect(refused.command_status).toBe(Status.ESME_RSYSERR);
    expect(events).toEqual(['resp 8']); // the refusal; no unbind while the first submit is unanswered
    expect(fwd.waiting()).toBe(1);

    fwd.releaseAll();
    expect((await inFlight).command_status).toBe(Status.ESME_ROK);
    await drained;
    expect(events).toEqual(['resp 8', 'resp 0', 'unbind']);
    expect(h.registry.size).toBe(0);
  });

  it('a session with nothing in flight is unbound at once', async () => {
    h = await startListener();
    const c = await h.bound('receiver');
    await h.listener.closeSessions(5000);
    expect(c.unbinds).toHaveLength(1);
  });
});

describe('updateClients', () => {
  it("unbinds a removed client's sessions after their requests are answered; other clients stay bound", async () => {
    const fwd = heldAnswers();
    h = await startListener({
      handleRequest: fwd.handle,
      clients: [...DEFAULT_CLIENTS, { system_id: 'beta', password: 'b' }],
    });
    const acme = await h.bound('transceiver');
    const beta = await h.bound('transceiver', 'beta', 'b');
    const events = recordOrder(beta);
    const inFlight = beta.submit();
    await fwd.arrived;

    const removed = h.listener.updateClients(ConfigSchema.parse({ clients: DEFAULT_CLIENTS }).clients);
    fwd.releaseAll();
    await inFlight;
    await removed;
    await beta.closed;
    expect(events).toEqual(['resp 0', 'unbind']);
    expect(acme.unbinds).toHaveLength(0);
    expect(h.registry.bindCount('acme')).toBe(1);
    // The removed client cannot bind again.
    const again = await h.client();
    expect(await again.bind('transceiver', 'beta', 'b')).toBe(Status.ESME_RINVSYSID);
  });
});

describe('Listener.update', () => {
  it('a smaller window applies to the bound session at once', async () => {
    const fwd = heldAnswers();
    h = await startListener({ handleRequest: fwd.handle, listener: { limits: { window: 10 } } });
    const c = await h.bound('transmitter');
    const first = c.submit();
    await fwd.arrived;
    await h.listener.update(listenerConfig({ limits: { window: 1 } }));
    expect((await c.submit()).command_status).toBe(Status.ESME_RMSGQFUL);
    fwd.releaseAll();
    expect((await first).command_status).toBe(Status.ESME_ROK);
    expect(c.unbinds).toHaveLength(0);
  });

  it('a new firewall filter refuses new connections; the bound session stays', async () => {
    h = await startListener();
    const c = await h.bound('transceiver');
    await h.listener.update(listenerConfig({ filters: [{ type: 'firewall', config: { deny: ['127.0.0.0/8'] } }] }));
    const raw = connect({ host: '127.0.0.1', port: h.port });
    raw.on('error', () => {});
    await once(raw, 'close');
    expect(h.listener.stats().refused.firewall).toBe(1);
    expect((await c.submit()).command_status).toBe(Status.ESME_ROK);
  });

  it('a new address re-opens the accept socket: the old port refuses, the new one accepts, the bound session stays', async () => {
    h = await startListener();
    const c = await h.bound('transceiver');
    const oldPort = h.port;
    const port = await freePort();
    const address = await h.listener.update(listenerConfig({ address: `127.0.0.1:${port}` }));
    expect(address?.port).toBe(port);
    const refused = connect({ host: '127.0.0.1', port: oldPort });
    const err = (await once(refused, 'error').catch((e: unknown) => [e]))[0] as NodeJS.ErrnoException;
    expect(err.code).toBe('ECONNREFUSED');
    const fresh = connect({ host: address!.address, port: address!.port });
    await once(fresh, 'connect');
    fresh.destroy();
    expect((await c.submit()).command_status).toBe(Status.ESME_ROK);
  });

  it('an address that cannot be listened on is reported and the old one keeps accepting', async () => {
    h = await startListener();
    const other = await startListener();
    try {
      const update = h.listener.update(listenerConfig({ address: `127.0.0.1:${other.port}` }));
      await expect(update).rejects.toMatchObject({ code: 'EADDRINUSE' });
      expect(h.listener.config.address).toBe('127.0.0.1:0');
      // Still on the port it had, though its config says port 0.
      const c = await h.bound('transceiver');
      expect((await c.submit()).command_status).toBe(Status.ESME_ROK);
    } finally {
      await other.stop();
    }
  });
});
