// deliver_sm / data_sm from an upstream (SPEC §4 Receipts, MO): match a receipt to the stored message,
// rewrite it to smppd's id and hand it to the client that submitted the message; route MO by
// `mo_addresses`. The resolved number is the status to answer the upstream with.
//
// A receipt that arrives before its submit_sm_resp (FIELD-NOTES §3.1) matches nothing yet: it is held
// in the store (holdOrphan, atomic with setUpstreamId) and answered ESME_ROK; the submit path gets it
// back from setUpstreamId and delivers it right after the client's submit_sm_resp went out.
//
// MO for an address no client claims is answered ESME_RINVDSTADR and counted: an SMSC told ESME_ROK
// would consider it delivered, and one told a temporary error would retry it forever.

import { messageIdKeys } from '../smpp/dlr.js';
import { Status } from '../smpp/index.js';
import type { FindDone, MessageRecord, OrphanReceipt } from '../store/store.js';
import type { ForwarderContext } from './context.js';
import type { Deliveries, DeliveryAnswer } from './deliveries.js';
import type { UpstreamDelivery } from './ports.js';
import type { OrphanOwner } from './submit.js';
import {
  detachPdu,
  moAddressKey,
  receiptInfo,
  receiptTextStat,
  restatReceipt,
  rewriteReceipt,
  type ReceiptInfo,
  type UpstreamPdu,
} from './receipts.js';

/** Held receipts reclaimed per sweep. */
const RECLAIM_BATCH = 100;

/** The answer to a receipt that has nothing to match on. */
const RECEIPT_DROPPED: Promise<number> = Promise.resolve(Status.ESME_ROK);

/**
 * One receipt from the store's lookup to the client's answer, through callbacks: one object and
 * one promise (the upstream's answer) per receipt, where async functions made four promises and
 * two async frames. smppd allocated ~8,550 bytes per message with its receipt on the Redis store
 * with those, ~7,000 with this (sampling heap profile, bench/README.md "Kept (thirteenth session)").
 */
class ReceiptJob implements FindDone, DeliveryAnswer {
  /** Resolves with the status to answer the upstream. */
  readonly answer: Promise<number>;
  private resolve!: (status: number) => void;

  constructor(
    private readonly inbound: Inbound,
    private readonly deliveries: Deliveries,
    private readonly d: UpstreamDelivery,
    /** The receipt as the client gets it, but its id (receipt_stats applied). */
    private readonly pdu: UpstreamPdu,
    private readonly keys: readonly string[],
    /** Where the text's id lies (receiptInfo), when the text is the upstream's own. */
    private readonly info: ReceiptInfo | undefined,
    /** The receipt's stat, as receipt_stats mapped it (feedback). */
    private readonly stat: string,
  ) {
    this.answer = new Promise((resolve) => {
      this.resolve = resolve;
    });
  }

  found(record: MessageRecord | undefined): void {
    try {
      if (record === undefined) {
        this.inbound.hold(this.d, this.pdu, this.keys, this.stat).then(
          (status) => this.resolve(status),
          (err: unknown) => this.findFailed(err),
        );
        return;
      }
      this.inbound.matched(record, this.stat);
      this.deliveries.deliverWith(record.client, rewriteReceipt(this.pdu, record.id, this.info), 'receipt', this);
    } catch (err) {
      this.findFailed(err);
    }
  }

  findFailed(err: unknown): void {
    this.resolve(this.inbound.failed(this.d, err));
  }

  answered(status: number): void {
    this.resolve(status);
  }
}

export class Inbound {
  private readonly ctx: ForwarderContext;
  private readonly deliveries: Deliveries;
  /** mo_addresses ('+' stripped) -> client system_id (replaced by a config reload). */
  moClients: ReadonlyMap<string, string>;
  private closed = false;
  /** Receipts with no message id dropped since the last sweep, by cluster: logged by the sweep. */
  private idlessReceipts = new Map<string, number>();

  constructor(ctx: ForwarderContext, deliveries: Deliveries, moClients: ReadonlyMap<string, string>) {
    this.ctx = ctx;
    this.deliveries = deliveries;
    this.moClients = moClients;
  }

