// A client's `max_binds` across all replicas (issue 5, with `store.backend: redis`): besides the
// local count (filter/auth.ts), a bind takes one of the client's bind slots in Redis
// (store/fleet-limits.ts), held while the session lives. Taking a slot is atomic in Redis, so two
// binds on two replicas cannot both take the last one; no free slot (or Redis unreachable) refuses
// the bind with ESME_RBINDFAIL (SPEC §4: max_binds not allowed).

import type { BindSlots, SlotLease } from '../store/fleet-limits.js';

/** The fleet's bind slots as the listener uses them (ListenerDeps.clientSlots). */
export interface ClientSlots {
  readonly slots: BindSlots;
  /** Slot family key of a client (store/fleet-limits.ts clientSlotsKey). */
  keyOf(systemId: string): string;
}

/** The slot one client session holds, from its bind until it closes. */
export class SessionSlot {
  private lease: SlotLease | undefined;
  private gone = false;

  /** Takes a slot of `systemId` for this session; false when none is free. `onLost` closes the session. */
  async take(fleet: ClientSlots, systemId: string, max: number, onLost: () => void): Promise<boolean> {
    const lease = await fleet.slots.acquire(fleet.keyOf(systemId), max, onLost);
    if (lease === undefined) return false;
    // Closed while the slot was being taken: give it back at once.
    if (this.gone) lease.release();
    else this.lease = lease;
    return true;
  }

  /** The session closed. Idempotent. */
  release(): void {
    this.gone = true;
    this.lease?.release();
    this.lease = undefined;
  }
}
