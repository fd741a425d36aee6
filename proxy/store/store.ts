// The MessageStore contract: what the proxy keeps about messages between the client's submit and the
// upstream's receipts (SPEC §4 Receipts/MO, §3 `store`). Two backends implement it — memory (one
// replica) and Redis (shared by replicas) — and both must pass `runStoreContract` in contract.ts.
//
// Every method is async so the Redis backend can implement it; the memory backend does its work
// synchronously inside. Each method is one atomic step: in particular `setUpstreamId` (and
// `saveAccepted`) and `holdOrphan` cannot interleave, so a receipt that races its submit_sm_resp is
// never lost (FIELD-NOTES §3.1: "DLR before submit_sm_resp").

/** Longest message id smppd hands out (SMPP 3.4 §5.2.23: message_id is a C-Octet String of 65). */
export const MAX_MESSAGE_ID_LENGTH = 64;

/** What smppd remembers about one message a client submitted. */
export interface MessageRecord {
  /** smppd's own message id, the one the client received (message-id.ts). */
  readonly id: string;
  /** system_id of the client that submitted it; receipts go back to this client. */
  readonly client: string;
  /** Cluster that holds the message upstream (query_sm/cancel_sm/replace_sm go there). */
  readonly cluster: string;
  /** Endpoint address inside the cluster, when known. */
  readonly endpoint?: string;
  /** Name of the route that chose the cluster. */
  readonly routeName?: string;
  /** The upstream SMSC's message id, as written in its submit_sm_resp; absent until that arrives. */
  readonly upstreamId?: string;
  /** Epoch milliseconds of the client's submit. */
  readonly createdAt: number;
  /**
   * How many upstream submits this one client message became (segments of a long message the proxy
   * split, or a submit_multi fanned out to submit_sm); absent means one. Each of them calls
   * `setUpstreamId`, so every part's receipt maps back to this record.
   */
  readonly parts?: number;
}

/**
 * A PDU kept by the store: a plain object of the codec's fields (snake_case wire names). The store
 * treats it as opaque. Keep it data-only: strings, finite numbers, booleans, null, arrays, plain
 * objects and Buffers (serialise.ts writes Buffers as base64 for backends that need text).
 * The memory backend keeps the very object it was given: do not mutate it after handing it over.
 */
export type StoredPdu = object;

/** A receipt that arrived before its message's submit_sm_resp. */
export interface OrphanReceipt {
  /** The upstream's deliver_sm (or data_sm) fields, still carrying the upstream's id. */
  readonly pdu: StoredPdu;
  /** Epoch milliseconds it arrived. */
  readonly receivedAt: number;
  /**
   * Set on an orphan a shared store hands out (setUpstreamId, saveAccepted, reclaimOrphans) and
   * keeps until ackOrphans: the caller acknowledges it once the receipt is delivered or kept.
   */
  readonly token?: string;
}

/** A taken orphan nobody acknowledged in time (reclaimOrphans): deliver it for message `messageId`. */
export interface ReclaimedOrphan {
  readonly messageId: string;
  readonly receipt: OrphanReceipt;
}

/** A deliver_sm waiting for a receiver-capable session of its client. */
export interface DeliveryItem {
  readonly kind: 'receipt' | 'mo';
  /** The deliver_sm fields to send, already rewritten for the client (smppd's message id). */
  readonly pdu: StoredPdu;
  /** Epoch milliseconds it was produced. */
  readonly createdAt: number;
}

/** A delivery claimed by `takeDeliveries`: ack it after the client's deliver_sm_resp. */
export interface ClaimedDelivery {
  readonly deliveryId: string;
  readonly item: DeliveryItem;
  /** How many times it has been claimed, this claim included (1 on the first delivery attempt). */
  readonly attempts: number;
}

export interface StoreStats {
  /** Message records held. */
  readonly entries: number;
  /** Records dropped to stay under `max_entries` before their ttl (memory backend). */
  readonly evictions: number;
  /** Records dropped because their ttl passed. */
  readonly expirations: number;
  /** Deliveries not yet acknowledged (queued and claimed), all clients. */
  readonly pendingDeliveries: number;
  /** Deliveries dropped unacknowledged because their ttl passed. */
  readonly deliveriesExpired: number;
  /** Deliveries dropped to stay under the delivery bound (memory backend). */
  readonly deliveriesEvicted: number;
  /** Orphan receipts held. */
  readonly orphans: number;
  /** Orphan receipts whose message never got its upstream id in time: unknown receipts. */
  readonly orphansExpired: number;
  /** Orphan receipts dropped to stay under the orphan bound (memory backend). */
  readonly orphansEvicted: number;
  readonly memory: {
    /** Keys in the (cluster, upstream id) index. */
    readonly upstreamKeys: number;
    /** Rough size of what the store holds, in bytes (memory: estimated from counts; redis: used_memory). */
    readonly approxBytes: number;
  };
}

