// The submit path (SPEC §4 Submit, Multipart): submit_sm, data_sm and submit_multi from a client,
// routed, sent upstream with retries, answered with smppd's message id.
//
// Order per submit_sm/data_sm: route → store healthy? → new id → send (with retries) →
// store.saveAcceptedWith (the record with its upstream id, in one store operation) → answer. The client
// hears ESME_ROK only when the upstream accepted and the store holds the record and its upstream id
// (receipts can be matched); a store failure is never answered ESME_ROK. The record is written once,
// after the upstream accepted, not saved before sending and indexed after: with Redis that is one
// operation per message instead of two (issue 5 benchmark: the Redis store's submit throughput was
// ~40-60% of the memory store's with two). A receipt that beats the write is held as an orphan and
// returned by saveAcceptedWith (store.ts), as it was by setUpstreamId. A message that fails upstream
// leaves nothing in the store. submit_multi still saves first (one record for several sends).
//
// Store failures (issue 5, SPEC §4 "submits get a retriable status" while Redis is unreachable):
// - store not healthy before sending (or, submit_multi, save failed): nothing went upstream, so the
//   client may simply resubmit: ESME_RMSGQFUL (STORE_UNAVAILABLE_STATUS), the status smppd already
//   uses for "cannot take it now, send it again later" (a client over its window) and that SMPP
//   clients retry. Not ESME_RTHROTTLED: that one tells the client it is over its own contract, and
//   operators watch it as such.
// - saveAccepted (or setUpstreamId) failed: the SMSC already has the message, so a resubmit would
//   send it twice; answered ESME_RSYSERR (and logged as an error). Only messages in flight when the
//   store goes (Redis: a store that is down reports unhealthy, and its calls fail at once).
//
// Hot path (bench: `npm run bench`, through smppd): one SubmitJob per submit_sm (its retry state and
// the cluster's callback in one object: no promise, async frame or microtask), one route lookup with
// a reused attribute object, one record, no copy of the PDU, one messageIdKeys call, one response
// object; no closures, no logging per message. Callbacks instead of awaits, measured: smppd's CPU per
// message ~8% lower (six alternating closed-loop runs each).

import type { Route } from '../router/route-table.js';
import { concatFromSar, concatFromUdh, ESM_CLASS_UDHI } from '../smpp/concat.js';
import { messageIdKeys } from '../smpp/dlr.js';
import { Status, statusName } from '../smpp/index.js';
import type {
  DataSm,
  DataSmResp,
  DestAddress,
  SubmitMulti,
  SubmitMultiResp,
  SubmitSm,
  SubmitSmResp,
  Tlvs,
  UnsuccessSme,
} from '../smpp/index.js';
import type { MessageRecord, OrphanReceipt, SaveAcceptedDone } from '../store/store.js';
import type { ForwarderContext } from './context.js';
import type { ClusterPolicy } from './policy.js';
import type { SendResult, SendWaiter } from './ports.js';
import { Attempts, sendWithRetry, type SendOutcome } from './send.js';

/** The message held receipts were waiting for: whom to deliver them to, and where it went (feedback). */
export type OrphanOwner = Pick<MessageRecord, 'id' | 'client' | 'cluster' | 'routeName' | 'endpoint'>;
/** Receives the orphan receipts the store returned, to deliver after the client got its response. */
export type OrphanSink = (owner: OrphanOwner, orphans: readonly OrphanReceipt[]) => void;

const ROK_NAME = statusName(Status.ESME_ROK);
/** Answer to a submit sent nowhere because the store cannot take its record (see the top of this file). */
export const STORE_UNAVAILABLE_STATUS = Status.ESME_RMSGQFUL;

