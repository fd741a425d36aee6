// Who is bound where on this replica: bound sessions per client system_id, the bind count for
// max_binds, and round robin over a client's receiver-capable sessions for receipts and MO.
// One registry is shared by all listeners.

import type { ClientSession, MutableClientRegistry } from './types.js';

interface ClientEntry {
  readonly all: Set<ClientSession>;
  /** Receiver-capable sessions, in bind order; `next` is the round-robin position. */
  readonly receivers: ClientSession[];
  next: number;
}

export interface ClientRegistryOptions {
  /** Called when an onReceiverBound callback throws (default: rethrown on a later tick). */
  onError?: (err: unknown) => void;
}

function canBeReceiver(s: ClientSession): boolean {
  return s.bindType === 'receiver' || s.bindType === 'transceiver';
}

export function createClientRegistry(options: ClientRegistryOptions = {}): MutableClientRegistry {
  const clients = new Map<string, ClientEntry>();
  const receiverBound: Array<(systemId: string) => void> = [];
  let size = 0;
  const onError =
    options.onError ??
    ((err: unknown) => {
      queueMicrotask(() => {
        throw err;
      });
    });

  return {
    add(session) {
      let entry = clients.get(session.systemId);
      if (entry === undefined) {
        entry = { all: new Set(), receivers: [], next: 0 };
        clients.set(session.systemId, entry);
      }
      if (entry.all.has(session)) return;
      entry.all.add(session);
      size++;
      if (!canBeReceiver(session)) return;
      entry.receivers.push(session);
      // After the session is findable, so a callback draining kept receipts reaches it.
      for (const fn of receiverBound) {
        try {
          fn(session.systemId);
        } catch (err) {
          onError(err);
        }
      }
    },

    remove(session) {
      const entry = clients.get(session.systemId);
      if (entry === undefined || !entry.all.delete(session)) return;
      size--;
      const i = entry.receivers.indexOf(session);
      if (i !== -1) {
        entry.receivers.splice(i, 1);
        if (entry.next > i) entry.next--;
      }
      if (entry.all.size === 0) clients.delete(session.systemId);
    },

    receiverFor(systemId) {
      const entry = clients.get(systemId);
      if (entry === undefined) return undefined;
      const list = entry.receivers;
      // A session may be unbinding but not yet closed: skip it, look at each at most once.
      for (let tries = list.length; tries > 0; tries--) {
        if (entry.next >= list.length) entry.next = 0;
        const s = list[entry.next++]!;
        if (s.canReceive()) return s;
      }
      return undefined;
    },

    bindCount(systemId) {
      return clients.get(systemId)?.all.size ?? 0;
    },

    onReceiverBound(fn) {
      receiverBound.push(fn);
    },

    sessions() {
      const out: ClientSession[] = [];
      for (const entry of clients.values()) for (const s of entry.all) out.push(s);
      return out;
    },

    get size() {
      return size;
    },
  };
}