/**
 * Settled promises a store may return to say "done already": `save` resolving with nothing, and
 * `setUpstreamId` or `saveAccepted` resolving with no orphans. The memory backend returns these
 * shared ones rather than a new promise per call. (The per-message path does not await a promise at
 * all: it calls saveAcceptedWith.)
 */
export const STORE_DONE: Promise<void> = Promise.resolve();
export const STORE_NO_ORPHANS: Promise<readonly OrphanReceipt[]> = Promise.resolve(Object.freeze([]));

/** Where saveAcceptedWith answers. */
export interface SaveAcceptedDone {
  /** The record and its keys are stored; the orphan receipts it took (saveAccepted's result). */
  stored(orphans: readonly OrphanReceipt[]): void;
  /** Nothing was stored (saveAccepted's rejection). */
  notStored(err: unknown): void;
}

/** Where findByUpstreamWith answers. */
export interface FindDone {
  /** The message indexed under the first key that has one, or undefined (findByUpstream's result). */
  found(record: MessageRecord | undefined): void;
  /** The store failed (findByUpstream's rejection). */
  findFailed(err: unknown): void;
}

export interface MessageStore {
  /**
   * Store a record (call before the client is acknowledged). Saving an id that exists replaces its
   * record and restarts its ttl; upstream index keys already set for the id stay, but how long
   * differs between backends (Redis: the ttl from when each was set; memory: the record's new
   * ttl). smppd saves each id once, before its keys (submit_multi) or with them (saveAccepted),
   * and an id whose record expired is not saved again (smppd's ids are unique: message-id.ts);
   * stores-agree.test.ts leaves both cases out.
   * Rejects with INVALID_ARGUMENT for an empty id or one longer than MAX_MESSAGE_ID_LENGTH.
   * May return STORE_DONE.
   */
  save(record: MessageRecord): Promise<void>;

  /** The record for smppd's message id, or undefined when unknown or expired. */
  get(id: string): Promise<MessageRecord | undefined>;

  /**
   * The upstream answered: record its id and cluster on the message and index the message under
   * (cluster, key) for each key (the normalised readings of upstreamId for the cluster's
   * `message_id` mode, smpp/dlr.ts `messageIdKeys`). The record's `cluster` becomes `cluster` (a
   * retry may have gone to a fallback cluster) and its `endpoint` becomes `endpoint` when given
   * (it is dropped when the cluster changed and no endpoint is given).
   * Calling it again for the same id (parts, fan-out) adds keys; `upstreamId` holds the latest.
   * An index key that already points at another message now points at this one (ids reused upstream).
   *
   * Returns the orphan receipts held under any of the keys for this cluster, each once, oldest
   * first, and removes them from the store: the caller delivers them now.
   * Rejects with NOT_FOUND when the id is unknown or expired. May return STORE_NO_ORPHANS.
   */
  setUpstreamId(
    id: string,
    cluster: string,
    upstreamId: string,
    keys: readonly string[],
    endpoint?: string,
  ): Promise<readonly OrphanReceipt[]>;

  /**
   * `save(record)` then `setUpstreamId(record.id, cluster, upstreamId, keys, endpoint)` as one atomic
   * step: the stored record, its index keys, the stats and the orphans returned (and removed) are
   * those the two calls give. For a message that was accepted upstream before it was saved: a
   * backend with round trips (Redis) pays one operation per message instead of two.
   * Rejects with INVALID_ARGUMENT for an id `save` rejects (nothing is stored or indexed then).
   * May return STORE_NO_ORPHANS.
   */
  saveAccepted(
    record: MessageRecord,
    cluster: string,
    upstreamId: string,
    keys: readonly string[],
    endpoint?: string,
  ): Promise<readonly OrphanReceipt[]>;

  /**
   * saveAccepted answered through `done` instead of a promise: done.stored(orphans) or
   * done.notStored(err) (the rejection saveAccepted would give), exactly once, possibly before this
   * returns. What the forwarder calls, once per message: no promise and no reaction closures per
   * message (bench: `npm run bench`, Redis store).
   */
  saveAcceptedWith(
    record: MessageRecord,
    cluster: string,
    upstreamId: string,
    keys: readonly string[],
    endpoint: string | undefined,
    done: SaveAcceptedDone,
  ): void;

  /** The message indexed under (cluster, key) for the first key that has one, or undefined. */
  findByUpstream(cluster: string, keys: readonly string[]): Promise<MessageRecord | undefined>;

  /**
   * findByUpstream answered through `done` instead of a promise: done.found(record) or
   * done.findFailed(err), exactly once, possibly before this returns. What the forwarder calls, once
   * per receipt (Inbound's ReceiptJob).
   */
  findByUpstreamWith(cluster: string, keys: readonly string[], done: FindDone): void;