/** Per-message bookkeeping shared by the three submit commands. */
export class Submitter {
  private readonly ctx: ForwarderContext;
  private readonly onOrphans: OrphanSink;
  /** Reused for every route lookup: match() is synchronous and keeps no reference. */
  private readonly attrs = { destination: '', source: '', sourceTon: 0, client: '' };
  /**
   * Policies of clusters on `submit_multi: auto` whose SMSC answered a submit_multi ESME_RINVCMDID
   * (sendGroup). Keyed by the policy object, which a reload compiles anew: a reload (that may point
   * the cluster at another SMSC) lets the cluster try submit_multi again.
   */
  private readonly noSubmitMulti = new WeakSet<ClusterPolicy>();
  /** smppd_routing_decisions_total series by route object (routes are shared and frozen) and cluster. */
  private readonly decisionChildren = new WeakMap<Route, Map<string, { inc(): void }>>();

  constructor(ctx: ForwarderContext, onOrphans: OrphanSink) {
    this.ctx = ctx;
    this.onOrphans = onOrphans;
  }

  private route(destination: string, source: string, sourceTon: number, client: string): Route | undefined {
    const a = this.attrs;
    a.destination = destination;
    a.source = source;
    a.sourceTon = sourceTon;
    a.client = client;
    return this.ctx.router.match(a);
  }

  /** `route` sent a message to `cluster`, whose last answer was `status`, `started` being the submit's time. */
  private recordDecision(route: Route, cluster: string, status: number, started: number): void {
    const feedback = this.ctx.feedback;
    if (feedback !== undefined) {
      const name = status === Status.ESME_ROK ? ROK_NAME : statusName(status);
      feedback.recordDecision(route.name, cluster, name, this.ctx.timers.now() - started);
    }
    const metrics = this.ctx.metrics;
    if (metrics === undefined) return;
    let byCluster = this.decisionChildren.get(route);
    if (byCluster === undefined) this.decisionChildren.set(route, (byCluster = new Map()));
    let child = byCluster.get(cluster);
    if (child === undefined) byCluster.set(cluster, (child = metrics.routingDecision(route.name, cluster)));
    child.inc();
  }

  private count(status: number, started: number): void {
    const m = this.ctx.metrics;
    if (m === undefined) return;
    if (status === Status.ESME_ROK) {
      m.delivered.inc();
      m.submitResponse(ROK_NAME);
    } else {
      m.failed.inc();
      m.submitResponse(statusName(status));
    }
    m.requestLatency.observe((this.ctx.timers.now() - started) / 1000);
  }

  /**
   * submit_sm and data_sm. Never rejects: a failure anywhere below (a bug included) is answered
   * ESME_RSYSERR (singleWith).
   */
  single(client: string, pdu: SubmitSm | DataSm, deadline: number, receivedAt?: number): Promise<SubmitSmResp | DataSmResp> {
    return new Promise((resolve) => this.singleWith(client, pdu, deadline, receivedAt, { answered: resolve }));
  }

  /**
   * submit_sm and data_sm, answered through `reply`: exactly once, possibly before this returns,
   * ESME_RSYSERR for a failure anywhere below (a bug included). `receivedAt`: the caller's clock
   * reading when the request arrived, in this tick (spares a read).
   */
  singleWith(client: string, pdu: SubmitSm | DataSm, deadline: number, receivedAt: number | undefined, reply: SubmitReply): void {
    const ctx = this.ctx;
    const started = receivedAt ?? ctx.timers.now();
    let job: SubmitJob | undefined;
    try {
      ctx.metrics?.submitted.inc();
      const route = this.route(pdu.destination_addr, pdu.source_addr, pdu.source_addr_ton, client);
      if (route === undefined) {
        this.answer(pdu, reply, started, Status.ESME_RINVDSTADR, '', undefined);
        return;
      }
      // Nothing is written before sending (top of this file): a store that cannot take the record
      // now stops the message here, before it reaches the SMSC.
      if (ctx.store.healthy?.() === false) {
        ctx.logger.warn({ route: route.name }, 'store unavailable for a message; answered ESME_RMSGQFUL');
        this.answer(pdu, reply, started, STORE_UNAVAILABLE_STATUS, '', undefined);
        return;
      }
      // The PDU is sent as it came, not copied: the upstream session overwrites sequence_number in
      // place, and nothing reads the client's afterwards — the job keeps `seq` and the client
      // session answers with the sequence number it received (IncomingRequest).
      job = new SubmitJob(this, ctx, client, pdu, route, ctx.ids.next(), started, deadline, reply);
    } catch (err) {
      this.crashed(pdu, reply, started, err);
      return;
    }
    job.drive();
  }

