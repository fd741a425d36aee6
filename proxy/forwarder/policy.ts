// Per-cluster retry policy (SPEC §3 `clusters[].retry`, §4 Submit) compiled once from the config, and
// the classification of one upstream attempt: final, or worth another try.
//
// Duplicate safety (FIELD-NOTES §3.5, §5 "never resend blindly after a timeout"): a request that may
// have reached the SMSC (a TIMEOUT or DISCONNECT with `sent: true`) is sent again only when the
// operator listed `timeout` / `disconnect` in `retry.on`. A request that never left smppd
// (`sent: false`: queue full, cluster throttle, no session) is always safe to send elsewhere.

import { fullJitterDelay, type BackoffOptions, type Rng } from '../cluster/backoff.js';
import type { ClusterConfig } from '../config/schema.js';
import type { MessageIdMode } from '../smpp/dlr.js';
import { Status, statusName } from '../smpp/index.js';
import { asClusterFailure } from './ports.js';

export interface ClusterPolicy {
  readonly name: string;
  /** Attempts in total on this cluster, the first included. */
  readonly maxAttempts: number;
  /** undefined: retry at once (initial_backoff 0). */
  readonly backoff: BackoffOptions | undefined;
  /** Upstream command_status values worth another attempt. */
  readonly retryStatuses: ReadonlySet<number>;
  readonly retryTimeout: boolean;
  readonly retryDisconnect: boolean;
  readonly messageId: MessageIdMode;
  /** cluster `receipt_stats`: upper-cased stat word -> the stat clients get (inbound.ts). */
  readonly receiptStats: ReadonlyMap<string, string>;
  /** cluster `submit_multi` (submit.ts: Submitter.multi). */
  readonly submitMulti: 'auto' | 'native' | 'split';
  /** Endpoints in the cluster (1 for mock): when all were excluded, exclusion starts over. */
  readonly endpointCount: number;
}

const DEFAULT_RETRY_STATUSES = [Status.ESME_RTHROTTLED, Status.ESME_RMSGQFUL, Status.ESME_RSYSERR];

/** The policy of a cluster that has no config entry (tests, a cluster added outside the config). */
export function defaultPolicy(name: string): ClusterPolicy {
  return {
    name,
    maxAttempts: 3,
    backoff: { initialMs: 200, maxMs: 5000 },
    retryStatuses: new Set(DEFAULT_RETRY_STATUSES),
    retryTimeout: true,
    retryDisconnect: true,
    messageId: 'auto',
    receiptStats: new Map(),
    submitMulti: 'auto',
    endpointCount: 1,
  };
}

export function compilePolicy(c: ClusterConfig): ClusterPolicy {
  const r = c.retry;
  const statuses = new Set<number>();
  let retryTimeout = false;
  let retryDisconnect = false;
  for (const on of r.on) {
    if (on === 'timeout') retryTimeout = true;
    else if (on === 'disconnect') retryDisconnect = true;
    else statuses.add(on);
  }
  return {
    name: c.name,
    maxAttempts: Math.max(1, r.max_attempts),
    backoff: r.initial_backoff > 0 ? { initialMs: r.initial_backoff, maxMs: Math.max(r.initial_backoff, r.max_backoff) } : undefined,
    retryStatuses: statuses,
    retryTimeout,
    retryDisconnect,
    messageId: c.message_id,
    receiptStats: new Map(Object.entries(c.receipt_stats)),
    submitMulti: c.submit_multi,
    endpointCount: c.mock !== undefined ? 1 : Math.max(1, c.endpoints.length),
  };
}

/** Delay (ms) before retry number `retry` (0 = the first retry), full jitter. */
export function retryDelay(policy: ClusterPolicy, retry: number, rng: Rng): number {
  return policy.backoff === undefined ? 0 : fullJitterDelay(retry, policy.backoff, rng);
}

/** How one attempt that did not succeed ended. */
export interface Failure {
  /** The status to give the client if this stays the last word. */
  status: number;
  /** Worth another attempt (on this cluster or the next). */
  retriable: boolean;
  /** The cluster cannot take traffic now: go to the next cluster without using up attempts. */
  unavailable: boolean;
  /** Metric label: a status name, or timeout / disconnect / queue_full / throttled / unavailable / error. */
  reason: string;
  /** Endpoint that failed, to avoid on the next attempt. */
  endpoint: string | undefined;
}

/** An upstream response with a non-zero command_status. */
export function statusFailure(policy: ClusterPolicy, status: number, endpoint: string): Failure {
  return {
    status,
    retriable: policy.retryStatuses.has(status),
    unavailable: false,
    reason: statusName(status),
    endpoint,
  };
}

/**
 * A rejected send. Local failures map to the closest SMPP 3.4 §5.1.3 status: queue full →
 * ESME_RMSGQFUL, cluster throttle → ESME_RTHROTTLED, timeout / lost connection / no upstream →
 * ESME_RSYSERR (transient: clients resubmit it later). Anything that is not a ClusterError is a bug
 * somewhere below: ESME_RSYSERR, not retried.
 */
export function errorFailure(policy: ClusterPolicy, err: unknown): Failure {
  const f = asClusterFailure(err);
  if (f === undefined) {
    return { status: Status.ESME_RSYSERR, retriable: false, unavailable: false, reason: 'error', endpoint: undefined };
  }
  const endpoint = f.endpoint;
  switch (f.code) {
    case 'UNAVAILABLE':
      return { status: Status.ESME_RSYSERR, retriable: true, unavailable: true, reason: 'unavailable', endpoint };
    case 'QUEUE_FULL':
      return { status: Status.ESME_RMSGQFUL, retriable: !f.sent, unavailable: false, reason: 'queue_full', endpoint };
    case 'THROTTLED':
      return { status: Status.ESME_RTHROTTLED, retriable: !f.sent, unavailable: false, reason: 'throttled', endpoint };
    case 'TIMEOUT':
      return { status: Status.ESME_RSYSERR, retriable: !f.sent || policy.retryTimeout, unavailable: false, reason: 'timeout', endpoint };
    case 'DISCONNECT':
      return {
        status: Status.ESME_RSYSERR,
        retriable: !f.sent || policy.retryDisconnect,
        unavailable: false,
        reason: 'disconnect',
        endpoint,
      };
  }
}
