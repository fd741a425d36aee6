// Public API of the filters (proxy/filter): what a listener checks at connect, bind and request time.
export { compileCidrs, normaliseIp, parseIp } from './cidr.js';
export type { CidrSet, IpAddress } from './cidr.js';
export { createFirewall } from './firewall.js';
export type { Firewall } from './firewall.js';
export { BindOutcome, compileClients, isCredentialFailure } from './auth.js';
export type { BindDecision, BindRequest, ClientTable } from './auth.js';
export { createAuthFailures, failureKey } from './auth-failures.js';
export type { AuthFailureOptions, AuthFailures } from './auth-failures.js';
export { createClientThroughput, createRateLimit } from './rate-limit.js';
export type { ClientThroughput, KeyedLimiter } from './rate-limit.js';
export { createFleetClientThroughput } from './fleet-throughput.js';
export type { FleetThroughputOptions } from './fleet-throughput.js';
export { ConnectionRefusal, compileFilters, messageCount } from './chain.js';
export type { ClientRequestPdu, FilterOptions, ListenerFilters } from './chain.js';