  /** The job's sending is over (job.outcome): write the record if accepted, then answer. Never throws. */
  finish(job: SubmitJob): void {
    const ctx = this.ctx;
    try {
      const outcome = job.outcome!;
      this.recordDecision(job.route, outcome.cluster, outcome.status, job.started);
      if (outcome.status !== Status.ESME_ROK) {
        this.answerJob(job, outcome.status, '');
        return;
      }
      // The upstream accepted: write the record indexed under its id. A store failure is answered
      // ESME_RSYSERR: a receipt could not be matched to what we would acknowledge. createdAt is
      // when the submit arrived; cluster and endpoint become those that accepted it.
      const upstreamId = (outcome.response as SubmitSmResp | DataSmResp).message_id;
      const keys = messageIdKeys(upstreamId, ctx.policy(outcome.cluster).messageId);
      // The job hears (stored, notStored), maybe before this returns: no promise per message.
      ctx.store.saveAcceptedWith(
        { id: job.id, client: job.client, cluster: job.route.cluster, routeName: job.route.name, createdAt: job.started },
        outcome.cluster,
        upstreamId,
        keys,
        outcome.endpoint,
        job,
      );
    } catch (err) {
      this.crashed(job.pdu, job.reply, job.started, err, job.seq);
    }
  }

  /** The record is written: the client gets smppd's id, then the receipts that came first. */
  recorded(job: SubmitJob, orphans: readonly OrphanReceipt[]): void {
    try {
      this.answerJob(job, Status.ESME_ROK, job.id);
      if (orphans.length > 0) {
        const { cluster, endpoint } = job.outcome!;
        this.onOrphans({ id: job.id, client: job.client, cluster, routeName: job.route.name, endpoint }, orphans);
      }
    } catch (err) {
      // Past the store's promise: nothing above would hear of it.
      this.ctx.logger.error({ err, command: job.pdu.command }, 'answering a recorded message failed');
    }
  }

  /** The upstream accepted but the store did not take the record: ESME_RSYSERR (top of this file). */
  notRecorded(job: SubmitJob, err: unknown): void {
    this.unrecorded(err, job.outcome!.cluster);
    this.answerJob(job, Status.ESME_RSYSERR, '');
  }

  /** answer() for a job whose sending is over: the upstream's TLVs (data_sm_resp) go along. */
  private answerJob(job: SubmitJob, status: number, messageId: string): void {
    this.answer(job.pdu, job.reply, job.started, status, messageId, job.outcome!.response?.tlvs, job.seq);
  }

  /** Every request gets exactly one response, a bug below included. */
  crashed(pdu: SubmitSm | DataSm, reply: SubmitReply, started: number, err: unknown, seq = pdu.sequence_number): void {
    this.ctx.logger.error({ err, command: pdu.command }, 'request failed unexpectedly; answered ESME_RSYSERR');
    this.answer(pdu, reply, started, Status.ESME_RSYSERR, '', undefined, seq);
  }

  /** Counts the outcome and answers. `seq`: the client's sequence number, read before the upstream session rewrote it. */
  private answer(
    pdu: SubmitSm | DataSm,
    reply: SubmitReply,
    started: number,
    status: number,
    messageId: string,
    tlvs: Tlvs | undefined,
    seq = pdu.sequence_number,
  ): void {
    this.count(status, started);
    const command = pdu.command === 'submit_sm' ? 'submit_sm_resp' : 'data_sm_resp';
    const resp: SubmitSmResp | DataSmResp = { command, command_status: status, sequence_number: seq, message_id: messageId };
    // data_sm_resp may carry delivery_failure_reason, network_error_code, ... (SMPP 3.4 §4.7.2): pass them on.
    if (tlvs !== undefined && command === 'data_sm_resp') resp.tlvs = tlvs;
    reply.answered(resp);
  }

