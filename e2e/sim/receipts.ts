// Receipts the simulator sends: deliver_sm with esm_class 0x04 (SMPP 3.4 §5.2.12, "SMSC Delivery
// Receipt"), carrying the SMSC's id in the Appendix B text, in TLVs (receipted_message_id 0x001E,
// message_state 0x0427, network_error_code 0x0423), or both.

import { MESSAGE_STATE, STAT_OF_STATE, formatReceiptDate } from '../../proxy/smpp/dlr.js';
import type { MessageState } from '../../proxy/smpp/dlr.js';
import type { PduOf, Tlvs } from '../../proxy/smpp/index.js';
import type { ReceiptForm } from './options.js';
import type { Rng } from './rng.js';

export const DLR_OUTCOMES = [
  'delivered',
  'undeliverable',
  'expired',
  'rejected',
  'deleted',
  'unknown',
  'accepted',
  'enroute',
] as const;
export type DlrOutcome = (typeof DLR_OUTCOMES)[number];

interface OutcomeSpec {
  state: MessageState;
  /** GSM error code in the text `err:` and in network_error_code (type 3 = GSM, SMPP 3.4 §5.3.2.31). */
  err: number;
}

const OUTCOME_SPECS: Readonly<Record<DlrOutcome, OutcomeSpec>> = {
  delivered: { state: MESSAGE_STATE.DELIVERED, err: 0 },
  undeliverable: { state: MESSAGE_STATE.UNDELIVERABLE, err: 1 },
  expired: { state: MESSAGE_STATE.EXPIRED, err: 0 },
  rejected: { state: MESSAGE_STATE.REJECTED, err: 11 },
  deleted: { state: MESSAGE_STATE.DELETED, err: 0 },
  unknown: { state: MESSAGE_STATE.UNKNOWN, err: 0 },
  accepted: { state: MESSAGE_STATE.ACCEPTED, err: 0 },
  enroute: { state: MESSAGE_STATE.ENROUTE, err: 0 },
};

// The receipt text is built by hand from these precomputed parts rather than by formatReceiptText,
// which took 8% of the simulator's CPU at 38,000 receipts/s (profile of the direct-receipts bench);
// sim.test.ts checks that both produce the same text.
const OUTCOMES = Object.fromEntries(
  Object.entries(OUTCOME_SPECS).map(([name, spec]) => [
    name,
    {
      ...spec,
      stat: STAT_OF_STATE[spec.state],
      dlvrd: spec.state === MESSAGE_STATE.DELIVERED ? '001' : '000',
      err3: String(spec.err).padStart(3, '0'),
    },
  ]),
) as Record<DlrOutcome, OutcomeSpec & { stat: string; dlvrd: string; err3: string }>;

export function outcomeState(outcome: DlrOutcome): MessageState {
  return OUTCOMES[outcome].state;
}

/** Picks an outcome: the one given, or one of a weighted mix. */
export function createOutcomePicker(
  spec: DlrOutcome | Partial<Record<DlrOutcome, number>>,
  rng: Rng,
): () => DlrOutcome {
  if (typeof spec === 'string') return () => spec;
  const entries = Object.entries(spec).filter(([, w]) => w > 0) as [DlrOutcome, number][];
  const total = entries.reduce((sum, [, w]) => sum + w, 0);
  return () => {
    let r = rng() * total;
    for (const [outcome, w] of entries) {
      r -= w;
      if (r < 0) return outcome;
    }
    return entries[entries.length - 1][0];
  };
}

export interface ReceiptAddress {
  ton: number;
  npi: number;
  addr: string;
}

const EMPTY = Buffer.alloc(0);

// formatReceiptDate allocates a Date and five strings; a receipt date has minute resolution, so the
// last one is cached (at 50,000 receipts/s the cache hits every time but once a minute).
let lastMinute = -1;
let lastDate = '';
function receiptDate(ms: number): string {
  const minute = Math.floor(ms / 60_000);
  if (minute !== lastMinute) {
    lastMinute = minute;
    lastDate = formatReceiptDate(new Date(minute * 60_000));
  }
  return lastDate;
}

/**
 * The receipt for one destination of a message: from that destination to the message's source,
 * `text:` holding the first characters of the message (Appendix B: 20).
 */
export function buildReceipt(
  id: string,
  outcome: DlrOutcome,
  submittedAt: number,
  doneAt: number,
  source: ReceiptAddress,
  dest: ReceiptAddress,
  text: string,
  form: ReceiptForm,
): PduOf<'deliver_sm'> {
  const spec = OUTCOMES[outcome];
  let tlvs: Tlvs | undefined;
  if (form !== 'text') {
    tlvs = {
      receipted_message_id: id,
      message_state: spec.state,
      network_error_code: Buffer.from([3, spec.err >> 8, spec.err & 0xff]),
    };
  }
  const shortMessage =
    form === 'tlv'
      ? EMPTY
      : Buffer.from(
          `id:${id} sub:001 dlvrd:${spec.dlvrd} submit date:${receiptDate(submittedAt)} ` +
            `done date:${receiptDate(doneAt)} stat:${spec.stat} err:${spec.err3} text:${text}`,
          'latin1',
        );
  return {
    command: 'deliver_sm',
    command_status: 0,
    sequence_number: 0,
    service_type: '',
    source_addr_ton: dest.ton,
    source_addr_npi: dest.npi,
    source_addr: dest.addr,
    dest_addr_ton: source.ton,
    dest_addr_npi: source.npi,
    destination_addr: source.addr,
    esm_class: 0x04,
    protocol_id: 0,
    priority_flag: 0,
    schedule_delivery_time: '',
    validity_period: '',
    registered_delivery: 0,
    replace_if_present_flag: 0,
    data_coding: 0,
    sm_default_msg_id: 0,
    short_message: shortMessage,
    tlvs,
  };
}

/** SMPP 3.4 §7.1.1 absolute time, 'YYMMDDhhmmsstnnp' in UTC. */
export function smppTime(ms: number): string {
  const d = new Date(ms);
  const two = (n: number): string => String(n).padStart(2, '0');
  return (
    two(d.getUTCFullYear() % 100) +
    two(d.getUTCMonth() + 1) +
    two(d.getUTCDate()) +
    two(d.getUTCHours()) +
    two(d.getUTCMinutes()) +
    two(d.getUTCSeconds()) +
    '000+'
  );
}