  handle(d: UpstreamDelivery): Promise<number> {
    try {
      const info = receiptInfo(d.pdu);
      if (info === undefined) return this.mo(d);
      const { ctx } = this;
      const cluster = d.cluster;
      const policy = ctx.policy(cluster);
      // receipt_stats: what this SMSC's stat word means, for the client, the metrics and a held copy.
      // The word looked up is the receipt's stat, else its text's own (an SMSC may send stat:FAILED
      // beside a message_state that reads UNDELIV).
      const map = policy.receiptStats;
      const mapped = map.size === 0 ? undefined : (map.get(info.stat) ?? map.get(receiptTextStat(d.pdu) ?? ''));
      const pdu = mapped === undefined || mapped === info.stat ? d.pdu : restatReceipt(d.pdu, mapped);
      const stat = mapped ?? info.stat;
      const clusterMetrics = ctx.metrics?.clusterMetrics(cluster);
      clusterMetrics?.receipt(stat);
      ctx.feedback?.recordReceipt(cluster, stat);
      const keys = info.id === undefined ? [] : messageIdKeys(info.id, policy.messageId);
      if (keys.length === 0) {
        // Nothing to match on: no receipted_message_id and no readable `id:` in the text.
        clusterMetrics?.dlrUnmatched.inc();
        this.idlessReceipts.set(cluster, (this.idlessReceipts.get(cluster) ?? 0) + 1);
        return RECEIPT_DROPPED;
      }
      // The text's id is where receiptInfo found it, unless receipt_stats rewrote the text.
      const job = new ReceiptJob(this, this.deliveries, d, pdu, keys, pdu === d.pdu ? info : undefined, stat);
      ctx.store.findByUpstreamWith(cluster, keys, job);
      return job.answer;
    } catch (err) {
      return Promise.resolve(this.failed(d, err));
    }
  }

  /** A receipt with `stat` found its message: feedback per route and endpoint. */
  matched(record: OrphanOwner, stat: string): void {
    this.ctx.feedback?.recordMatchedReceipt(record.routeName, record.cluster, record.endpoint, stat);
  }

  /** The store failed: the SMSC keeps the PDU and tries again later. */
  failed(d: UpstreamDelivery, err: unknown): number {
    this.ctx.logger.warn({ err, cluster: d.cluster }, 'could not handle an upstream delivery; answered ESME_RX_T_APPN');
    return Status.ESME_RX_T_APPN;
  }

  /** A receipt that matched no message yet: held in the store, or delivered if its message came meanwhile. */
  async hold(d: UpstreamDelivery, pdu: UpstreamPdu, keys: readonly string[], stat: string): Promise<number> {
    const { ctx } = this;
    const held: OrphanReceipt = { pdu: pdu === d.pdu ? detachPdu(pdu) : pdu, receivedAt: ctx.timers.now() };
    const record = await ctx.store.holdOrphan(d.cluster, keys, held, ctx.options.orphanTtlMs);
    if (record === undefined) {
      ctx.metrics?.dlrOrphanHeld.inc();
      ctx.logger.debug({ cluster: d.cluster, endpoint: d.endpoint }, 'receipt matched no message yet; held');
      return Status.ESME_ROK;
    }
    this.matched(record, stat);
    return this.deliveries.deliver(record.client, rewriteReceipt(pdu, record.id), 'receipt');
  }

  private async mo(d: UpstreamDelivery): Promise<number> {
    this.ctx.metrics?.moReceived.inc();
    const client = this.moClients.get(moAddressKey(d.pdu.destination_addr));
    if (client === undefined) {
      this.ctx.logger.debug({ cluster: d.cluster, endpoint: d.endpoint }, 'MO for an address no client claims; refused');
      return Status.ESME_RINVDSTADR;
    }
    return this.deliveries.deliver(client, detachPdu(d.pdu), 'mo');
  }

  /**
   * Receipts that arrived before the submit_sm_resp of message `id`: deliver them after the client
   * has its response. The submit path answers before it hands them here (SubmitJob), and through
   * handleRequest's promise the listener writes the response in a microtask: setImmediate runs
   * after both.
   */
  deliverOrphansLater(owner: OrphanOwner, orphans: readonly OrphanReceipt[]): void {
    setImmediate(() => {
      void this.deliverOrphans(owner, orphans);
    });
  }

