// Session-control requests (bind, unbind, enquire_link): outside the window, so a full window never
// blocks a keepalive or an unbind, each with its own timeout. There are at most a few at a time, so
// one timer each is fine here (data requests use the window's shared timer instead).

import type { Pdu } from '../smpp/index.js';
import { SessionError, type SessionErrorCode } from './errors.js';
import type { CloseReason, TimerHandle, Timers } from './types.js';

interface ControlEntry {
  responseId: number;
  timer: TimerHandle;
  resolve(pdu: Pdu): void;
  reject(err: Error): void;
}

export class ControlRequests {
  private readonly entries = new Map<number, ControlEntry>();
  timeouts = 0;

  constructor(private readonly timers: Timers) {}

  get size(): number {
    return this.entries.size;
  }

  has(seq: number): boolean {
    return this.entries.has(seq);
  }

  /** Tracks request `seq`; `resolve` is called synchronously when its response is dispatched. */
  add(
    seq: number,
    responseId: number,
    timeoutMs: number,
    resolve: (pdu: Pdu) => void,
    reject: (err: Error) => void,
  ): void {
    const timer = this.timers.setTimeout(() => {
      if (this.entries.delete(seq)) {
        this.timeouts++;
        reject(new SessionError('TIMEOUT', `no response within ${timeoutMs} ms`, { sent: true }));
      }
    }, timeoutMs);
    this.entries.set(seq, { responseId, timer, resolve, reject });
  }

  /** Removes the entry for `seq` and returns it with its timer cleared. */
  take(seq: number): { responseId: number; resolve(pdu: Pdu): void; reject(err: Error): void } | undefined {
    const e = this.entries.get(seq);
    if (e === undefined) return undefined;
    this.entries.delete(seq);
    this.timers.clearTimeout(e.timer);
    return e;
  }

  closeAll(code: SessionErrorCode, message: string, closeReason: CloseReason): void {
    const entries = [...this.entries.values()];
    this.entries.clear();
    for (const e of entries) {
      this.timers.clearTimeout(e.timer);
      e.reject(new SessionError(code, message, { sent: true, closeReason }));
    }
  }
}
