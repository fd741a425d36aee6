// Public API of proxy/cluster: upstream SMSC clusters (SPEC §3 `clusters`, §4) and their primitives.

import type { ClusterConfig } from '../config/schema.js';
import { createUpstreamCluster } from './cluster.js';
import { createMockCluster } from './mock.js';
import type { Cluster, ClusterDeps } from './types.js';

export type {
  Cluster,
  ClusterDeps,
  ClusterHealth,
  ClusterLogger,
  EndpointHealth,
  EndpointState,
  SendOptions,
  SendResult,
  SendWaiter,
  UpstreamDelivery,
  UpstreamRequest,
} from './types.js';
export { ClusterError, ClusterErrorCode, clusterErrorStatus, isClusterError } from './errors.js';
export { AFFINITY_TTL_MS, endpointNames } from './cluster.js';
export { endpointKey } from './endpoint.js';
export { MOCK_ENDPOINT } from './mock.js';
export { sendWithPromise } from './pending.js';
export { createBalancer, BALANCER_KINDS } from './balancer.js';
export type { Balancer, BalancerKind, Candidate } from './balancer.js';
export { createCircuitBreaker, CIRCUIT_STATES } from './circuit-breaker.js';
export type { CircuitBreaker, CircuitState } from './circuit-breaker.js';
export { createBackoff, fullJitterDelay } from './backoff.js';
export type { Backoff } from './backoff.js';
export { createTokenBucket } from './token-bucket.js';
export type { TokenBucket } from './token-bucket.js';
export { createUpstreamCluster, createMockCluster };

/** The cluster for `config`: the embedded mock SMSC when `mock` is set, upstream endpoints otherwise. */
export function createCluster(config: ClusterConfig, deps: ClusterDeps): Cluster {
  return config.mock !== undefined ? createMockCluster(config, deps) : createUpstreamCluster(config, deps);
}
