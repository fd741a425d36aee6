// A bound client session as the forwarder sees it (types.ts ClientSession): identity, and deliver()
// for receipts and MO going to the client.

import { SessionError, type BindType, type Session, type Timers } from '../session/index.js';
import { Status } from '../smpp/index.js';
import type { ClientDeliveryPdu, ClientSession } from './types.js';

export class BoundClient implements ClientSession {
  constructor(
    readonly id: string,
    readonly systemId: string,
    readonly bindType: BindType,
    readonly listener: string,
    readonly remoteAddress: string,
    private readonly session: Session,
    private readonly timers: Timers,
  ) {}

  canReceive(): boolean {
    const state = this.session.state;
    return state === 'bound_rx' || state === 'bound_trx';
  }

  deliver(pdu: ClientDeliveryPdu, timeoutMs: number): Promise<number> {
    const sent = this.session.request(pdu);
    return new Promise<number>((resolve, reject) => {
      // The session's own response timeout is request_timeout; a shorter per-call budget needs its own timer.
      let done = false;
      const timer = this.timers.setTimeout(() => {
        // It may be on the wire already: the client may still act on it (sent: true).
        settle(() => reject(new SessionError('TIMEOUT', `no ${pdu.command}_resp within ${timeoutMs} ms`, { sent: true })));
      }, timeoutMs);
      const settle = (fn: () => void): void => {
        if (done) return;
        done = true;
        this.timers.clearTimeout(timer);
        fn();
      };
      sent.then(
        (resp) => settle(() => resolve(resp.command_status)),
        (err: unknown) => {
          // A generic_nack is the client's answer, not a lost message.
          if (err instanceof SessionError && err.code === 'GENERIC_NACK') {
            const status = err.status === undefined || err.status === Status.ESME_ROK ? Status.ESME_RSYSERR : err.status;
            settle(() => resolve(status));
            return;
          }
          settle(() => reject(err as Error));
        },
      );
    });
  }
}
