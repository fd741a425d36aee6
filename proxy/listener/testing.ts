// Test helpers for the client side (used by *.test.ts here; e2e may reuse them): a listener on
// 127.0.0.1 port 0 with config built through the real schema, a promise-style wrapper around the
// independent `smpp` npm package (node-smpp) as the client, and TLS certificates made at test time
// with the `openssl` CLI (node's crypto cannot issue X.509 certificates).

import { execFile } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { promisify } from 'node:util';
import { ConfigSchema, type ClientConfigInput, type ListenerConfigInput } from '../config/schema.js';
import { Status, responseFor, type Pdu } from '../smpp/index.js';
import { createLogger } from '../telemetry/logger.js';
import { createClientRegistry } from './client-registry.js';
import { createListener } from './listener.js';
import type {
  ClientRequestPdu,
  ClientSession,
  HandleRequest,
  Listener,
  ListenerDeps,
  MutableClientRegistry,
  RequestContext,
} from './types.js';
import { toHandleRequestWith } from './types.js';

// ---- node-smpp, typed as far as these tests use it (the package ships no types) ----------------

export interface NodeSmppPdu {
  command: string;
  command_status: number;
  sequence_number: number;
  message_id?: string;
  system_id?: string;
  response(options?: Record<string, unknown>): NodeSmppPdu;
  [field: string]: unknown;
}

interface NodeSmppSession extends EventEmitter {
  readonly socket: Socket;
  send(pdu: NodeSmppPdu, onResponse?: (pdu: NodeSmppPdu) => void): boolean;
  close(callback?: () => void): void;
  destroy(callback?: () => void): void;
}

interface NodeSmpp {
  connect(options: Record<string, unknown>): NodeSmppSession;
  PDU: new (command: string, options?: Record<string, unknown>) => NodeSmppPdu;
}

// createRequire rather than `import smpp from 'smpp'`: the CommonJS package has no type declarations,
// and an ambient `declare module 'smpp'` here could clash with another part's.
const smpp = createRequire(import.meta.url)('smpp') as NodeSmpp;

export type BindKind = 'transmitter' | 'receiver' | 'transceiver';

/** A node-smpp client session with promises; answers unbind and enquire_link itself, collects
 *  deliver_sm / data_sm for the test to answer. */
export class SmppClient {
  readonly delivered: NodeSmppPdu[] = [];
  readonly unbinds: NodeSmppPdu[] = [];
  readonly closed: Promise<void>;
  isClosed = false;
  /** Answer deliver_sm/data_sm automatically with this status (undefined: leave them unanswered). */
  autoAnswer: number | undefined = Status.ESME_ROK;
  private readonly events = new EventEmitter();

  private constructor(readonly session: NodeSmppSession) {
    session.on('error', () => {}); // connection resets are expected in several tests
    this.closed = new Promise((resolve) => {
      session.on('close', () => {
        this.isClosed = true;
        resolve();
      });
    });
    const collect = (pdu: NodeSmppPdu): void => {
      this.delivered.push(pdu);
      if (this.autoAnswer !== undefined) session.send(pdu.response({ command_status: this.autoAnswer }));
      this.events.emit('delivered');
    };
    session.on('deliver_sm', collect);
    session.on('data_sm', collect);
    session.on('enquire_link', (pdu: NodeSmppPdu) => session.send(pdu.response()));
    session.on('unbind', (pdu: NodeSmppPdu) => {
      this.unbinds.push(pdu);
      session.send(pdu.response());
      this.events.emit('unbind');
    });
  }

  static async connect(port: number, tls?: ConnectionOptions): Promise<SmppClient> {
    const session = smpp.connect({ host: '127.0.0.1', port, ...(tls === undefined ? {} : { tls: true, ...tls }) });
    const client = new SmppClient(session);
    await Promise.race([
      once(session, tls === undefined ? 'connect' : 'secureConnect'),
      client.closed.then(() => {
        throw new Error('connection closed before it was established');
      }),
    ]);
    return client;
  }

  /** Sends a request; resolves with its response (any status). */
  request(command: string, options: Record<string, unknown> = {}): Promise<NodeSmppPdu> {
    return new Promise((resolve, reject) => {
      const sent = this.session.send(new smpp.PDU(command, options), resolve);
      if (!sent) reject(new Error('socket not writable'));
      void this.closed.then(() => reject(new Error(`closed while waiting for ${command}_resp`)));
    });
  }

  /** Binds; resolves with the bind response's command_status. */
  async bind(type: BindKind, systemId = 'acme', password = 'secret'): Promise<number> {
    const resp = await this.request(`bind_${type}`, { system_id: systemId, password });
    return resp.command_status;
  }

  submit(fields: Record<string, unknown> = {}): Promise<NodeSmppPdu> {
    return this.request('submit_sm', {
      source_addr: '12345',
      destination_addr: '258840000001',
      short_message: 'hello',
      registered_delivery: 1,
      ...fields,
    });
  }

