import { once } from 'node:events';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { CommandId, FrameDecoder, Status, encodePdu } from '../smpp/index.js';
import { createSession } from './session.js';
import type { Session } from './session-api.js';
import { RawPeer, bindPdu } from './testing.js';

const N = 100_000;
/** query_sm with empty fields: 20 octets; answered with a 100-octet query_sm_resp. */
function queryBurst(n: number): Buffer {
  const one = 20;
  const buf = Buffer.alloc(n * one);
  for (let i = 0; i < n; i++) {
    const o = i * one;
    buf.writeUInt32BE(one, o);
    buf.writeUInt32BE(CommandId.query_sm, o + 4);
    buf.writeUInt32BE(0, o + 8);
    buf.writeUInt32BE(i + 1, o + 12);
    // message_id '', source_addr_ton 0, source_addr_npi 0, source_addr '' = four zero octets.
  }
  return buf;
}

/** The server side of each test: an SMSC-role session that binds anyone. */
function serverSession(socket: Duplex): Session {
  return createSession({ socket, role: 'smsc', systemId: 'smppd', authenticate: () => Status.ESME_ROK, enquireLinkIntervalMs: 0 });
}

/** A query_sm_resp of 100 octets. */
const QUERY_ANSWER = { message_id: 'M'.repeat(64), final_date: '250101120000000+', message_state: 2, error_code: 0 };
/** Its message_id as written: 64 octets and the NUL, after the 16-octet header. */
const ANSWER_ID_BYTES = `${'M'.repeat(64)}\0`;

