// Receipts and MO on their way to clients (SPEC §4: "kept until one binds (up to store.ttl), then
// delivered"; FIELD-NOTES §3.2, §5 "store and forward ... until acknowledged or expired").
//
// deliver(): to a receiver-capable session of the client now; when there is none, or it fails, the
// deliver_sm is kept in the store and the upstream is answered ESME_ROK only once it is kept (a store
// failure answers ESME_RX_T_APPN so the SMSC tries again later: nothing is dropped silently).
//
// Kept deliveries are drained (at-least-once) when a receiver binds (onReceiverBound), when the
// store tells of a delivery queued by any replica for a client bound here (delivery-notices.ts), and
// by a periodic sweep over clients with a bound receiver on this replica (the safety net, and what
// hands out again the claims of a replica that died, once their lease ran out). A delivery claimed
// before is counted in smppd_deliveries_redelivered_total when it goes out: a possible duplicate. One drain per client at a time on this replica; in order,
// up to `drainConcurrency` deliver_sm in flight; each is acknowledged in the store on the client's
// ESME_ROK and released on failure (tried again by a later drain).
//
// Client answers: ESME_RX_P_APPN / ESME_RX_R_APPN (SMPP 3.4 §5.1.3, permanent error / rejected) drop
// the delivery; other non-zero statuses are tried again, up to `maxDeliveryAttempts` claims, so one
// delivery a client keeps refusing does not hold up the ones behind it for the whole store ttl.

import type { DeliverDone } from '../listener/index.js';
import { Status, statusName } from '../smpp/index.js';
import type { ClaimedDelivery, DeliveryItem } from '../store/store.js';
import type { ForwarderContext } from './context.js';
import type { ClientSessionPort } from './ports.js';
import type { UpstreamPdu } from './receipts.js';

export type DeliveryKind = DeliveryItem['kind'];

/** The client refuses this delivery for good. */
function isPermanentRefusal(status: number): boolean {
  return status === Status.ESME_RX_P_APPN || status === Status.ESME_RX_R_APPN;
}

/** The client's deliver_sm_resp status, or 'failed' when the session could not deliver (closed, timeout). */
type DeliverResult = number | 'failed';

/** Where Deliveries.deliverWith answers: the status to answer the upstream with. */
export interface DeliveryAnswer {
  answered(status: number): void;
}

/** One direct delivery to a client session: hears the session's answer once, and hands it to Deliveries. */
class DeliveryAttempt implements DeliverDone {
  private settled = false;

  constructor(
    private readonly deliveries: Deliveries,
    private readonly client: string,
    private readonly pdu: UpstreamPdu,
    private readonly kind: DeliveryKind,
    private readonly answer: DeliveryAnswer,
  ) {}

  delivered(status: number): void {
    this.settle(status);
  }

  /** The session could not deliver (closed, timeout): the delivery is kept instead. */
  notDelivered(_err: Error): void {
    this.settle('failed');
  }

  private settle(result: DeliverResult): void {
    if (this.settled) return;
    this.settled = true;
    this.deliveries.afterAttempt(this.client, this.pdu, this.kind, result, this.answer);
  }
}

export class Deliveries {
  private readonly ctx: ForwarderContext;
  /** The drain running per client on this replica, and whether one more pass was asked for (forced). */
  private readonly running = new Map<string, Promise<void>>();
  private readonly again = new Map<string, boolean>();
  /** Clients whose last drain failed, until when unforced drains (a new delivery kept) wait for the sweep. */
  private readonly coolUntil = new Map<string, number>();
  /** Clients this replica kept deliveries for (the sweep also looks at every configured client). */
  private readonly pendingClients = new Set<string>();
  /** The configured clients (replaced by a config reload). */
  knownClients: readonly string[];
  /** Also run by each sweep, after the drains are started (Inbound.sweep). */
  onSweep: (() => Promise<void>) | undefined;
  private sweepTimer: unknown;
  private closed = false;

  constructor(ctx: ForwarderContext, knownClients: readonly string[]) {
    this.ctx = ctx;
    this.knownClients = knownClients;
  }

  /**
   * Deliver `pdu` (an object the caller hands over: it may be kept in the store as is) to `client`.
   * Resolves with the status to answer the upstream: ESME_ROK when delivered or kept, the client's
   * permanent refusal, or ESME_RX_T_APPN when it could be neither delivered nor kept.
   */
  deliver(client: string, pdu: UpstreamPdu, kind: DeliveryKind): Promise<number> {
    return new Promise((resolve) => this.deliverWith(client, pdu, kind, { answered: resolve }));
  }

