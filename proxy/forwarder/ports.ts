// What the forwarder needs from its neighbours: upstream clusters (proxy/cluster) and bound client
// sessions (proxy/listener). The shapes are the ones of the data-plane design; they are declared here
// so the forwarder compiles and is tested on its own, with in-process fakes.
//
// Cluster failures are recognised by shape (`code` + `sent`), not by class, so any ClusterError that
// carries the documented codes works, whichever module defines the class.

import type {
  CancelSm,
  DataSm,
  DeliverSm,
  Pdu,
  QuerySm,
  ReplaceSm,
  SubmitMulti,
  SubmitSm,
} from '../smpp/index.js';

/** Requests the forwarder sends upstream. */
export type UpstreamRequest = SubmitSm | DataSm | SubmitMulti | QuerySm | CancelSm | ReplaceSm;
/** Requests a client sends that the forwarder answers (same set). */
export type ClientRequest = UpstreamRequest;

export interface SendOptions {
  /** Remaining request budget for this attempt, ms. */
  timeoutMs: number;
  /** Multipart key: all sends with one key go to the same upstream session while it lives. */
  affinity?: string;
  /** Only this endpoint (query/cancel/replace go where the message is). */
  endpoint?: string;
  /** Endpoints to avoid (retry elsewhere). */
  exclude?: ReadonlySet<string>;
}

export interface SendResult {
  response: Pdu;
  endpoint: string;
  latencyMs: number;
}

export interface UpstreamDelivery {
  cluster: string;
  endpoint: string;
  pdu: DeliverSm | DataSm;
}

/** The part of a cluster the forwarder uses. */
export interface ClusterPort {
  readonly name: string;
  /** Resolves with the upstream's response whatever its status; rejects with a ClusterError otherwise. */
  send(pdu: UpstreamRequest, opts: SendOptions): Promise<SendResult>;
  /** Some endpoint bound with its circuit not open. */
  available(): boolean;
}

/** ClusterError codes (proxy/cluster). */
export const ClusterErrorCode = {
  UNAVAILABLE: 'UNAVAILABLE',
  TIMEOUT: 'TIMEOUT',
  DISCONNECT: 'DISCONNECT',
  QUEUE_FULL: 'QUEUE_FULL',
  THROTTLED: 'THROTTLED',
} as const;
export type ClusterErrorCode = (typeof ClusterErrorCode)[keyof typeof ClusterErrorCode];

/** What a ClusterError tells the retry policy. */
export interface ClusterFailure {
  readonly code: ClusterErrorCode;
  /** Might the upstream have seen the request. */
  readonly sent: boolean;
  readonly endpoint?: string | undefined;
}

const CODES: ReadonlySet<string> = new Set(Object.values(ClusterErrorCode));

/** The error as a ClusterFailure, or undefined when it is something else (a bug, a foreign error). */
export function asClusterFailure(err: unknown): ClusterFailure | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { code?: unknown; sent?: unknown };
  return typeof e.code === 'string' && CODES.has(e.code) && typeof e.sent === 'boolean'
    ? (err as ClusterFailure)
    : undefined;
}

/** One bound client session, as the forwarder sees it. */
export interface ClientSessionPort {
  readonly id: string;
  readonly systemId: string;
  /** Receiver or transceiver, and bound. */
  canReceive(): boolean;
  /** Send deliver_sm/data_sm to the client; resolves with its response status, rejects when it cannot. */
  deliver(pdu: DeliverSm | DataSm, timeoutMs: number): Promise<number>;
}

/** Who is bound where, on this replica. */
export interface ClientRegistryPort {
  /** A receiver-capable session of the client (round robin), or undefined. */
  receiverFor(systemId: string): ClientSessionPort | undefined;
}
