// Public API of the admin HTTP API (SPEC §5).
export { buildAdmin } from './admin.js';
export { adminDepsFromProxy } from './from-proxy.js';
export { authorize, bearerToken, isLoopbackAddress, tokenMatches } from './auth.js';
export type { AuthDecision } from './auth.js';
export { AdminErrorCode } from './errors.js';
export type { AdminErrorBody } from './errors.js';
export type { AdminStats } from './stats.js';
export type { AdminDeps, AdminListenerView, AdminSessionView, AdminStore, ReloadOutcome } from './types.js';