  /**
   * A held receipt was answered ESME_ROK upstream when it was held, and the store handed it over when
   * it gave it back: nobody else will send or keep it. One that can be neither delivered nor kept now
   * (the store failing for a moment) is tried again every sweepIntervalMs, for as long as it could
   * have stayed held (orphanTtlMs), and only then given up as lost. A shared store keeps what it
   * handed over until acknowledged (`token`): a receipt that is never acknowledged, because this
   * process died or gave up, goes out again from reclaimOrphans on some replica.
   */
  private async deliverOrphans(owner: OrphanOwner, orphans: readonly OrphanReceipt[]): Promise<void> {
    const { timers, options, logger } = this.ctx;
    const { client, id } = owner;
    for (const orphan of orphans) {
      const held = orphan.pdu as UpstreamPdu;
      const stat = receiptInfo(held)?.stat;
      if (stat !== undefined) this.matched(owner, stat);
      const pdu = rewriteReceipt(held, id);
      const giveUpAt = timers.now() + options.orphanTtlMs;
      let status: number;
      while ((status = await this.deliveries.deliver(client, pdu, 'receipt')) === Status.ESME_RX_T_APPN) {
        if (this.closed || timers.now() + options.sweepIntervalMs > giveUpAt) {
          if (orphan.token === undefined) logger.error({ client }, 'a held receipt could be neither delivered nor kept; lost');
          else logger.warn({ client }, 'a held receipt could be neither delivered nor kept; the store hands it out again later');
          break;
        }
        logger.warn({ client, retryMs: options.sweepIntervalMs }, 'a held receipt could be neither delivered nor kept; retrying');
        await new Promise<void>((resolve) => timers.setTimeout(resolve, options.sweepIntervalMs));
      }
      if (status !== Status.ESME_RX_T_APPN) await this.acknowledge(orphan);
    }
  }

  /** Tells a shared store that a handed-out orphan was delivered or kept. A failure is only logged:
   *  the orphan then comes back after its lease (a duplicate at worst). */
  private async acknowledge(orphan: OrphanReceipt): Promise<void> {
    const { store, logger } = this.ctx;
    if (orphan.token === undefined || store.ackOrphans === undefined) return;
    try {
      await store.ackOrphans([orphan.token]);
    } catch (err) {
      logger.warn({ err }, 'could not acknowledge a held receipt; it may be delivered twice');
    }
  }

  /** Run by each delivery sweep: reports what was dropped since the last, and reclaims orphans. */
  sweep(): Promise<void> {
    this.logIdlessReceipts();
    return this.reclaimOrphans();
  }

  /**
   * One warning per cluster and sweep for receipts without a message id, not one per receipt: an
   * SMSC that sends them sends them all so, and a log line each would flood the log.
   */
  private logIdlessReceipts(): void {
    if (this.idlessReceipts.size === 0) return;
    for (const [cluster, count] of this.idlessReceipts) {
      this.ctx.logger.warn({ cluster, count }, 'receipts without a message id dropped (no receipted_message_id, no id: in the text)');
    }
    this.idlessReceipts = new Map();
  }

  /**
   * Held receipts another replica took for its message but never acknowledged (it died between
   * saving the message and keeping them): delivered here, for the message they were taken for.
   */
  async reclaimOrphans(): Promise<void> {
    const { store, logger } = this.ctx;
    if (store.reclaimOrphans === undefined || this.closed) return;
    try {
      for (const { messageId, receipt } of await store.reclaimOrphans(RECLAIM_BATCH)) {
        const record = await store.get(messageId);
        if (record === undefined) {
          // Its message expired meanwhile: nobody to deliver it to.
          logger.warn({ messageId }, 'a held receipt outlived its message; dropped');
          await this.acknowledge(receipt);
          continue;
        }
        logger.info({ client: record.client, messageId }, 'delivering a held receipt another replica took and did not keep');
        this.ctx.metrics?.dlrOrphanReclaimed.inc();
        await this.deliverOrphans(record, [receipt]);
      }
    } catch (err) {
      logger.warn({ err }, 'reclaiming held receipts failed; the next sweep tries again');
    }
  }

  /** The forwarder is closing: held receipts are not tried again. */
  close(): void {
    this.closed = true;
  }
}
