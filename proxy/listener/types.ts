// The client side as the rest of smppd sees it: bound client sessions, the
// registry of who is bound, and what a listener needs from its owner.

import type { AddressInfo } from 'node:net';
import type { Counter } from 'prom-client';
import type { ClientConfig, ListenerConfig } from '../config/schema.js';
import type { AuthFailures, ClientRequestPdu, ClientThroughput } from '../filter/index.js';
import type { BindType, Timers } from '../session/index.js';
import type { Pdu, PduOf } from '../smpp/index.js';
import type { Logger } from '../telemetry/logger.js';
import type { ClientSlots } from './client-slots.js';
import type { Metrics } from '../telemetry/metrics.js';

export type { ClientRequestPdu } from '../filter/index.js';
export type ClientDeliveryPdu = PduOf<'deliver_sm' | 'data_sm'>;

/** One bound client session, as the forwarder sees it. */
export interface ClientSession {
  /** Unique in this process; in logs as `sessionId`. */
  readonly id: string;
  readonly systemId: string;
  readonly bindType: BindType;
  /** The listener's name. */
  readonly listener: string;
  /** The client's address as the socket reports it. */
  readonly remoteAddress: string;
  /** When it bound (epoch ms). */
  readonly boundAt: number;
  /**
   * Ends the session as a reload that removes its client does: requests in flight are answered,
   * then smppd sends unbind (admin `POST /sessions/:id/unbind`).
   */
  unbind(): void;
  /** Receiver or transceiver, and still bound. */
  canReceive(): boolean;
  /**
   * Sends a deliver_sm or data_sm to the client and resolves with the command_status of its
   * response (a generic_nack counts as an answer: its status). Rejects with the session's
   * SessionError when the session closes, unbinds, its queue is full (WINDOW_FULL), or no answer
   * comes within `timeoutMs` (TIMEOUT). Assigns `pdu.sequence_number` in place.
   */
  deliver(pdu: ClientDeliveryPdu, timeoutMs: number): Promise<number>;
  /**
   * deliver() answered through `done` instead of a promise: done.delivered(status) or
   * done.notDelivered(err) (deliver()'s rejection), exactly once, possibly before this returns.
   * What the forwarder calls once per receipt.
   */
  deliverWith(pdu: ClientDeliveryPdu, timeoutMs: number, done: DeliverDone): void;
}

/** Where ClientSession.deliverWith answers. */
export interface DeliverDone {
  /** The command_status of the client's response (deliver()'s result). */
  delivered(status: number): void;
  /** No answer: the session closed, unbound, its queue was full or the time ran out (deliver()'s rejection). */
  notDelivered(err: Error): void;
}

/** Who is bound where (this replica). */
export interface ClientRegistry {
  /** A receiver-capable session of the client, round robin; undefined when none is bound. */
  receiverFor(systemId: string): ClientSession | undefined;
  /** Sessions the client has bound now. */
  bindCount(systemId: string): number;
  /** `fn(systemId)` runs whenever a receiver-capable session binds (kept receipts can go out). */
  onReceiverBound(fn: (systemId: string) => void): void;
}

/** The registry as listeners maintain it. */
export interface MutableClientRegistry extends ClientRegistry {
  /** A session bound: it counts for bindCount and, if receiver-capable, for receiverFor. */
  add(session: ClientSession): void;
  /** A session closed or unbound. Idempotent. */
  remove(session: ClientSession): void;
  /** Every bound session (admin, shutdown). */
  sessions(): ClientSession[];
  readonly size: number;
}

export interface RequestContext {
  /** Epoch ms (the listener's clock, Date.now by default) by which the client must have its answer. */
  deadline: number;
  /** The listener's clock when the request arrived (the reading `deadline` was computed from). */
  receivedAt: number;
}

/** The forwarder: resolves with the response to send (its command_status and body are used; its
 *  sequence_number is not). A rejection is answered ESME_RSYSERR. */
export type HandleRequest = (client: ClientSession, pdu: ClientRequestPdu, ctx: RequestContext) => Promise<Pdu>;

