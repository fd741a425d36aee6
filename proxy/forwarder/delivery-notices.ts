// Cross-replica delivery (issue 5, SPEC §4 "kept until one binds ... then delivered"): a receipt or
// MO that arrives on a replica where its client has no receiver-capable session is kept in the
// store (Deliveries.deliver → enqueueDelivery). With a shared store (Redis) the store tells every
// replica (onDeliveryQueued); the replica that has a receiver of that client bound drains at once,
// so a receipt crosses replicas in about one Redis round trip instead of waiting for the sweep.
// Notices are best effort (lost while Redis reconnects): the periodic sweep stays the safety net,
// and a receiver that binds drains what was kept for it (onReceiverBound).

import type { MessageStore } from '../store/store.js';
import type { ClientRegistryPort } from './ports.js';

/**
 * Calls `drain(client)` for each delivery queued (by any replica) for a client that has a
 * receiver-capable session on this replica. Returns a function that stops listening; a no-op when
 * the store has no notices (memory: this replica queued it and drains it itself).
 */
export function followDeliveryNotices(
  store: Pick<MessageStore, 'onDeliveryQueued'>,
  registry: ClientRegistryPort,
  drain: (client: string) => void,
): () => void {
  if (store.onDeliveryQueued === undefined) return () => {};
  return store.onDeliveryQueued((client) => {
    if (registry.receiverFor(client) !== undefined) drain(client);
  });
}
