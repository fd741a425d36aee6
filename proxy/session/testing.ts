// Test helpers (used by *.test.ts here and by other parts' tests): sessions over in-memory duplex
// pairs, and a raw peer that speaks PDUs (or arbitrary bytes) without a session, so tests can
// script exactly what the other side does.

import { duplexPair, type Duplex } from 'node:stream';
import { FrameDecoder, Status, decodePdu, encodePdu, type CommandName, type Pdu, type PduOf } from '../smpp/index.js';
import { createSession } from './session.js';
import type { Session, SessionOptions } from './session-api.js';
import { systemTimers, type Timers } from './types.js';

export type PartialSessionOptions = Omit<SessionOptions, 'socket' | 'role'>;

/** An ESME-role and an SMSC-role session connected back to back. The SMSC accepts every bind
 *  unless `smsc.authenticate` says otherwise. */
export function sessionPair(opts: { esme?: PartialSessionOptions; smsc?: PartialSessionOptions } = {}): {
  esme: Session;
  smsc: Session;
} {
  const [a, b] = duplexPair();
  const esme = createSession({ socket: a, role: 'esme', ...opts.esme });
  const smsc = createSession({
    socket: b,
    role: 'smsc',
    systemId: 'smppd',
    authenticate: () => Status.ESME_ROK,
    ...opts.smsc,
  });
  return { esme, smsc };
}

export type PduInput = {
  command: CommandName;
  sequence_number?: number;
  command_status?: number;
  [field: string]: unknown;
};

/** The far end of a session, driven by the test. */
export class RawPeer {
  readonly received: Pdu[] = [];
  /** Every frame received, as its bytes, in order (next() does not take them). */
  readonly frames: Buffer[] = [];
  ended = false;
  private readonly decoder = new FrameDecoder();
  private readonly waiters: Array<() => void> = [];
  private seq = 1000;

