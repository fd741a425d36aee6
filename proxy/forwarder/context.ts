// What every part of the forwarder shares: its dependencies, the compiled per-cluster policies and the
// options, built once by createForwarder.

import type { Rng } from '../cluster/backoff.js';
import type { Feedback } from '../feedback/feedback.js';
import type { RouteTable } from '../router/route-table.js';
import type { SessionLogger, Timers } from '../session/index.js';
import type { MessageIdGenerator } from '../store/message-id.js';
import type { MessageStore } from '../store/store.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { ClusterPolicy } from './policy.js';
import type { ClientRegistryPort, ClusterPort } from './ports.js';

export interface ForwarderOptions {
  /**
   * How long a client has to answer a deliver_sm (receipt or MO) before it is kept for later. Default 5 s:
   * the SMSC waits for our deliver_sm_resp meanwhile, and resends what it does not get in time.
   */
  deliveryTimeoutMs?: number;
  /** How long a receipt that arrived before its submit_sm_resp is held for matching. Default 60 s. */
  orphanTtlMs?: number;
  /** Kept deliveries claimed per store call when draining. Default 100. */
  drainBatch?: number;
  /** deliver_sm in flight to one client while draining. Default 10. */
  drainConcurrency?: number;
  /**
   * Lease of claimed deliveries: what a replica that died had claimed goes out again after it.
   * Deliveries a drain could not finish within it are released, not sent. Default max(10 s, 3 × deliveryTimeout).
   */
  drainLeaseMs?: number;
  /** How often clients with kept deliveries and a bound receiver are drained. Default 5 s. */
  sweepIntervalMs?: number;
  /** Delivery attempts a client may refuse (non-zero deliver_sm_resp) before the delivery is dropped. Default 10. */
  maxDeliveryAttempts?: number;
}

export interface ForwarderContext {
  /** Replaced as a whole by a config reload (Forwarder.update): a request routes on one table. */
  router: RouteTable;
  readonly clusters: ReadonlyMap<string, ClusterPort>;
  readonly store: MessageStore;
  readonly registry: ClientRegistryPort;
  readonly logger: SessionLogger;
  readonly metrics: Metrics | undefined;
  readonly feedback: Feedback | undefined;
  readonly ids: MessageIdGenerator;
  readonly timers: Timers;
  readonly rng: Rng;
  readonly options: Readonly<Required<ForwarderOptions>>;
  /** The retry policy and id format of a cluster (a default one for clusters outside the config). */
  policy(cluster: string): ClusterPolicy;
}

export function sleep(timers: Timers, ms: number): Promise<void> {
  return new Promise((resolve) => {
    timers.setTimeout(resolve, ms);
  });
}
