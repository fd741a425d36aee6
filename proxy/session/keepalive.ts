// Keepalive and idle detection with one timer per session. Receiving bytes only records the time
// (no timer call per read); the timer, when it fires, compares against that time and re-arms for
// what is left. SMPP 3.4 §4.11: enquire_link checks the link when nothing else shows it is alive.

import type { TimerHandle, Timers } from './types.js';

export interface KeepaliveOptions {
  /** Send enquire_link after this long without receiving anything; 0 disables. */
  enquireLinkIntervalMs: number;
  /** Report idleness after this long without receiving anything; 0 disables. */
  idleTimeoutMs: number;
}

export interface KeepaliveHooks {
  /** Send one enquire_link; call `Keepalive.enquireLinkDone()` when it settles. */
  enquireLink(): void;
  /** Nothing was received for idleTimeoutMs. The keepalive stops itself. */
  idle(): void;
}

export class Keepalive {
  private lastRx: number;
  private timer: TimerHandle | undefined;
  private timerAt = 0;
  private enquireEnabled = false;
  private enquireOutstanding = false;
  private stopped = false;
  private readonly onTimerFn = (): void => this.onTimer();

  constructor(
    private readonly opts: KeepaliveOptions,
    private readonly timers: Timers,
    private readonly hooks: KeepaliveHooks,
  ) {
    this.lastRx = timers.now();
  }

  /** Something arrived from the peer. */
  touch(now: number): void {
    this.lastRx = now;
  }

  /** Enquire only while bound (SMPP 3.4 §2.3: enquire_link needs a bound session). */
  setEnquireEnabled(on: boolean): void {
    this.enquireEnabled = on;
    this.schedule();
  }

  enquireLinkDone(): void {
    this.enquireOutstanding = false;
    this.schedule();
  }

  /** New intervals (config reload), counted from the last receipt as before. */
  update(opts: Partial<KeepaliveOptions>): void {
    if (opts.enquireLinkIntervalMs !== undefined) this.opts.enquireLinkIntervalMs = opts.enquireLinkIntervalMs;
    if (opts.idleTimeoutMs !== undefined) this.opts.idleTimeoutMs = opts.idleTimeoutMs;
    // Re-arm from scratch: an armed timer may be later than a shortened interval allows.
    this.clear();
    this.schedule();
  }

  /** Starts idle detection (enquire_link waits for setEnquireEnabled). */
  start(): void {
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    this.clear();
  }

  private clear(): void {
    if (this.timer !== undefined) {
      this.timers.clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  /** The next time something may be due, or undefined when nothing is enabled. */
  private nextDue(): number | undefined {
    let due: number | undefined;
    if (this.opts.idleTimeoutMs > 0) due = this.lastRx + this.opts.idleTimeoutMs;
    if (this.enquireEnabled && !this.enquireOutstanding && this.opts.enquireLinkIntervalMs > 0) {
      const e = this.lastRx + this.opts.enquireLinkIntervalMs;
      if (due === undefined || e < due) due = e;
    }
    return due;
  }

  private schedule(): void {
    if (this.stopped) return;
    const due = this.nextDue();
    if (due === undefined) {
      this.clear();
      return;
    }
    // An armed timer that fires no later than `due` re-checks then; otherwise re-arm earlier.
    if (this.timer !== undefined && this.timerAt <= due) return;
    this.clear();
    this.timerAt = due;
    this.timer = this.timers.setTimeout(this.onTimerFn, Math.max(1, due - this.timers.now()));
  }

  private onTimer(): void {
    this.timer = undefined;
    if (this.stopped) return;
    const now = this.timers.now();
    const quiet = now - this.lastRx;
    if (this.opts.idleTimeoutMs > 0 && quiet >= this.opts.idleTimeoutMs) {
      this.stop();
      this.hooks.idle();
      return;
    }
    if (
      this.enquireEnabled &&
      !this.enquireOutstanding &&
      this.opts.enquireLinkIntervalMs > 0 &&
      quiet >= this.opts.enquireLinkIntervalMs
    ) {
      this.enquireOutstanding = true;
      this.hooks.enquireLink();
    }
    this.schedule();
  }
}