  /** Resolves once `count` deliver_sm/data_sm have arrived in all. */
  async waitDelivered(count: number): Promise<void> {
    while (this.delivered.length < count) await once(this.events, 'delivered');
  }

  async waitUnbind(): Promise<void> {
    if (this.unbinds.length === 0) await once(this.events, 'unbind');
  }

  async close(): Promise<void> {
    if (!this.isClosed) this.session.destroy();
    await this.closed;
  }
}

// ---- a listener on port 0 ------------------------------------------------------------------

export interface SeenRequest {
  client: ClientSession;
  pdu: ClientRequestPdu;
  ctx: RequestContext;
}

export interface Harness {
  listener: Listener;
  port: number;
  registry: MutableClientRegistry;
  /** Every request handed to handleRequest. */
  seen: SeenRequest[];
  /** Connects a node-smpp client (closed by stop()). */
  client(tls?: ConnectionOptions): Promise<SmppClient>;
  /** Connects and binds, asserting ESME_ROK. */
  bound(type?: BindKind, systemId?: string, password?: string): Promise<SmppClient>;
  stop(): Promise<void>;
}

/** Answers every request ESME_ROK; message ids "m1", "m2", ... */
export function acceptAll(): HandleRequest {
  let n = 0;
  return async (_client, pdu) => responseFor(pdu, Status.ESME_ROK, { message_id: `m${++n}` } as never) as Pdu;
}

export const DEFAULT_CLIENTS: ClientConfigInput[] = [{ system_id: 'acme', password: 'secret' }];

export async function startListener(
  opts: {
    listener?: Partial<ListenerConfigInput>;
    clients?: ClientConfigInput[];
    handleRequest?: HandleRequest;
    deps?: Partial<ListenerDeps>;
  } = {},
): Promise<Harness> {
  const config = ConfigSchema.parse({
    listeners: [{ name: 'test', address: '127.0.0.1:0', ...opts.listener }],
    clients: opts.clients ?? DEFAULT_CLIENTS,
  });
  const registry = opts.deps?.registry ?? createClientRegistry();
  const seen: SeenRequest[] = [];
  const handle = opts.handleRequest ?? acceptAll();
  const listener = createListener(config.listeners[0]!, {
    clients: config.clients,
    registry,
    logger: createLogger({ level: 'silent' }),
    handleRequest: toHandleRequestWith((client, pdu, ctx) => {
      seen.push({ client, pdu, ctx });
      return handle(client, pdu, ctx);
    }),
    ...opts.deps,
  });
  const { port } = await listener.start();
  const clients: SmppClient[] = [];
  const connect = async (tls?: ConnectionOptions): Promise<SmppClient> => {
    const c = await SmppClient.connect(port, tls);
    clients.push(c);
    return c;
  };
  return {
    listener,
    port,
    registry,
    seen,
    client: connect,
    async bound(type = 'transceiver', systemId = 'acme', password = 'secret') {
      const c = await connect();
      const status = await c.bind(type, systemId, password);
      if (status !== Status.ESME_ROK) throw new Error(`bind refused with ${status}`);
      return c;
    },
    async stop() {
      await listener.close();
      await Promise.all(clients.map((c) => c.close()));
      await listener.closeSessions(1000);
    },
  };
}

// ---- certificates --------------------------------------------------------------------------

export interface TestCertificates {
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

const run = promisify(execFile);

/**
 * A CA, a server certificate for 127.0.0.1/localhost and a client certificate, all signed by the CA,
 * written to `dir` (P-256 keys: quick to make). Needs the `openssl` CLI.
 */
export async function makeTestCertificates(dir: string): Promise<TestCertificates> {
  const p = (name: string): string => join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await run('openssl', ['req', '-x509', ...ec, '-keyout', p('ca.key'), '-out', p('ca.crt'), '-subj', '/CN=smppd test CA', '-days', '2']);
  await writeFile(p('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  await writeFile(p('client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const [who, serial] of [
    ['server', '1'],
    ['client', '2'],
  ] as const) {
    await run('openssl', ['req', ...ec, '-keyout', p(`${who}.key`), '-out', p(`${who}.csr`), '-subj', `/CN=smppd test ${who}`]);
    await run('openssl', [
      'x509', '-req', '-in', p(`${who}.csr`), '-CA', p('ca.crt'), '-CAkey', p('ca.key'), '-set_serial', serial,
      '-days', '2', '-extfile', p(`${who}.ext`), '-out', p(`${who}.crt`),
    ]);
  }
  return {
    caCert: p('ca.crt'),
    serverCert: p('server.crt'),
    serverKey: p('server.key'),
    clientCert: p('client.crt'),
    clientKey: p('client.key'),
  };
}
