// A client of smppd for volume tests: our own session engine in the ESME role (windowed, so thousands
// of submits go out with a bounded number in flight), over TCP or TLS, collecting what smppd delivers.

import { EventEmitter, once } from 'node:events';
import net from 'node:net';
import tls, { type ConnectionOptions } from 'node:tls';
import { createSession, type BindType, type OutgoingRequest, type Session } from '../../proxy/session/index.js';
import { parseReceiptText } from '../../proxy/smpp/dlr.js';
import { decodePdu, Status, type PduOf } from '../../proxy/smpp/index.js';

export type Delivery = PduOf<'deliver_sm' | 'data_sm'>;
export type SubmitResp = PduOf<'submit_sm_resp'>;

export interface ClientOptions {
  port: number;
  bindType: BindType;
  systemId?: string;
  password?: string;
  /** Requests in flight at once (default 100). */
  window?: number;
  /** Connect over TLS with these options (host 127.0.0.1). */
  tls?: ConnectionOptions;
}

export interface EsmeClient {
  readonly session: Session;
  /** Every deliver_sm/data_sm received, in order; each was answered ESME_ROK. */
  readonly deliveries: Delivery[];
  /** Resolves once `count` deliveries arrived in all; rejects after `timeoutMs` saying how many did. */
  waitDeliveries(count: number, timeoutMs?: number): Promise<void>;
  /** submit_sm for each destination, `window` in flight; the responses in the same order. */
  submitMany(destinations: readonly string[], fields?: Partial<OutgoingRequest>): Promise<SubmitResp[]>;
  /**
   * Ids whose receipt came over the wire before their submit_sm_resp (read from the socket bytes, not
   * from when the session's promises settle): a client cannot match such a receipt to its message.
   */
  receiptsBeforeResponse(): string[];
  /** Unbinds and closes. */
  close(): Promise<void>;
}

/** Notes, per message id, whether its submit_sm_resp or a receipt was read first from the socket. */
function watchWireOrder(socket: net.Socket): Map<string, 'response' | 'receipt'> {
  const first = new Map<string, 'response' | 'receipt'>();
  let pending: Buffer = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (pending.length >= 4) {
      const length = pending.readUInt32BE(0);
      if (pending.length < length || length < 16) break;
      const decoded = decodePdu(pending.subarray(0, length));
      pending = pending.subarray(length);
      if (!decoded.ok) continue;
      const pdu = decoded.pdu;
      let id: string | undefined;
      let kind: 'response' | 'receipt' | undefined;
      if (pdu.command === 'submit_sm_resp') {
        id = pdu.message_id;
        kind = 'response';
      } else if (pdu.command === 'deliver_sm' || pdu.command === 'data_sm') {
        const ids = receiptIds(pdu);
        id = ids.tlv ?? ids.text;
        kind = 'receipt';
      }
      if (id !== undefined && kind !== undefined && !first.has(id)) first.set(id, kind);
    }
  });
  return first;
}

function connectSocket(port: number, tlsOptions: ConnectionOptions | undefined): Promise<net.Socket> {
  const socket =
    tlsOptions === undefined
      ? net.connect({ host: '127.0.0.1', port, noDelay: true })
      : tls.connect({ host: '127.0.0.1', port, ...tlsOptions }).setNoDelay(true);
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.once(tlsOptions === undefined ? 'connect' : 'secureConnect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
  });
}

/** Connects and binds (rejects when the bind is refused). */
export async function connectClient(o: ClientOptions): Promise<EsmeClient> {
  const window = o.window ?? 100;
  const socket = await connectSocket(o.port, o.tls);
  const wireOrder = watchWireOrder(socket);
  const session = createSession({
    socket,
    role: 'esme',
    window,
    windowMode: 'wait',
    maxQueue: 1_000_000,
    enquireLinkIntervalMs: 0,
  });
  session.on('error', () => {}); // failures show up as rejected requests and the close event
  const deliveries: Delivery[] = [];
  const events = new EventEmitter();
  session.on('request', (req) => {
    if (req.command === 'deliver_sm' || req.command === 'data_sm') {
      deliveries.push(req.pdu);
      req.respond(Status.ESME_ROK);
      events.emit('delivery');
    } else {
      req.respond(Status.ESME_RINVCMDID);
    }
  });
  try {
    await session.bind({ type: o.bindType, system_id: o.systemId ?? 'acme', password: o.password ?? 'secret' });
  } catch (err) {
    await session.close();
    throw err;
  }
  return {
    session,
    deliveries,
    async waitDeliveries(count, timeoutMs = 20_000) {
      if (deliveries.length >= count) return;
      const timeout = AbortSignal.timeout(timeoutMs);
      try {
        while (deliveries.length < count) await once(events, 'delivery', { signal: timeout });
      } catch {
        throw new Error(`waited ${timeoutMs} ms for ${count} deliveries, got ${deliveries.length}`);
      }
    },
    submitMany(destinations, fields = {}) {
      // The session's window (wait mode) keeps `window` in flight and queues the rest.
      return Promise.all(destinations.map((destination) => session.request(submitSm(destination, fields))));
    },
    receiptsBeforeResponse() {
      return [...wireOrder].filter(([, kind]) => kind === 'receipt').map(([id]) => id);
    },
    async close() {
      if (session.state !== 'closed') await session.unbind();
    },
  };
}

export function submitSm(destination: string, fields: Partial<OutgoingRequest> = {}): PduOf<'submit_sm'> {
  return {
    command: 'submit_sm',
    command_status: 0,
    sequence_number: 0,
    service_type: '',
    source_addr_ton: 1,
    source_addr_npi: 1,
    source_addr: '258840000001',
    dest_addr_ton: 1,
    dest_addr_npi: 1,
    destination_addr: destination,
    esm_class: 0,
    protocol_id: 0,
    priority_flag: 0,
    schedule_delivery_time: '',
    validity_period: '',
    registered_delivery: 1,
    replace_if_present_flag: 0,
    data_coding: 0,
    sm_default_msg_id: 0,
    short_message: Buffer.from('hello from the e2e test', 'latin1'),
    ...(fields as object),
  };
}

/** `count` distinct destinations under one prefix. */
export function destinations(count: number, prefix = '25884'): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}${String(i).padStart(7, '0')}`);
}

/** The ids a receipt carries: in its Appendix B text (`id:` field) and in receipted_message_id. */
export function receiptIds(pdu: Delivery): { text: string | undefined; tlv: string | undefined } {
  const sm = pdu.command === 'deliver_sm' && pdu.short_message.length > 0 ? pdu.short_message : pdu.tlvs?.message_payload;
  let text: string | undefined;
  if (sm !== undefined && sm.length > 0) {
    const parsed = parseReceiptText(sm);
    if (parsed.ok) text = parsed.receipt.id;
  }
  return { text, tlv: pdu.tlvs?.receipted_message_id };
}

/** How often each value occurs. */
export function tally<T>(values: Iterable<T>): Map<T, number> {
  const counts = new Map<T, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return counts;
}