  constructor(readonly socket: Duplex) {
    socket.on('data', (chunk: Buffer) => {
      this.decoder.push(chunk);
      for (let r = this.decoder.next(); r.kind === 'frame'; r = this.decoder.next()) {
        const d = decodePdu(r.frame);
        if (!d.ok) throw new Error(`raw peer received a malformed PDU: ${d.reason}`);
        this.received.push(d.pdu);
        this.frames.push(Buffer.from(r.frame));
      }
      this.wake();
    });
    socket.on('end', () => {
      this.ended = true;
      this.wake();
    });
    socket.on('close', () => {
      this.ended = true;
      this.wake();
    });
    socket.on('error', () => {});
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Writes `pdu`; without a sequence_number it gets the next one of the peer's. */
  send(pdu: PduInput): Pdu {
    const full = { command_status: 0, sequence_number: ++this.seq, ...pdu } as Pdu;
    this.socket.write(encodePdu(full));
    return full;
  }

  sendBytes(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** Resolves with the next received PDU (in order), waiting if needed. */
  async next(): Promise<Pdu> {
    while (this.received.length === 0) {
      if (this.ended) throw new Error('raw peer: stream ended');
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    return this.received.shift()!;
  }

  /** Like next(), asserting the command. */
  async expect<N extends Pdu['command']>(command: N): Promise<PduOf<N>> {
    const pdu = await this.next();
    if (pdu.command !== command) {
      throw new Error(`raw peer expected ${command}, got ${pdu.command} (status ${pdu.command_status})`);
    }
    return pdu as PduOf<N>;
  }

  /** Resolves when the session ended the stream. */
  async untilEnded(): Promise<void> {
    while (!this.ended) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }
}

/** A session of `role` whose peer is a RawPeer. */
export function sessionWithRawPeer(
  role: SessionOptions['role'],
  opts: PartialSessionOptions = {},
): { session: Session; peer: RawPeer } {
  const [a, b] = duplexPair();
  const session = createSession({
    socket: a,
    role,
    ...(role === 'smsc' ? { systemId: 'smppd', authenticate: () => Status.ESME_ROK } : {}),
    ...opts,
  });
  return { session, peer: new RawPeer(b) };
}

/** Minimal field sets for building PDUs in tests. */
export function submitSm(
  fields: Partial<PduOf<'submit_sm'>> = {},
): Omit<PduOf<'submit_sm'>, 'sequence_number' | 'command_status'> {
  return {
    command: 'submit_sm',
    service_type: '',
    source_addr_ton: 1,
    source_addr_npi: 1,
    source_addr: '12345',
    dest_addr_ton: 1,
    dest_addr_npi: 1,
    destination_addr: '25884000001',
    esm_class: 0,
    protocol_id: 0,
    priority_flag: 0,
    schedule_delivery_time: '',
    validity_period: '',
    registered_delivery: 1,
    replace_if_present_flag: 0,
    data_coding: 0,
    sm_default_msg_id: 0,
    short_message: Buffer.from('hello'),
    ...fields,
  };
}

export function deliverSm(
  fields: Partial<PduOf<'deliver_sm'>> = {},
): Omit<PduOf<'deliver_sm'>, 'sequence_number' | 'command_status'> {
  return { ...submitSm(), command: 'deliver_sm', ...fields } as Omit<
    PduOf<'deliver_sm'>,
    'sequence_number' | 'command_status'
  >;
}

export function bindPdu(
  command: 'bind_transmitter' | 'bind_receiver' | 'bind_transceiver' = 'bind_transceiver',
  fields: Partial<PduOf<'bind_transceiver'>> = {},
): Omit<PduOf<typeof command>, 'sequence_number' | 'command_status'> {
  return {
    command,
    system_id: 'acme',
    password: 'secret',
    system_type: '',
    interface_version: 0x34,
    addr_ton: 0,
    addr_npi: 0,
    address_range: '',
    ...fields,
  } as Omit<PduOf<typeof command>, 'sequence_number' | 'command_status'>;
}

/** sessionWithRawPeer, bound as transceiver (the raw peer plays the other side of the bind). */
export async function boundWithRawPeer(
  role: SessionOptions['role'],
  opts: PartialSessionOptions = {},
): Promise<{ session: Session; peer: RawPeer }> {
  const { session, peer } = sessionWithRawPeer(role, opts);
  if (role === 'esme') {
    const bound = session.bind({ type: 'transceiver', system_id: 'me', password: 'pw' });
    const bind = await peer.expect('bind_transceiver');
    peer.send({ command: 'bind_transceiver_resp', sequence_number: bind.sequence_number, system_id: 'SMSC' });
    await bound;
  } else {
    peer.send(bindPdu('bind_transceiver'));
    const resp = await peer.expect('bind_transceiver_resp');
    if (resp.command_status !== Status.ESME_ROK) throw new Error(`bind refused: ${resp.command_status}`);
  }
  return { session, peer };
}

/** Tracks promises so a test can assert none is left pending. */
export function track<T>(p: Promise<T>): { promise: Promise<T>; settled: () => boolean } {
  let done = false;
  const promise = p.finally(() => {
    done = true;
  });
  promise.catch(() => {});
  return { promise, settled: () => done };
}

/** A hand-driven clock implementing Timers: nothing fires until advance(). */
export class ManualTimers {
  private time = 0;
  private nextId = 1;
  private readonly pending = new Map<number, { at: number; fn: () => void }>();

  now = (): number => this.time;

  setTimeout = (fn: () => void, ms: number): number => {
    const id = this.nextId++;
    this.pending.set(id, { at: this.time + ms, fn });
    return id;
  };

  clearTimeout = (handle: unknown): void => {
    this.pending.delete(handle as number);
  };

  /** Timers not yet fired or cleared. */
  get count(): number {
    return this.pending.size;
  }

  /** Moves the clock forward, firing due timers in deadline order. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      let nextId: number | undefined;
      let nextAt = Infinity;
      for (const [id, t] of this.pending) {
        if (t.at <= end && t.at < nextAt) {
          nextAt = t.at;
          nextId = id;
        }
      }
      if (nextId === undefined) break;
      const t = this.pending.get(nextId)!;
      this.pending.delete(nextId);
      this.time = t.at;
      t.fn();
    }
    this.time = end;
  }
}

/** The system clock and timers, counting the timers armed (tests of one-timer-for-many queues). */
export function countingTimers(): Timers & { armed: number } {
  const t = {
    armed: 0,
    now: () => systemTimers.now(),
    setTimeout: (fn: () => void, ms: number) => {
      t.armed++;
      return systemTimers.setTimeout(fn, ms);
    },
    clearTimeout: (h: unknown) => systemTimers.clearTimeout(h),
  };
  return t;
}