describe('backpressure (real TCP)', () => {
  it('stops reading while the socket cannot write, resumes when the peer reads, buffers stay bounded', async () => {
    let session!: Session;
    let serverSocket!: net.Socket;
    /** Userland bytes held by the server side each time the session paused or resumed reading. */
    const samples: number[] = [];
    let pauses = 0;
    let firstPause!: () => void;
    const paused = new Promise<void>((resolve) => (firstPause = resolve));
    const server = net.createServer((sock) => {
      serverSocket = sock;
      session = serverSession(sock);
      session.on('request', (req) => {
        if (req.command === 'query_sm') req.respond(Status.ESME_ROK, QUERY_ANSWER);
      });
      const pause = sock.pause.bind(sock);
      sock.pause = () => {
        if (sock.writableNeedDrain) {
          pauses++;
          const st = session.stats();
          samples.push(st.readBuffered + st.writeBuffered);
          firstPause();
        }
        return pause();
      };
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as net.AddressInfo;
    const client = net.connect(port, '127.0.0.1');
    await once(client, 'connect');

    const peer = new RawPeer(client);
    peer.send(bindPdu('bind_transceiver'));
    expect((await peer.expect('bind_transceiver_resp')).command_status).toBe(0);

    // The client stops reading and sends a burst whose answers are five times its size.
    client.removeAllListeners('data');
    client.pause();
    const burst = queryBurst(N);
    client.write(burst);
    await paused;
    // Wait until the server is stalled: paused for a full socket, reading nothing more. (Transient
    // pauses also happen while writes are corked within a tick; they end with the next 'drain'.)
    let lastRead = -1;
    await vi.waitFor(
      () => {
        const read = serverSocket.bytesRead;
        const stalled = session.readingPaused && serverSocket.writableNeedDrain && read === lastRead;
        lastRead = read;
        expect(stalled).toBe(true);
      },
      { timeout: 10_000, interval: 20 },
    );
    // It stopped reading the burst part-way (the kernel buffers hold a few MB of answers), holding
    // little in userland.
    expect(serverSocket.bytesRead).toBeLessThan(burst.length);
    const st = session.stats();
    expect(st.readBuffered + st.writeBuffered).toBeLessThan(256 * 1024);

    // Now the client reads everything; every request is answered, in order, intact.
    const decoder = new FrameDecoder();
    let answered = 0;
    let inOrder = true;
    let intact = true;
    const done = new Promise<void>((resolve) => {
      client.on('data', (chunk: Buffer) => {
        decoder.push(chunk);
        for (let r = decoder.next(); r.kind === 'frame'; r = decoder.next()) {
          const f = r.frame;
          if (f.readUInt32BE(4) !== CommandId.query_sm_resp || f.readUInt32BE(12) !== answered + 1) inOrder = false;
          if (f.toString('latin1', 16, 81) !== ANSWER_ID_BYTES) intact = false;
          answered++;
        }
        if (answered === N) resolve();
      });
    });
    client.resume();
    await done;
    expect(inOrder).toBe(true);
    expect(intact).toBe(true);
    expect(session.readingPaused).toBe(false);
    // 10 MB of answers went through; the server side never held more than about one read (64 KiB)
    // plus the socket's write high-water mark (64 KiB).
    expect(pauses).toBeGreaterThan(0);
    expect(Math.max(...samples)).toBeLessThan(256 * 1024);

    client.end();
    await session.closed;
    expect(serverSocket.destroyed).toBe(true);
    server.close();
    await once(server, 'close');
  });

  it('answers written while a write waits for the socket arrive intact', async () => {
    // The session writes from a buffer it reuses once a write has let go of it (out-buffer.ts). Here
    // answers come later than their requests, as a proxy's do, so some are written while the client
    // is not reading and an earlier write still waits in the socket.
    let serverSocket!: net.Socket;
    const server = net.createServer((sock) => {
      serverSocket = sock;
      serverSession(sock).on('request', (req) => {
        if (req.command === 'query_sm') setImmediate(() => req.respond(Status.ESME_ROK, QUERY_ANSWER));
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    await once(client, 'connect');
    const peer = new RawPeer(client);
    peer.send(bindPdu('bind_transceiver'));
    expect((await peer.expect('bind_transceiver_resp')).command_status).toBe(0);
    client.removeAllListeners('data');

    const decoder = new FrameDecoder();
    const n = 60_000;
    let answered = 0;
    let bad = 0;
    const done = new Promise<void>((resolve) => {
      client.on('data', (chunk: Buffer) => {
        decoder.push(chunk);
        for (let r = decoder.next(); r.kind === 'frame'; r = decoder.next()) {
          const f = r.frame;
          answered++;
          const ok =
            f.readUInt32BE(4) === CommandId.query_sm_resp &&
            f.readUInt32BE(12) === answered &&
            f.toString('latin1', 16, 81) === ANSWER_ID_BYTES;
          if (!ok) bad++;
        }
        if (answered >= n) resolve();
      });
    });
    // Not reading until answers (~6 MB) have filled the socket buffers and wait in the session's socket.
    client.pause();
    client.write(queryBurst(n));
    await vi.waitFor(() => expect(serverSocket.writableNeedDrain).toBe(true), { timeout: 10_000, interval: 10 });
    client.resume();
    await done;
    expect({ answered, bad }).toEqual({ answered: n, bad: 0 });
    client.destroy();
    server.close();
    await once(server, 'close');
  });

  it('never writes into bytes a socket still holds from an earlier write', async () => {
    // A TCP socket whose writes we control: the first one is kept (as when the kernel took only part
    // of it), the rest are taken at once. The session must not reuse the buffer of the kept write.
    const writes: { data: Buffer; copy: Buffer }[] = [];
    class HeldSocket extends net.Socket {
      held = 0;
      constructor() {
        super();
        Object.defineProperty(this, 'writableLength', { get: () => this.held });
      }
      override write(data: Uint8Array | string): boolean {
        const buf = data as Buffer;
        writes.push({ data: buf, copy: Buffer.from(buf) });
        if (writes.length === 1) this.held = buf.length;
        return true;
      }
    }
    const socket = new HeldSocket();
    const session = serverSession(socket);
    socket.emit('data', encodePdu({ ...bindPdu('bind_transceiver'), command_status: 0, sequence_number: 1 } as never));
    await new Promise((resolve) => setImmediate(resolve));
    socket.held = 0; // the kept write is done: later writes may reuse buffers again
    for (let seq = 2; seq < 6; seq++) {
      socket.emit('data', encodePdu({ command: 'enquire_link', command_status: 0, sequence_number: seq }));
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(writes.map((w) => w.data.readUInt32BE(4))).toEqual([
      CommandId.bind_transceiver_resp,
      ...Array(4).fill(CommandId.enquire_link_resp),
    ]);
    // The kept write's bytes are still what they were when written.
    expect(writes[0]!.data.equals(writes[0]!.copy)).toBe(true);
    await session.close();
  });
});