  /**
   * A receipt matched no message: hold it under (cluster, key) for each key for ttlMs, to be
   * returned by the `setUpstreamId` (or `saveAccepted`) that indexes one of those keys.
   * Atomic with `setUpstreamId` and `saveAccepted`: if a message was indexed under one of the keys since the caller's
   * `findByUpstream`, nothing is held and that record is returned, so the caller delivers now.
   * Resolves undefined when the receipt was held.
   */
  holdOrphan(
    cluster: string,
    keys: readonly string[],
    receipt: OrphanReceipt,
    ttlMs: number,
  ): Promise<MessageRecord | undefined>;

  /**
   * Shared stores keep the orphans setUpstreamId and saveAccepted hand out (their `token`) until
   * acknowledged here, once each receipt was delivered or kept: a replica that dies in between does
   * not lose them (reclaimOrphans). Absent: orphans are gone once handed out (one process).
   */
  ackOrphans?(tokens: readonly string[]): Promise<void>;

  /**
   * Up to `max` handed-out orphans whose acknowledgement did not come within the store's lease,
   * each leased again to this caller (ack it as above). Run periodically by every replica.
   */
  reclaimOrphans?(max: number): Promise<readonly ReclaimedOrphan[]>;

  /**
   * How many held receipts expired unmatched (unknown receipts: stats().orphansExpired) since any
   * caller last asked. Each expiry is handed to one caller only, so the counts replicas sharing a
   * store take add up to the fleet's (smppd_dlr_orphan_expired_total); the first call of a process
   * on a shared store that nobody has asked yet starts counting from then, not from the beginning.
   */
  takeOrphansExpired(): Promise<number>;

  /**
   * Queue a deliver_sm for a client that has no receiver-capable session right now. It stays until
   * acknowledged or until the store ttl passes. Returns its delivery id.
   */
  enqueueDelivery(client: string, item: DeliveryItem): Promise<string>;

  /**
   * Claim up to `max` of the client's queued deliveries, oldest first. A claimed delivery is not
   * handed out again until its lease (leaseMs, else the store's default) runs out without an ack or
   * a release; then it goes back to its place in the queue (at-least-once delivery).
   */
  takeDeliveries(client: string, max: number, leaseMs?: number): Promise<ClaimedDelivery[]>;

  /** The client acknowledged (deliver_sm_resp): forget the delivery. False when it was not pending. */
  ackDelivery(client: string, deliveryId: string): Promise<boolean>;

  /**
   * Give a claimed delivery back to the queue now (the session closed, or the client answered with an
   * error worth retrying). False when it was not pending.
   */
  releaseDelivery(client: string, deliveryId: string): Promise<boolean>;

  /** Unacknowledged deliveries (queued and claimed) for one client, or for all clients. */
  pendingCount(client?: string): Promise<number>;

  stats(): Promise<StoreStats>;

  /**
   * Whether the store can serve calls now (readiness: a shared backend may be unreachable while
   * this replica runs). Absent means always, while open.
   */
  healthy?(): boolean;

  /**
   * Call `listener` with the client's system_id each time a delivery is queued for it, by this
   * replica or (shared backends) any other, so the replica holding the client's receiver drains
   * at once. Best effort: a notice can be lost (Redis reconnecting), so drains must also run
   * periodically. Returns a function that removes the listener. Absent: no notices (poll).
   */
  onDeliveryQueued?(listener: (client: string) => void): () => void;

  /** Release resources; every later call rejects with CLOSED. Idempotent. */
  close(): Promise<void>;
}

/** Milliseconds since the epoch; injected so tests can move time. */
export type Clock = () => number;

/** Options every backend accepts. */
export interface StoreOptions {
  /** How long records and pending deliveries live (SPEC §3 `store.ttl`, 72h by default). */
  readonly ttlMs: number;
  /** Default lease of a claimed delivery before it returns to the queue. */
  readonly leaseMs?: number;
  readonly clock?: Clock;
}

export const DEFAULT_TTL_MS = 72 * 60 * 60 * 1000;
export const DEFAULT_LEASE_MS = 60_000;

export const StoreErrorCode = {
  /** A call after close(). */
  CLOSED: 'STORE_CLOSED',
  /** setUpstreamId for an id the store does not hold (never saved, expired or evicted). */
  NOT_FOUND: 'STORE_NOT_FOUND',
  /** A malformed argument (empty or over-long id, bad ttl). */
  INVALID_ARGUMENT: 'STORE_INVALID_ARGUMENT',
  /** The backend failed (Redis unreachable, command error). */
  BACKEND: 'STORE_BACKEND',
  /** Stored data could not be decoded. */
  CORRUPT: 'STORE_CORRUPT',
} as const;
export type StoreErrorCode = (typeof StoreErrorCode)[keyof typeof StoreErrorCode];

export class StoreError extends Error {
  override readonly name = 'StoreError';
  readonly code: StoreErrorCode;

  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export function isStoreError(err: unknown, code?: StoreErrorCode): err is StoreError {
  return err instanceof StoreError && (code === undefined || err.code === code);
}
