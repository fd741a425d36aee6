// Test support: a small upstream SMSC on 127.0.0.1 made of our session engine in SMSC role, so
// cluster tests run against real TCP (STYLE: no mocks of an SMPP peer). It counts what a test
// asserts on (binds, unbinds, outstanding requests per session) and lets a test wait for a
// condition by event instead of sleeping.

import { once } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { createSession, type BindPdu, type Session } from '../session/index.js';
import { Status, type DeliverSm, type Pdu } from '../smpp/index.js';

export interface TestSmscOptions {
  /** Port to listen on (0: any); a restarted SMSC passes the old one. */
  port?: number;
  /** Delay before answering each submit (ms); 0 answers at once. */
  latencyMs?: number;
  /** command_status for each submit (default ESME_ROK). */
  status?: (pdu: Pdu) => number;
  /** Bind decision (default: accept all). */
  authenticate?: (bind: BindPdu) => number;
  /** Serve TLS with this certificate. */
  tls?: { cert: Buffer; key: Buffer };
}

export interface ReceivedRequest {
  /** Which connection (in accept order, from 0) carried it. */
  conn: number;
  pdu: Pdu;
}

export interface TestSmsc {
  readonly port: number;
  readonly address: string;
  /** Connections accepted, bind attempts, successful binds, unbinds received. */
  readonly counts: { connections: number; bindAttempts: number; binds: number; unbinds: number };
  readonly received: ReceivedRequest[];
  /** Most requests awaiting our answer at once: per connection and over the whole server. */
  maxOutstanding(conn?: number): number;
  /** Bound sessions now. */
  bound(): number;
  /** Sends deliver_sm on the first bound session; resolves with the ESME's response status. */
  deliver(pdu: Omit<DeliverSm, 'sequence_number' | 'command_status'>): Promise<number>;
  /** Resolves once `predicate` holds, checked after every event of the SMSC. */
  waitFor(predicate: () => boolean): Promise<void>;
  /** Stops listening and cuts every connection without unbind (an SMSC crash). */
  kill(): Promise<void>;
  /** Stops listening and closes every session. */
  close(): Promise<void>;
}

export async function startTestSmsc(opts: TestSmscOptions = {}): Promise<TestSmsc> {
  const counts = { connections: 0, bindAttempts: 0, binds: 0, unbinds: 0 };
  const received: ReceivedRequest[] = [];
  const sessions = new Set<Session>();
  const sockets = new Set<Socket>();
  const outstanding: number[] = [];
  const maxByConn: number[] = [];
  let total = 0;
  let maxTotal = 0;
  let nextId = 1;
  const waiters: Array<{ predicate: () => boolean; resolve: () => void }> = [];

  function changed(): void {
    for (let i = waiters.length - 1; i >= 0; i--) {
      if (waiters[i]!.predicate()) waiters.splice(i, 1)[0]!.resolve();
    }
  }

  function onConnection(socket: Socket): void {
    const conn = counts.connections++;
    outstanding[conn] = 0;
    maxByConn[conn] = 0;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    const session = createSession({
      socket,
      role: 'smsc',
      systemId: 'testsmsc',
      window: 100,
      authenticate: (bind) => {
        counts.bindAttempts++;
        const status = opts.authenticate?.(bind) ?? Status.ESME_ROK;
        if (status === Status.ESME_ROK) counts.binds++;
        queueMicrotask(changed);
        return status;
      },
    });
    sessions.add(session);
    session.on('unbind', () => {
      counts.unbinds++;
      changed();
    });
    session.on('close', () => {
      sessions.delete(session);
      changed();
    });
    session.on('request', (req) => {
      received.push({ conn, pdu: req.pdu });
      outstanding[conn]!++;
      total++;
      if (outstanding[conn]! > maxByConn[conn]!) maxByConn[conn] = outstanding[conn]!;
      if (total > maxTotal) maxTotal = total;
      const answer = (): void => {
        outstanding[conn]!--;
        total--;
        const status = opts.status?.(req.pdu) ?? Status.ESME_ROK;
        if (req.command === 'submit_sm' || req.command === 'data_sm' || req.command === 'submit_multi') {
          req.respond(status, status === Status.ESME_ROK ? { message_id: String(nextId++) } : undefined);
        } else {
          req.respond(status);
        }
        changed();
      };
      changed();
      if ((opts.latencyMs ?? 0) > 0) setTimeout(answer, opts.latencyMs);
      else answer();
    });
  }

  const server: Server = opts.tls !== undefined ? createTlsServer(opts.tls, onConnection) : createServer(onConnection);
  server.listen(opts.port ?? 0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;

  function stopListening(): Promise<void> {
    return new Promise((resolve) => server.close(() => resolve()));
  }

  return {
    port,
    address: `127.0.0.1:${port}`,
    counts,
    received,
    maxOutstanding: (conn) => (conn === undefined ? maxTotal : (maxByConn[conn] ?? 0)),
    bound: () => [...sessions].filter((s) => s.state.startsWith('bound')).length,
    async deliver(pdu) {
      const session = [...sessions].find((s) => s.state === 'bound_trx' || s.state === 'bound_rx');
      if (session === undefined) throw new Error('test SMSC: no receiver-capable session bound');
      const resp = await session.request(pdu);
      return resp.command_status;
    },
    waitFor(predicate) {
      if (predicate()) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ predicate, resolve }));
    },
    async kill() {
      const stopped = stopListening();
      for (const s of sockets) s.destroy();
      await stopped;
    },
    async close() {
      const stopped = stopListening();
      await Promise.all([...sessions].map((s) => s.close()));
      await stopped;
    },
  };
}
