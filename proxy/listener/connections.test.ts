// Connection-level limits over real TCP: firewall, max_connections, idle_timeout, and garbage input.

import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Status } from '../smpp/index.js';
import { createMetrics } from '../telemetry/metrics.js';
import { startListener, type Harness } from './testing.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

/** A raw TCP connection that records what it receives and when it closes. */
async function rawConnect(port: number): Promise<{ socket: Socket; received: () => number; closed: Promise<void> }> {
  const socket = connect({ host: '127.0.0.1', port });
  socket.on('error', () => {});
  let bytes = 0;
  socket.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
  });
  // Not once(): it rejects on 'error', and a reset is one way the server may close.
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await once(socket, 'connect');
  return { socket, received: () => bytes, closed };
}

/** Deterministic pseudo-random bytes (xorshift32), so a failure can be replayed. */
function pseudoRandomBytes(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

describe('firewall filter', () => {
  it('closes a denied connection at once, before reading anything, and counts it', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    h = await startListener({
      listener: { filters: [{ type: 'firewall', config: { deny: ['127.0.0.0/8'] } }] },
      deps: { metrics },
    });
    const raw = await rawConnect(h.port);
    raw.socket.write(Buffer.alloc(16)); // whatever it sends is never answered
    await raw.closed;
    expect(raw.received()).toBe(0);
    expect(h.listener.stats()).toMatchObject({ connections: 0, refused: { firewall: 1, max_connections: 0 } });
    expect(await metrics.registry.metrics()).not.toContain('smppd_connection_active{listener="test"} 1');
  });

  it('refuses addresses outside the allow list; an allow rule written as IPv4-mapped IPv6 admits 127.0.0.1', async () => {
    h = await startListener({ listener: { filters: [{ type: 'firewall', config: { allow: ['10.0.0.0/8'] } }] } });
    await (await rawConnect(h.port)).closed;
    expect(h.listener.stats().refused.firewall).toBe(1);
    await h.stop();

    h = await startListener({ listener: { filters: [{ type: 'firewall', config: { allow: ['::ffff:127.0.0.1'] } }] } });
    const c = await h.bound();
    expect((await c.submit()).command_status).toBe(Status.ESME_ROK);
    expect(h.listener.stats().refused.firewall).toBe(0);
  });
});

describe('max_connections', () => {
  it('closes connections beyond the limit at once and counts them; a freed slot can be used again', async () => {
    h = await startListener({ listener: { limits: { max_connections: 2 } } });
    const a = await h.bound();
    await h.bound();
    const third = await rawConnect(h.port);
    await third.closed;
    expect(third.received()).toBe(0);
    expect(h.listener.stats()).toMatchObject({ connections: 2, refused: { max_connections: 1, firewall: 0 } });

    await a.close();
    await expect.poll(() => h!.listener.stats().connections).toBe(1);
    const again = await h.bound();
    expect((await again.submit()).command_status).toBe(Status.ESME_ROK);
  });
});

describe('idle_timeout', () => {
  it('unbinds a bound client that sent nothing for idle_timeout, then closes', async () => {
    h = await startListener({ listener: { limits: { idle_timeout: '150ms' } } });
    const c = await h.bound('transceiver');
    await c.waitUnbind();
    await c.closed;
    expect(h.registry.bindCount('acme')).toBe(0);
  });

  it('closes a connection that never binds', async () => {
    h = await startListener({ listener: { limits: { idle_timeout: '100ms' } } });
    const raw = await rawConnect(h.port);
    await raw.closed;
    expect(raw.received()).toBe(0);
  });

  it('traffic keeps a session alive', async () => {
    h = await startListener({ listener: { limits: { idle_timeout: '200ms' } } });
    const idle = await h.bound('transmitter');
    const busy = await h.bound('transmitter');
    // The busy client sends an enquire_link every 50 ms (a quarter of idle_timeout) meanwhile.
    let enquired = 0;
    const ticker = setInterval(() => {
      busy.request('enquire_link').then(
        () => enquired++,
        () => {},
      );
    }, 50);
    await idle.waitUnbind();
    await idle.closed;
    clearInterval(ticker);
    expect(enquired).toBeGreaterThan(2);
    expect((await busy.submit()).command_status).toBe(Status.ESME_ROK);
    expect(busy.unbinds).toHaveLength(0);
  });
});

describe('garbage on a client connection', () => {
  it('1 MB of random bytes closes that session only; other clients are unaffected', async () => {
    h = await startListener();
    const good = await h.bound();
    const raw = await rawConnect(h.port);
    raw.socket.write(pseudoRandomBytes(1 << 20, 0x5eed));
    const during = good.submit();
    await raw.closed;
    expect((await during).command_status).toBe(Status.ESME_ROK);
    expect((await good.submit()).command_status).toBe(Status.ESME_ROK);
    await expect.poll(() => h!.listener.stats().connections).toBe(1);
  });

  it('1 MB of random PDUs with sane lengths gets answers (nacks), then an impossible length closes the session', async () => {
    h = await startListener();
    const good = await h.bound();
    const raw = await rawConnect(h.port);
    const body = pseudoRandomBytes(1 << 20, 0xbad);
    const frames: Buffer[] = [];
    let sent = 0;
    for (let at = 0; at + 16 <= body.length; ) {
      const len = 16 + (body.readUInt16BE(at) % 200);
      if (at + len > body.length) break;
      const frame = Buffer.from(body.subarray(at, at + len));
      frame.writeUInt32BE(len, 0);
      frames.push(frame);
      sent++;
      at += len;
    }
    raw.socket.write(Buffer.concat(frames));
    // Bind state checks and decoding answer most frames; wait until many answers came back.
    await expect.poll(() => raw.received(), { timeout: 5000 }).toBeGreaterThan(sent * 8);
    expect((await good.submit()).command_status).toBe(Status.ESME_ROK);
    const impossible = Buffer.alloc(16);
    impossible.writeUInt32BE(0x7fffffff, 0);
    raw.socket.write(impossible);
    await raw.closed;
    expect((await good.submit()).command_status).toBe(Status.ESME_ROK);
    expect(h.listener.stats().connections).toBe(1);
  });
});
