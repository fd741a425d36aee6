// Matches receipts to the submits they report on, by the exact id the submit response gave: the
// point of smppd is that a client's receipt carries the id that client was given. A receipt may
// arrive before its submit response (SPEC §4 race); it is kept and matched when the response comes.

import { parseReceiptText } from '../../proxy/smpp/dlr.js';
import type { PduOf } from '../../proxy/smpp/index.js';
import { createLatencyHistogram, type LatencySummary } from '../../proxy/feedback/latency-histogram.js';

export interface ReceiptCounts {
  /** Receipts the accepted submits asked for (one per destination). */
  expected: number;
  received: number;
  /** Receipts whose id matched an accepted submit still awaiting one. */
  matched: number;
  /** Receipts for no submit of this run (including early ones never claimed by a response). */
  unmatched: number;
  /** More receipts for an id than it had destinations. */
  duplicates: number;
  /** Receipts whose text id and receipted_message_id disagree. */
  conflicting: number;
  /** deliver_sm without a receipt id (MO or garbage). */
  notReceipts: number;
  /** expected - matched. */
  missing: number;
  /** From sending the submit to receiving its receipt, ms. */
  latency: LatencySummary;
}

interface Awaiting {
  remaining: number;
  sentAt: number;
}

const ID_PREFIX = Buffer.from('id:', 'latin1');
const STAT = Buffer.from(' stat:', 'latin1');

/**
 * The id of a receipt in the canonical Appendix B layout ('id:X sub:...' with a stat field), without
 * regular expressions: parseReceiptText took a fifth of the load generator's CPU at 25,000 receipts/s
 * (profile of `npm run bench`, scenario direct-receipts). Anything else goes to the tolerant parser.
 */
function canonicalTextId(sm: Buffer): string | undefined {
  if (sm.length < 5 || sm.compare(ID_PREFIX, 0, 3, 0, 3) !== 0) return undefined;
  const end = sm.indexOf(0x20, 3);
  if (end <= 3 || sm.indexOf(STAT, end) < 0) return undefined;
  return sm.toString('latin1', 3, end);
}

/** The id a receipt carries (TLV first, else the text), or undefined; `conflict` when both differ. */
export function receiptIdOf(pdu: PduOf<'deliver_sm' | 'data_sm'>): { id: string | undefined; conflict: boolean } {
  const tlvId = pdu.tlvs?.receipted_message_id;
  const sm = pdu.command === 'deliver_sm' ? pdu.short_message : pdu.tlvs?.message_payload;
  let textId: string | undefined;
  if (sm !== undefined && sm.length > 0) {
    textId = canonicalTextId(sm);
    if (textId === undefined) {
      const parsed = parseReceiptText(sm);
      if (parsed.ok) textId = parsed.receipt.id;
    }
  }
  const conflict = tlvId !== undefined && textId !== undefined && tlvId !== textId;
  return { id: tlvId ?? textId, conflict };
}

export class ReceiptMatcher {
  /**
   * Every accepted submit's id, for the whole run: an entry whose receipts all arrived stays, with
   * remaining 0, so that one more receipt for it counts as a duplicate, not a stranger. One map
   * lookup per receipt: a delete here and an add to a set of finished ids cost the load generator
   * ~9% of its CPU with receipts (profile of smppd-bench against smppd-sim).
   */
  private readonly awaiting = new Map<string, Awaiting>();
  /** Receipts that came before their submit response: id -> arrival times. */
  private readonly early = new Map<string, number[]>();
  private readonly histogram = createLatencyHistogram();
  expected = 0;
  received = 0;
  matched = 0;
  duplicates = 0;
  conflicting = 0;
  notReceipts = 0;
  lastReceiptAt = 0;

  /** An accepted submit with this id will get `receipts` receipts. */
  expect(id: string, receipts: number, sentAt: number): void {
    this.expected += receipts;
    const entry: Awaiting = { remaining: receipts, sentAt };
    const early = this.early.get(id);
    if (early !== undefined) {
      this.early.delete(id);
      for (const at of early) this.claim(entry, at);
    }
    this.awaiting.set(id, entry);
  }

  onReceipt(pdu: PduOf<'deliver_sm' | 'data_sm'>, now: number): void {
    this.received++;
    this.lastReceiptAt = now;
    const { id, conflict } = receiptIdOf(pdu);
    if (conflict) this.conflicting++;
    if (id === undefined) {
      this.notReceipts++;
      return;
    }
    const entry = this.awaiting.get(id);
    if (entry !== undefined) {
      this.claim(entry, now);
    } else {
      const list = this.early.get(id);
      if (list === undefined) this.early.set(id, [now]);
      else list.push(now);
    }
  }

  /** One receipt for `entry`: matched, or a duplicate when all it asked for have arrived. */
  private claim(entry: Awaiting, at: number): void {
    if (entry.remaining <= 0) {
      this.duplicates++;
      return;
    }
    entry.remaining--;
    this.matched++;
    this.histogram.record(at - entry.sentAt);
  }

  get complete(): boolean {
    return this.matched >= this.expected;
  }

  counts(): ReceiptCounts {
    let unmatched = 0;
    for (const list of this.early.values()) unmatched += list.length;
    return {
      expected: this.expected,
      received: this.received,
      matched: this.matched,
      unmatched,
      duplicates: this.duplicates,
      conflicting: this.conflicting,
      notReceipts: this.notReceipts,
      missing: this.expected - this.matched,
      latency: this.histogram.summary(),
    };
  }
}
