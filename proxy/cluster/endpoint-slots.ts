// A cluster's `max_binds` (SPEC §3: max sessions per endpoint across all replicas) for one endpoint:
// before a slot (Conn) binds, it takes one of `max_binds` bind slots (store/fleet-limits.ts: in
// Redis for the fleet, else this replica's own) and holds it while its session lives. A slot
// that gets none stays idle and asks again after SLOT_RETRY_MS (jittered), so when another
// replica's session ends, a waiting replica takes the freed slot within about that long (or
// SLOT_TTL_MS when that replica died without releasing it).
//
// Limits: a lower max_binds applies to binds from then on; sessions already holding a slot keep it.

import type { Session, Timers } from '../session/index.js';
import type { BindSlots, SlotLease } from '../store/fleet-limits.js';

/** Pause before an endpoint with slots waiting asks for a bind slot again (plus up to 50% jitter). */
export const SLOT_RETRY_MS = 1_000;

export class EndpointSlots<C extends { session: Session | undefined }> {
  private readonly leases = new Map<C, SlotLease>();
  private timer: unknown;
  private closed = false;
  private readonly onTimer = (): void => {
    this.timer = undefined;
    this.wake();
  };

  constructor(
    private readonly slots: BindSlots,
    private readonly key: string,
    private readonly timers: Timers,
    private readonly rng: () => number,
    /** Try the idle slots again (Endpoint.pump). */
    private readonly wake: () => void,
  ) {}

  /**
   * Whether `conn` may bind now: no limit (max 0), a slot held already, or one taken now. When none
   * is free, a later wake() is scheduled.
   */
  async hold(conn: C, max: number): Promise<boolean> {
    if (max <= 0 || this.leases.has(conn)) return true;
    if (this.closed) return false;
    const lease = await this.slots.acquire(this.key, max, () => {
      // Someone else holds our slot now (Redis lost it): our session goes, the slot is tried again.
      if (this.leases.get(conn) === lease) this.leases.delete(conn);
      void conn.session?.unbind();
    });
    if (lease === undefined) {
      this.later();
      return false;
    }
    if (this.closed) {
      lease.release();
      return false;
    }
    this.leases.set(conn, lease);
    return true;
  }

  /** The slot of `conn` goes back when `session` closes (unless the slot was given back before). */
  attach(conn: C, session: Session): void {
    const lease = this.leases.get(conn);
    if (lease === undefined) return;
    void session.closed.then(() => {
      if (this.leases.get(conn) !== lease) return;
      this.leases.delete(conn);
      lease.release();
    });
  }

  /** Gives back the slot of `conn`, if it holds one. */
  release(conn: C): void {
    const lease = this.leases.get(conn);
    if (lease === undefined) return;
    this.leases.delete(conn);
    lease.release();
  }

  /** Endpoint closed: no more asking; slots still held go back when their sessions close. */
  close(): void {
    this.closed = true;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    for (const [conn, lease] of this.leases) {
      if (conn.session === undefined) {
        this.leases.delete(conn);
        lease.release();
      }
    }
  }

  private later(): void {
    if (this.closed || this.timer !== undefined) return;
    this.timer = this.timers.setTimeout(this.onTimer, Math.round(SLOT_RETRY_MS * (1 + this.rng() / 2)));
  }
}
