// Opening bound ESME sessions to an SMPP server (smppd or the simulator), for the load generator and
// for holding many idle sessions.

import net from 'node:net';
import {
  createSession,
  isSessionError,
  type BindType,
  type Session,
  type SessionOptions,
} from '../../proxy/session/index.js';
import { statusName } from '../../proxy/smpp/index.js';

export interface ConnectOptions {
  host: string;
  port: number;
  systemId: string;
  password: string;
  systemType?: string;
  bindType: BindType;
  /** Session options besides socket and role. */
  session?: Omit<SessionOptions, 'socket' | 'role'>;
}

export class BindError extends Error {
  override readonly name = 'BindError';
  constructor(
    message: string,
    /** The bind response status, when the server answered. */
    readonly status: number | undefined,
  ) {
    super(message);
  }
}

function connectSocket(host: string, port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port, noDelay: true });
    const onError = (err: Error): void => reject(err);
    socket.once('error', onError);
    socket.once('connect', () => {
      socket.off('error', onError);
      resolve(socket);
    });
  });
}

/** Connects and binds; rejects with BindError (the session is closed then). */
export async function connectBound(o: ConnectOptions): Promise<Session> {
  let socket: net.Socket;
  try {
    socket = await connectSocket(o.host, o.port);
  } catch (err) {
    throw new BindError(`cannot connect to ${o.host}:${o.port}: ${(err as Error).message}`, undefined);
  }
  const session = createSession({ ...o.session, socket, role: 'esme' });
  session.on('error', () => {}); // reported through request failures and the close event
  try {
    await session.bind({
      type: o.bindType,
      system_id: o.systemId,
      password: o.password,
      ...(o.systemType === undefined ? {} : { system_type: o.systemType }),
    });
  } catch (err) {
    await session.close();
    const status = isSessionError(err) ? err.status : undefined;
    const why = status !== undefined ? statusName(status) : (err as Error).message;
    throw new BindError(`bind_${o.bindType} as ${o.systemId} to ${o.host}:${o.port} failed: ${why}`, status);
  }
  return session;
}

export interface IdleSessions {
  /** Sessions bound and still open. */
  readonly bound: number;
  /** Bind failures by reason (status name or error message). */
  readonly failures: Record<string, number>;
  /** Unbinds and closes them all. */
  close(): Promise<void>;
}

export interface IdleOptions extends Omit<ConnectOptions, 'bindType'> {
  count: number;
  bindType?: BindType;
  /** Binds in progress at once (default 200). */
  concurrency?: number;
}

/** Opens `count` bound sessions that send nothing (no enquire_link either) and answer what they get. */
export async function openIdleSessions(o: IdleOptions): Promise<IdleSessions> {
  const sessions: Session[] = [];
  const failures: Record<string, number> = {};
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < o.count) {
      next++;
      try {
        const s = await connectBound({
          ...o,
          bindType: o.bindType ?? 'transceiver',
          session: { enquireLinkIntervalMs: 0, ...o.session },
        });
        s.on('request', (req) => req.respond(0));
        sessions.push(s);
      } catch (err) {
        const key = err instanceof BindError && err.status !== undefined ? statusName(err.status) : (err as Error).message;
        failures[key] = (failures[key] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.count, o.concurrency ?? 200) }, worker));
  return {
    get bound() {
      return sessions.filter((s) => s.state !== 'closed').length;
    },
    failures,
    async close() {
      await Promise.all(sessions.map((s) => s.unbind()));
    },
  };
}