/** Hears the forwarder's answer to one request, once. */
export interface RequestReply {
  /** The response to send (its command_status and body are used; its sequence_number is not). */
  answered(resp: Pdu): void;
  /** Answered ESME_RSYSERR. */
  failed(err: unknown): void;
}

/**
 * The forwarder as the listener calls it: HandleRequest without a promise, `reply` hears the answer
 * (possibly before this returns). One promise and its reaction fewer per message (bench: `npm run
 * bench`, through smppd). toHandleRequestWith adapts a HandleRequest.
 */
export type HandleRequestWith = (client: ClientSession, pdu: ClientRequestPdu, ctx: RequestContext, reply: RequestReply) => void;

export function toHandleRequestWith(handle: HandleRequest): HandleRequestWith {
  return (client, pdu, ctx, reply) => {
    let answer: Promise<Pdu>;
    try {
      answer = handle(client, pdu, ctx);
    } catch (err) {
      reply.failed(err);
      return;
    }
    replyWhenSettled(answer, reply);
  };
}

/** Tells `reply` how `answer` settles. */
export function replyWhenSettled(answer: Promise<Pdu>, reply: RequestReply): void {
  answer.then(
    (resp) => reply.answered(resp),
    (err: unknown) => reply.failed(err),
  );
}

/** The metrics a listener updates; `createMetrics()` satisfies it. `connectionsRefused` is optional
 *  until telemetry defines it (refusals are always in `stats()`). */
export type ListenerMetrics = Pick<Metrics, 'connectionActive' | 'clientSessions' | 'bindAttempts'> & {
  connectionsRefused?: Counter<'listener' | 'reason'>;
};

export interface ListenerDeps {
  clients: readonly ClientConfig[];
  registry: MutableClientRegistry;
  logger: Logger;
  metrics?: ListenerMetrics;
  handleRequest: HandleRequestWith;
  /** Clients' throughput buckets: pass one instance to every listener so the limit is per client. */
  throughput?: ClientThroughput;
  /** Bind failure slowdown per address: pass one instance to every listener. */
  authFailures?: AuthFailures;
  /** Clients' max_binds across all replicas (store.backend: redis); without it, this replica's count. */
  clientSlots?: ClientSlots;
  /** Clock and timers (tests); default the system's. */
  timers?: Timers;
  /** Waits `ms` before a failed bind is answered (tests record instead of waiting). */
  delay?: (ms: number) => Promise<void>;
  /** system_id in our bind responses (default 'smppd'). */
  systemId?: string;
}

export interface ListenerStats {
  /** Open connections (TCP accepted, not yet closed; TLS handshakes included). */
  connections: number;
  /** Bound sessions on this listener. */
  boundSessions: number;
  /** Connections refused at accept, by reason. */
  refused: { firewall: number; max_connections: number };
}

export interface Listener {
  readonly name: string;
  /** The config in force (update() replaces it). */
  readonly config: ListenerConfig;
  /** Reads the TLS files, listens; resolves with the bound address (port 0 -> the real port). */
  start(): Promise<AddressInfo>;
  /** Stops accepting connections; sessions stay (see closeSessions). */
  close(): Promise<void>;
  /**
   * Drains every session (SPEC §6): new requests are refused, those in flight are answered, then the
   * session unbinds (one not bound just closes). Resolves when all are closed; sessions still open
   * after `timeoutMs` are closed at once.
   */
  closeSessions(timeoutMs: number): Promise<void>;
  /**
   * A new `clients` list (config reload). Bound sessions stay bound, except those of a client no
   * longer in the list: they are drained (new requests refused, those in flight answered) and
   * unbound. Resolves when those sessions have closed.
   */
  updateClients(clients: readonly ClientConfig[]): Promise<void>;
  /**
   * The listener's changed config (same name): limits apply at once to the live sessions, filters
   * are recompiled, a new address or TLS on/off re-opens the accept socket (bound sessions stay), new
   * TLS files apply to new connections. Resolves with the address it accepts on (undefined before
   * start or after close). Rejects when the new address cannot be listened on: it then still
   * accepts on the old one.
   */
  update(config: ListenerConfig): Promise<AddressInfo | undefined>;
  stats(): ListenerStats;
}