  /**
   * deliver() answered through `answer` instead of a promise, exactly once, possibly before this
   * returns. What a receipt takes (Inbound's ReceiptJob): no promise and no async frame per receipt
   * on the way to the client (bench: `npm run bench`, with receipts).
   */
  deliverWith(client: string, pdu: UpstreamPdu, kind: DeliveryKind, answer: DeliveryAnswer): void {
    const session = this.ctx.registry.receiverFor(client);
    if (session === undefined) {
      this.keepFor(client, pdu, kind, answer);
      return;
    }
    const attempt = new DeliveryAttempt(this, client, pdu, kind, answer);
    try {
      session.deliverWith(pdu, this.ctx.options.deliveryTimeoutMs, attempt);
    } catch (err) {
      attempt.notDelivered(err as Error);
    }
  }

  /** What the client's answer to a direct delivery means for the upstream (DeliveryAttempt). */
  afterAttempt(client: string, pdu: UpstreamPdu, kind: DeliveryKind, result: DeliverResult, answer: DeliveryAnswer): void {
    if (result === Status.ESME_ROK) {
      answer.answered(Status.ESME_ROK);
      return;
    }
    if (result !== 'failed' && isPermanentRefusal(result)) {
      this.ctx.logger.warn({ client, kind, status: statusName(result) }, 'client refused a delivery for good; dropped');
      answer.answered(result);
      return;
    }
    this.keepFor(client, pdu, kind, answer);
  }

  /** keep(), its status told to `answer`. */
  private keepFor(client: string, pdu: UpstreamPdu, kind: DeliveryKind, answer: DeliveryAnswer): void {
    void this.keep(client, pdu, kind).then((status) => answer.answered(status));
  }

  /**
   * No receiver took it: kept in the store for the next drain. ESME_ROK once kept, ESME_RX_T_APPN
   * when the store failed (the SMSC tries again later: nothing is dropped silently).
   */
  private async keep(client: string, pdu: UpstreamPdu, kind: DeliveryKind): Promise<number> {
    try {
      await this.ctx.store.enqueueDelivery(client, { kind, pdu, createdAt: this.ctx.timers.now() });
    } catch (err) {
      this.ctx.logger.error({ err, client, kind }, 'store failed to keep a delivery; answered ESME_RX_T_APPN');
      return Status.ESME_RX_T_APPN;
    }
    this.pendingClients.add(client);
    // A receiver may have bound since we looked, or another session of the client may do better.
    if (this.ctx.registry.receiverFor(client) !== undefined) void this.drain(client, false);
    return Status.ESME_ROK;
  }

  private async send(session: ClientSessionPort, pdu: UpstreamPdu): Promise<DeliverResult> {
    try {
      return await session.deliver(pdu, this.ctx.options.deliveryTimeoutMs);
    } catch {
      return 'failed';
    }
  }

