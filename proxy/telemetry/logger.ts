// Logger factory: JSON lines through pino, secrets redacted. main.ts calls createLogger once and passes
// the logger (or children of it) to every part; nothing here is a module-level singleton (STYLE rule 9).
//
// Habits (STYLE rule 10): constant messages, variables as fields, one child logger per session, and
// nothing built for a per-PDU log line unless `logger.isLevelEnabled('debug')` says it will be written.

import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from '../config/schema.js';

export type { Logger } from 'pino';

export interface LoggerOptions {
  /** SPEC §3 `log.level`; `silent` turns logging off. */
  level: LogLevel;
  /** Where the JSON lines go; default stdout (synchronous writes: nothing is lost when the process dies). */
  destination?: DestinationStream;
}

/** Fields that may hold credentials, at the top level and up to two objects down
 *  (`{ bind: { password } }`, `{ config: { auth: { password } } }`). */
export const REDACT_PATHS: readonly string[] = ['password', 'token', 'secret'].flatMap((key) => [
  key,
  `*.${key}`,
  `*.*.${key}`,
]);

export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      redact: { paths: [...REDACT_PATHS], censor: '***' },
      // `"level":"info"` rather than 30: log shippers and people read the name without a lookup table.
      formatters: { level: (label) => ({ level: label }) },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination,
  );
}

export interface SessionLogFields {
  sessionId: string | number;
  listener: string;
  /** Unknown until the client binds: make another child then. */
  systemId?: string | undefined;
  /** Peer address as `host:port`. */
  remote: string;
}

/** A child logger whose every line carries the session's identity (pino docs/child-loggers.md).
 *  Satisfies session/types.ts `SessionLogger`. */
export function sessionLogger(parent: Logger, fields: SessionLogFields): Logger {
  const { sessionId, listener, systemId, remote } = fields;
  const bindings = systemId === undefined ? { sessionId, listener, remote } : { sessionId, listener, systemId, remote };
  return parent.child(bindings);
}