  /** The SMSC has the message but smppd cannot track it: say so loudly, a client resubmit may duplicate it. */
  private unrecorded(err: unknown, cluster: string): void {
    this.ctx.logger.error({ err, cluster }, 'store failed to record an accepted message; answered ESME_RSYSERR');
  }

  /**
   * The upstream accepted with `upstreamId`: index the message under it. False when the store failed
   * (the client then hears ESME_RSYSERR: a receipt could not be matched to what we would acknowledge).
   */
  private async accepted(client: string, id: string, route: Route, outcome: SendOutcome, upstreamId: string): Promise<boolean> {
    const ctx = this.ctx;
    const keys = messageIdKeys(upstreamId, ctx.policy(outcome.cluster).messageId);
    let orphans: readonly OrphanReceipt[];
    try {
      orphans = await ctx.store.setUpstreamId(id, outcome.cluster, upstreamId, keys, outcome.endpoint);
    } catch (err) {
      this.unrecorded(err, outcome.cluster);
      return false;
    }
    if (orphans.length > 0) {
      this.onOrphans({ id, client, cluster: outcome.cluster, routeName: route.name, endpoint: outcome.endpoint }, orphans);
    }
    return true;
  }

  /**
   * submit_multi (SMPP 3.4 §4.5): destinations split by route; each cluster gets its destinations
   * (sendGroup: one submit_multi, or one submit_sm each); one submit_multi_resp lists every
   * unsuccessful destination — unroutable ones (ESME_RINVDSTADR), those the upstream listed or
   * refused, and all of a group whose cluster refused or failed (with that status).
   *
   * Distribution lists (dest_flag 2) are names the SMSC resolves, so smppd cannot route them by
   * number: they go to the route that matches the message with an empty destination (source, sender
   * and client criteria, catch-all routes).
   *
   * When no destination was accepted anywhere, the response is an error (the first group's status, or
   * ESME_RINVDSTADR when nothing was routable) without a message id: nothing was accepted upstream.
   */
  async multi(client: string, pdu: SubmitMulti, deadline: number): Promise<SubmitMultiResp> {
    const ctx = this.ctx;
    const started = ctx.timers.now();
    const seq = pdu.sequence_number;
    ctx.metrics?.submitted.inc();
    const unsuccess: UnsuccessSme[] = [];
    const groups = new Map<Route, DestAddress[]>();
    for (const d of pdu.dest_addresses) {
      const route = this.route(d.dest_flag === 1 ? d.destination_addr : '', pdu.source_addr, pdu.source_addr_ton, client);
      if (route === undefined) {
        unsuccess.push(unsuccessOf(d, Status.ESME_RINVDSTADR));
        continue;
      }
      const group = groups.get(route);
      if (group === undefined) groups.set(route, [d]);
      else group.push(d);
    }
    const fail = (status: number): SubmitMultiResp => {
      this.count(status, started);
      return { command: 'submit_multi_resp', command_status: status, sequence_number: seq, message_id: '', unsuccess_smes: [] };
    };
    if (groups.size === 0) return fail(Status.ESME_RINVDSTADR);

    const first = groups.keys().next().value as Route;
    const id = ctx.ids.next();
    // parts: the upstream submits this message becomes, as far as known now (a cluster on `auto`
    // that turns out not to take submit_multi splits later).
    let parts = 0;
    for (const [route, dests] of groups) parts += this.splits(route) ? smeCount(dests) : 1;
    try {
      await ctx.store.save({ id, client, cluster: first.cluster, routeName: first.name, createdAt: started, parts });
    } catch (err) {
      ctx.logger.warn({ err, route: first.name }, 'store failed to save a message; answered ESME_RMSGQFUL');
      return fail(STORE_UNAVAILABLE_STATUS);
    }

    const sends: Promise<GroupOutcome>[] = [];
    for (const [route, dests] of groups) sends.push(this.sendGroup(client, id, pdu, route, dests, deadline));
    const outcomes = await Promise.all(sends);

    let accepted = 0;
    let firstFailure: number | undefined;
    let i = 0;
    for (const route of groups.keys()) {
      const outcome = outcomes[i++] as GroupOutcome;
      this.recordDecision(route, outcome.cluster, outcome.status, started);
      for (const u of outcome.unsuccess) unsuccess.push(u);
      if (outcome.status === Status.ESME_ROK) accepted++;
      else firstFailure ??= outcome.status;
    }
    if (accepted === 0) return fail(firstFailure ?? Status.ESME_RSYSERR);
    this.count(Status.ESME_ROK, started);
    return { command: 'submit_multi_resp', command_status: Status.ESME_ROK, sequence_number: seq, message_id: id, unsuccess_smes: unsuccess };
  }