  /**
   * Drain the client's kept deliveries; resolves when this drain is over. While one runs for the
   * client, the call joins it and asks for one more pass after it: `force` (a receiver bound, the
   * sweep) even when the running pass failed, else (a new delivery was kept) only if it went well.
   * After a failed pass, unforced drains wait for the next sweep or bind: a failing client is not
   * hammered once per incoming receipt.
   */
  drain(client: string, force: boolean): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (force) this.coolUntil.delete(client);
    else if (this.coolUntil.has(client)) {
      if (this.ctx.timers.now() < (this.coolUntil.get(client) as number)) return Promise.resolve();
      this.coolUntil.delete(client);
    }
    const running = this.running.get(client);
    if (running !== undefined) {
      this.again.set(client, force || this.again.get(client) === true);
      return running;
    }
    const pass = this.drainLoop(client);
    this.running.set(client, pass);
    return pass;
  }

  private async drainLoop(client: string): Promise<void> {
    try {
      for (;;) {
        const ok = await this.drainOnce(client);
        if (!ok) this.coolUntil.set(client, this.ctx.timers.now() + this.ctx.options.sweepIntervalMs);
        const again = this.again.get(client);
        this.again.delete(client);
        // Decided and unregistered in one synchronous step (the finally below): a drain() call
        // either joins before this check or starts a new pass after it.
        if (this.closed || again === undefined || (!ok && !again)) return;
      }
    } finally {
      this.running.delete(client);
    }
  }

  /** Deliver batches until the queue is empty (true) or a delivery failed / no receiver is left (false). */
  private async drainOnce(client: string): Promise<boolean> {
    const { store, registry, options, logger } = this.ctx;
    for (;;) {
      if (this.closed || registry.receiverFor(client) === undefined) return false;
      let batch: ClaimedDelivery[];
      // The lease runs from the store's clock at the take, no earlier than this.
      const leaseEnd = this.ctx.timers.now() + options.drainLeaseMs;
      try {
        batch = await store.takeDeliveries(client, options.drainBatch, options.drainLeaseMs);
      } catch (err) {
        logger.warn({ err, client }, 'store failed to hand out kept deliveries');
        return false;
      }
      if (batch.length === 0) {
        this.pendingClients.delete(client);
        return true;
      }
      if (!(await this.deliverBatch(client, batch, leaseEnd))) return false;
    }
  }

  private async deliverBatch(client: string, batch: readonly ClaimedDelivery[], leaseEnd: number): Promise<boolean> {
    let next = 0;
    let ok = true;
    const { timers, options, metrics } = this.ctx;
    const worker = async (): Promise<void> => {
      while (next < batch.length) {
        const claim = batch[next++] as ClaimedDelivery;
        // The lease is running short (a slow client): what is left goes back now, rather than be
        // sent when its answer could come after another drain took it (this pass ends there).
        if (ok && timers.now() + options.deliveryTimeoutMs > leaseEnd) ok = false;
        if (!ok) {
          await this.settle(client, claim, false);
          continue;
        }
        const session = this.ctx.registry.receiverFor(client);
        if (session === undefined) {
          ok = false;
          await this.settle(client, claim, false);
          continue;
        }
        // Claimed before (a replica died holding it, a lease ran out, an attempt failed or was not
        // made): the client may see it twice. Counted so duplicates can be accounted for.
        if (claim.attempts > 1) metrics?.deliveriesRedelivered.inc();
        // A copy per attempt: the session assigns sequence_number in place, and the store's object
        // must not change (a lease that ran out may hand the same item to another drain).
        const result = await this.send(session, { ...(claim.item.pdu as UpstreamPdu) });
        if (result === Status.ESME_ROK) {
          await this.settle(client, claim, true);
          continue;
        }
        if (result !== 'failed' && (isPermanentRefusal(result) || claim.attempts >= this.ctx.options.maxDeliveryAttempts)) {
          this.ctx.logger.warn(
            { client, kind: claim.item.kind, status: statusName(result), attempts: claim.attempts },
            'client refused a kept delivery; dropped',
          );
          await this.settle(client, claim, true);
          continue;
        }
        ok = false;
        await this.settle(client, claim, false);
      }
    };
    const workers: Promise<void>[] = [];
    const n = Math.min(this.ctx.options.drainConcurrency, batch.length);
    for (let i = 0; i < n; i++) workers.push(worker());
    await Promise.all(workers);
    return ok;
  }

  /** Ack (done with it) or release (try again later). A store failure leaves it to the lease. */
  private async settle(client: string, claim: ClaimedDelivery, done: boolean): Promise<void> {
    try {
      if (done) await this.ctx.store.ackDelivery(client, claim.deliveryId);
      else await this.ctx.store.releaseDelivery(client, claim.deliveryId);
    } catch (err) {
      this.ctx.logger.warn({ err, client }, 'store failed to settle a delivery; its lease will return it');
    }
  }

  /** Start the periodic sweep. */
  start(): void {
    if (this.closed || this.sweepTimer !== undefined) return;
    this.schedule();
  }

  private schedule(): void {
    this.sweepTimer = this.ctx.timers.setTimeout(() => {
      // The drains it starts run on; the next sweep is timed from the end of this scan.
      void this.scan().finally(() => {
        if (!this.closed) this.schedule();
      });
    }, this.ctx.options.sweepIntervalMs);
  }

  /** One sweep, resolved when the drains it started are over. */
  async sweep(): Promise<void> {
    await Promise.all(await this.scan());
  }

  /**
   * Start a drain for every client with kept deliveries and a bound receiver here; report store
   * counters. Returns the drains.
   */
  private async scan(): Promise<Promise<void>[]> {
    const { store, registry, logger, metrics } = this.ctx;
    const drains: Promise<void>[] = [];
    const seen = new Set<string>();
    try {
      for (const client of [...this.knownClients, ...this.pendingClients]) {
        if (seen.has(client)) continue;
        seen.add(client);
        if (registry.receiverFor(client) === undefined) continue;
        if ((await store.pendingCount(client)) > 0) drains.push(this.drain(client, true));
        else this.pendingClients.delete(client);
      }
      const stats = await store.stats();
      metrics?.pendingDeliveries.set(stats.pendingDeliveries);
      // Receipts held for a message whose submit_sm_resp never came (or whose id never matched):
      // usually a wrong clusters[].message_id, or receipts for messages sent around smppd. With a
      // shared store each expiry comes to one replica's sweep, so one replica logs and counts it.
      const expired = await store.takeOrphansExpired();
      if (expired > 0) {
        metrics?.dlrOrphanExpired.inc(expired);
        logger.warn({ count: expired }, 'unknown receipts expired unmatched');
      }
    } catch (err) {
      logger.warn({ err }, 'delivery sweep failed');
    }
    if (this.onSweep !== undefined) drains.push(this.onSweep());
    return drains;
  }

  close(): void {
    this.closed = true;
    if (this.sweepTimer !== undefined) this.ctx.timers.clearTimeout(this.sweepTimer);
    this.sweepTimer = undefined;
  }
}
