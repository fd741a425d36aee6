// What the forwarder needs from its neighbours: upstream clusters (proxy/cluster) and bound client
// sessions (proxy/listener), narrowed to the members it uses so tests can pass in-process fakes.
//
// Cluster failures are recognised by shape (`code` + `sent`), not by class, so any ClusterError that
// carries the documented codes works, whichever module defines the class.

import type { Cluster } from '../cluster/index.js';
import type { ClientRegistry, ClientSession } from '../listener/index.js';
import { ClusterErrorCode } from '../cluster/errors.js';

export type { SendOptions, SendResult, SendWaiter, UpstreamDelivery, UpstreamRequest } from '../cluster/index.js';
export { ClusterErrorCode };
/** Requests a client sends that the forwarder answers (the ones it sends upstream). */
export type { ClientRequestPdu as ClientRequest } from '../listener/index.js';

/** The part of a cluster the forwarder uses. */
export type ClusterPort = Pick<Cluster, 'name' | 'send' | 'sendWith' | 'available'>;

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

/** One bound client session, as the forwarder uses it. */
export type ClientSessionPort = Pick<ClientSession, 'id' | 'systemId' | 'canReceive' | 'deliver' | 'deliverWith'>;

/** Who is bound where, on this replica (the real ClientRegistry fits). */
export interface ClientRegistryPort {
  /** A receiver-capable session of the client (round robin), or undefined. */
  receiverFor(systemId: string): ClientSessionPort | undefined;
}

// The registry the listener builds must fit the port.
const _registryFits = (r: ClientRegistry): ClientRegistryPort => r;
void _registryFits;