  /** The cluster takes a submit_multi as one submit_sm per destination (cluster `submit_multi`). */
  /**
   * Whether the route's destinations go as one submit_sm each. Decided by the cluster the send will
   * start on: the route's, or while that one is unavailable the first available fallback (sends
   * skip unavailable clusters, send.ts), so a fallback that does not take submit_multi is not sent
   * one it would refuse. If the cluster that ends up taking the message refuses anyway, sendGroup
   * splits then.
   */
  private splits(route: Route): boolean {
    const policy = this.ctx.policy(this.startCluster(route));
    return policy.submitMulti === 'split' || (policy.submitMulti === 'auto' && this.noSubmitMulti.has(policy));
  }

  private startCluster(route: Route): string {
    const clusters = this.ctx.clusters;
    if (clusters.get(route.cluster)?.available() !== false) return route.cluster;
    for (const name of route.fallback) if (clusters.get(name)?.available() === true) return name;
    return route.cluster;
  }

  /**
   * One route's destinations of a submit_multi, upstream: as one submit_multi, or (cluster
   * `submit_multi: split`, or `auto` once the SMSC answered one ESME_RINVCMDID, FIELD-NOTES §3.8:
   * many SMSCs do not take it) as one submit_sm per destination, each recorded under the message's
   * id so that every destination's receipt finds it.
   */
  private async sendGroup(
    client: string,
    id: string,
    pdu: SubmitMulti,
    route: Route,
    dests: DestAddress[],
    deadline: number,
  ): Promise<GroupOutcome> {
    const ctx = this.ctx;
    if (!this.splits(route)) {
      const upstream: SubmitMulti = { ...pdu, dest_addresses: dests };
      const affinity = affinityOf(client, upstream);
      const outcome = await sendWithRetry(ctx, route.cluster, route.fallback, upstream, deadline, affinity, undefined);
      const refusedCommand = outcome.status === Status.ESME_RINVCMDID && outcome.response !== undefined;
      // The cluster that refused may be a fallback: its own submit_multi setting decides.
      const policy = ctx.policy(outcome.cluster);
      if (!refusedCommand || policy.submitMulti === 'native') {
        if (outcome.status !== Status.ESME_ROK) return allFailed(dests, outcome.status, outcome.cluster);
        const resp = outcome.response as SubmitMultiResp;
        if (!(await this.accepted(client, id, route, outcome, resp.message_id))) return allFailed(dests, Status.ESME_RSYSERR, outcome.cluster);
        return { status: Status.ESME_ROK, cluster: outcome.cluster, unsuccess: resp.unsuccess_smes };
      }
      if (policy.submitMulti === 'auto' && !this.noSubmitMulti.has(policy)) {
        ctx.logger.info({ cluster: outcome.cluster }, 'upstream refused submit_multi (ESME_RINVCMDID); sending it one submit_sm per destination from now on');
        this.noSubmitMulti.add(policy);
      }
    }
    const unsuccess: UnsuccessSme[] = [];
    const sends: Array<Promise<SendOutcome>> = [];
    const sent: DestAddress[] = [];
    for (const d of dests) {
      // A distribution list is a name only the SMSC can resolve: it cannot become a submit_sm.
      if (d.dest_flag !== 1) {
        unsuccess.push(unsuccessOf(d, Status.ESME_RINVDLNAME));
        continue;
      }
      const single = submitSmFor(pdu, d);
      sent.push(d);
      sends.push(sendWithRetry(ctx, route.cluster, route.fallback, single, deadline, affinityOf(client, single), undefined));
    }
    const outcomes = await Promise.all(sends);
    let accepted = 0;
    let failure: number | undefined;
    let cluster = route.cluster;
    for (let i = 0; i < outcomes.length; i++) {
      const outcome = outcomes[i]!;
      cluster = outcome.cluster;
      let status = outcome.status;
      if (status === Status.ESME_ROK) {
        const resp = outcome.response as SubmitSmResp;
        if (await this.accepted(client, id, route, outcome, resp.message_id)) {
          accepted++;
          continue;
        }
        status = Status.ESME_RSYSERR;
      }
      failure ??= status;
      unsuccess.push(unsuccessOf(sent[i]!, status));
    }
    return { status: accepted > 0 ? Status.ESME_ROK : (failure ?? Status.ESME_RINVDLNAME), cluster, unsuccess };
  }
}

