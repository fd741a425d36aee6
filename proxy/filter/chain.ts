// A listener's filters (SPEC §3 listeners[].filters, "applied in order"), compiled once per listener:
// the connection stage (firewall) runs when a connection is accepted, the request stage (rate_limit,
// then the client's own throughput) on every traffic request of a bound client. Within a stage the
// filters run in config order and the first refusal wins.

import type { ClientConfig, FilterConfig } from '../config/schema.js';
import { Status, type PduOf } from '../smpp/index.js';
import { createFirewall, type Firewall } from './firewall.js';
import { createClientThroughput, createRateLimit, type ClientThroughput, type KeyedLimiter } from './rate-limit.js';

/** The traffic requests a client may send us (deliver_sm flows the other way). */
export type ClientRequestPdu = PduOf<'submit_sm' | 'data_sm' | 'submit_multi' | 'query_sm' | 'cancel_sm' | 'replace_sm'>;

/** Why a connection was refused: the `reason` of logs and counters. */
export const ConnectionRefusal = {
  FIREWALL: 'firewall',
  MAX_CONNECTIONS: 'max_connections',
} as const;

export type ConnectionRefusal = (typeof ConnectionRefusal)[keyof typeof ConnectionRefusal];

export interface ListenerFilters {
  /** undefined when a client at `remoteAddress` may connect, else why not. */
  checkConnection(remoteAddress: string | undefined): ConnectionRefusal | undefined;
  /** ESME_ROK when the request may go on, else the status to answer it with. */
  checkRequest(systemId: string, pdu: ClientRequestPdu): number;
}

export interface FilterOptions {
  /** Clients' throughput buckets, shared by all listeners (default: this listener's own). */
  throughput?: ClientThroughput;
  /** For the default throughput buckets. */
  clients?: readonly ClientConfig[];
  /** Clock for the token buckets (ms; default performance.now). */
  now?: () => number;
}

/** Messages a request puts on the air: what `throughput` counts (SPEC §3 "submit_sm per second").
 *  data_sm and submit_multi count too, or they would be a way around the limit. */
export function messageCount(pdu: ClientRequestPdu): number {
  switch (pdu.command) {
    case 'submit_sm':
    case 'data_sm':
      return 1;
    case 'submit_multi':
      return Math.max(1, pdu.dest_addresses.length);
    default:
      return 0;
  }
}

export function compileFilters(filters: readonly FilterConfig[], options: FilterOptions = {}): ListenerFilters {
  const firewalls: Firewall[] = [];
  // rate_limit counts every traffic request (its key is `requests_per_second`): a flood of query_sm
  // costs store lookups and upstream capacity as much as submits do.
  const rateLimits: KeyedLimiter[] = [];
  for (const f of filters) {
    switch (f.type) {
      case 'firewall':
        firewalls.push(createFirewall(f.config));
        break;
      case 'rate_limit':
        rateLimits.push(createRateLimit(f.config, options.now));
        break;
    }
  }
  const throughput = options.throughput ?? createClientThroughput(options.clients ?? [], options.now);

  return {
    checkConnection(remoteAddress) {
      for (const fw of firewalls) if (!fw.allows(remoteAddress)) return ConnectionRefusal.FIREWALL;
      return undefined;
    },
    checkRequest(systemId, pdu) {
      for (const rl of rateLimits) if (!rl.take(systemId)) return Status.ESME_RTHROTTLED;
      const n = messageCount(pdu);
      if (n > 0 && !throughput.take(systemId, n)) return Status.ESME_RTHROTTLED;
      return Status.ESME_ROK;
    },
  };
}
