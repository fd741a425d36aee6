// Public API of the session engine (proxy/session): one SMPP session over a Duplex stream, both roles.
//
//   // upstream (we are the ESME): wait for a window slot, bounded queue
//   const up = createSession({ socket: net.connect(2775, host), role: 'esme', window: 10, windowMode: 'wait' });
//   await up.bind({ type: 'transceiver', system_id, password });
//   const resp = await up.request({ command: 'submit_sm', ...fields });   // submit_sm_resp, any status
//   up.on('request', (req) => { if (req.command === 'deliver_sm') req.respond(Status.ESME_ROK); });
//
//   // client side (we are the SMSC): authenticate decides binds; over-window requests get ESME_RMSGQFUL
//   const s = createSession({ socket, role: 'smsc', systemId: 'smppd', authenticate, incomingWindow: 100 });
//   s.on('request', (req) => req.respond(Status.ESME_ROK, { message_id }));
//   s.on('close', ({ reason }) => ...);   // every request settled, every timer cleared
export { createSession } from './session.js';
export type {
  Authenticate,
  BindParams,
  BindRespPdu,
  BoundInfo,
  OutgoingCall,
  OutgoingRequest,
  ResponseTo,
  Session,
  SessionEvents,
  SessionLimits,
  SessionOptions,
} from './session-api.js';
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
  TimerHandle,
  Timers,
} from './types.js';
export type { WindowMode } from './window.js';
export type { BindPdu } from './dispatcher.js';
export { MAX_SEQUENCE, createSequence } from './sequence.js';