/** What one route's share of a submit_multi came to upstream. */
interface GroupOutcome {
  /** ESME_ROK when some destination was accepted; else the first failure's status. */
  status: number;
  /** Cluster of the (last) attempt, for the routing decision. */
  cluster: string;
  /** Destinations not accepted, with their status. */
  unsuccess: readonly UnsuccessSme[];
}

/** Destinations that are SME addresses (dest_flag 1), not distribution lists. */
function smeCount(dests: readonly DestAddress[]): number {
  let n = 0;
  for (const d of dests) if (d.dest_flag === 1) n++;
  return n;
}

function allFailed(dests: readonly DestAddress[], status: number, cluster: string): GroupOutcome {
  return { status, cluster, unsuccess: dests.map((d) => unsuccessOf(d, status)) };
}

/** The submit_sm a submit_multi becomes for one SME destination: the same message and TLVs. */
function submitSmFor(pdu: SubmitMulti, d: DestAddress & { dest_flag: 1 }): SubmitSm {
  return {
    command: 'submit_sm',
    command_status: 0,
    sequence_number: 0,
    service_type: pdu.service_type,
    source_addr_ton: pdu.source_addr_ton,
    source_addr_npi: pdu.source_addr_npi,
    source_addr: pdu.source_addr,
    dest_addr_ton: d.dest_addr_ton,
    dest_addr_npi: d.dest_addr_npi,
    destination_addr: d.destination_addr,
    esm_class: pdu.esm_class,
    protocol_id: pdu.protocol_id,
    priority_flag: pdu.priority_flag,
    schedule_delivery_time: pdu.schedule_delivery_time,
    validity_period: pdu.validity_period,
    registered_delivery: pdu.registered_delivery,
    replace_if_present_flag: pdu.replace_if_present_flag,
    data_coding: pdu.data_coding,
    sm_default_msg_id: pdu.sm_default_msg_id,
    short_message: pdu.short_message,
    ...(pdu.tlvs === undefined ? {} : { tlvs: pdu.tlvs }),
  };
}

/** A distribution list is reported by its name in destination_addr (both are at most 21 octets). */
function unsuccessOf(d: DestAddress, status: number): UnsuccessSme {
  return d.dest_flag === 1
    ? { dest_addr_ton: d.dest_addr_ton, dest_addr_npi: d.dest_addr_npi, destination_addr: d.destination_addr, error_status_code: status }
    : { dest_addr_ton: 0, dest_addr_npi: 0, destination_addr: d.dl_name, error_status_code: status };
}

/**
 * The multipart key (SPEC §4 Multipart): parts of one concatenated message (UDH IEI 0x00/0x08, or the
 * SAR TLVs) from one client share it, so the cluster keeps them on one upstream session.
 * undefined for a message in one part.
 */
