// Public API of the session engine (proxy/session): one SMPP session over a Duplex stream, both roles.
export { createSession } from './session.js';
export type {
  Authenticate,
  BindParams,
  BindRespPdu,
  BoundInfo,
  OutgoingRequest,
  ResponseTo,
  Session,
  SessionEvents,
  SessionOptions,
} from './session.js';
export { IncomingRequest } from './incoming.js';
export type { AnyIncomingRequest } from './incoming.js';
export { SessionError, SessionErrorCode, isSessionError, toEsmeStatus } from './errors.js';
export { CloseReason, systemTimers, silentLogger } from './types.js';
export type {
  BindType,
  CloseInfo,
  DataRequestName,
  DataRequestPdu,
  Role,
  SessionLogger,
  SessionState,
  SessionStats,
  Timers,
} from './types.js';
export type { WindowMode } from './window.js';
export type { BindPdu } from './dispatcher.js';
export { MAX_SEQUENCE, createSequence } from './sequence.js';