export function affinityOf(client: string, pdu: SubmitSm | DataSm | SubmitMulti): string | undefined {
  const tlvs: Tlvs | undefined = pdu.tlvs;
  let ref: number | undefined;
  if ((pdu.esm_class & ESM_CLASS_UDHI) !== 0) {
    const body = pdu.command !== 'data_sm' && pdu.short_message.length > 0 ? pdu.short_message : tlvs?.message_payload;
    if (body !== undefined) ref = concatFromUdh(pdu.esm_class, body)?.ref;
  }
  if (ref === undefined && tlvs?.sar_msg_ref_num !== undefined) {
    ref = concatFromSar(tlvs.sar_msg_ref_num, tlvs.sar_total_segments, tlvs.sar_segment_seqnum)?.ref;
  }
  if (ref === undefined) return undefined;
  const destination =
    pdu.command === 'submit_multi' ? destinationsKey(pdu.dest_addresses) : pdu.destination_addr;
  return `${client}|${pdu.source_addr}|${destination}|${ref}`;
}

function destinationsKey(dests: readonly DestAddress[]): string {
  let key = '';
  for (const d of dests) key += (key === '' ? '' : ',') + (d.dest_flag === 1 ? d.destination_addr : d.dl_name);
  return key;
}

/** Where the response to a submit_sm or data_sm goes (the listener's RequestReply fits). */
export interface SubmitReply {
  answered(resp: SubmitSmResp | DataSmResp): void;
}

/**
 * One submit_sm or data_sm on its way upstream: its retry state (Attempts) and the cluster's
 * SendWaiter in one object, driven by callbacks, not an async function: no promise, async frame or
 * microtask per message (bench: `npm run bench`, through smppd). Submitter.finish takes over when
 * the sending is over.
 */
export class SubmitJob extends Attempts implements SendWaiter, SaveAcceptedDone {
  /** The client's sequence number (the upstream session overwrites the PDU's). */
  readonly seq: number;

  constructor(
    private readonly submitter: Submitter,
    ctx: ForwarderContext,
    readonly client: string,
    readonly pdu: SubmitSm | DataSm,
    readonly route: Route,
    readonly id: string,
    /** When the submit arrived; the first attempt's clock reading too (nothing was awaited since). */
    readonly started: number,
    deadline: number,
    readonly reply: SubmitReply,
  ) {
    super(ctx, route.cluster, route.fallback, deadline, affinityOf(client, pdu), undefined, started);
    this.seq = pdu.sequence_number;
  }

  /** The next step: send an attempt, wait before one, or finish. */
  drive(): void {
    try {
      const step = this.next();
      if (step === 'done') this.submitter.finish(this);
      else if (step === 'wait') this.ctx.timers.setTimeout(() => this.afterBackoff(), this.delayMs);
      else this.cluster!.sendWith(this.pdu, this.opts!, this);
    } catch (err) {
      this.submitter.crashed(this.pdu, this.reply, this.started, err, this.seq);
    }
  }

  private afterBackoff(): void {
    try {
      if (this.afterWait() === 'done') this.submitter.finish(this);
      else this.cluster!.sendWith(this.pdu, this.opts!, this);
    } catch (err) {
      this.submitter.crashed(this.pdu, this.reply, this.started, err, this.seq);
    }
  }

  resolved(result: SendResult): void {
    this.report(this.answered, result);
  }

  /** The store holds the record (Submitter.finish asked it). */
  stored(orphans: readonly OrphanReceipt[]): void {
    this.submitter.recorded(this, orphans);
  }

  notStored(err: unknown): void {
    this.submitter.notRecorded(this, err);
  }

  rejected(err: Error): void {
    this.report(this.failed, err);
  }

  /** Tells Attempts how the attempt ended (`tell`: answered or failed), then goes on (settled). */
  private report<T>(tell: (this: Attempts, value: T) => void, value: T): void {
    try {
      tell.call(this, value);
    } catch (bug) {
      this.submitter.crashed(this.pdu, this.reply, this.started, bug, this.seq);
      return;
    }
    this.settled();
  }

  /**
   * An attempt ended. Done: finish now. Another attempt: from a microtask, as after an awaited
   * send(): the cluster may be calling back from inside a loop over its requests (failing them as
   * a session closes), and a new send must not land in the middle of it.
   */
  private settled(): void {
    if (this.outcome !== undefined) this.submitter.finish(this);
    else queueMicrotask(() => this.drive());
  }
}
