// Pure helpers for upstream-originated deliver_sm/data_sm (SPEC §4 Receipts, MO): is it a receipt,
// which upstream id and stat does it carry, and the copy rewritten to carry smppd's id.

import {
  canonicalReceiptIdStat,
  messageStateToStat,
  parseReceiptText,
  replaceIdAt,
  replaceReceiptId,
  replaceReceiptStat,
  statToMessageState,
  type CanonicalIdStat,
} from '../smpp/dlr.js';
import type { DataSm, DeliverSm, Tlvs, UnknownTlv } from '../smpp/index.js';

export type UpstreamPdu = DeliverSm | DataSm;

/** SMPP 3.4 §5.2.12 esm_class bits 5-2 (message type) of a deliver_sm/data_sm from the SMSC. */
const ESM_TYPE_MASK = 0x3c;
const ESM_TYPE_SMSC_RECEIPT = 0x04; // SMSC delivery receipt
const ESM_TYPE_SME_ACK = 0x08; // SME delivery acknowledgement
const ESM_TYPE_USER_ACK = 0x10; // SME manual/user acknowledgement
const ESM_TYPE_INTERMEDIATE = 0x20; // intermediate delivery notification

/** SMPP 3.4 §5.2.19: short_message is at most 254 octets; longer text goes to message_payload. */
const MAX_SHORT_MESSAGE = 254;

export interface ReceiptInfo {
  /** The SMSC's message id (receipted_message_id TLV, else the text's id); undefined when there is none. */
  id: string | undefined;
  /** Appendix B stat (DELIVRD, UNDELIV, ...) from message_state or the text; UNKNOWN when neither says. */
  stat: string;
  /**
   * Where the text's id lies in the text (textOf), when the canonical scan read it: [idStart,
   * idEnd), else -1 and -1. rewriteReceipt of this same PDU then needs no second scan.
   */
  idStart: number;
  idEnd: number;
}

function flaggedAsReceipt(esmClass: number): boolean {
  const type = esmClass & ESM_TYPE_MASK;
  return (
    type === ESM_TYPE_SMSC_RECEIPT ||
    type === ESM_TYPE_SME_ACK ||
    type === ESM_TYPE_USER_ACK ||
    type === ESM_TYPE_INTERMEDIATE
  );
}

/** The buffer that holds the message text: short_message, or message_payload when that is empty. */
function textOf(pdu: UpstreamPdu): Buffer | undefined {
  if (pdu.command === 'deliver_sm' && pdu.short_message.length > 0) return pdu.short_message;
  return pdu.tlvs?.message_payload;
}

/**
 * Receipt facts when the PDU is a receipt (SPEC §4: esm_class, the receipted_message_id 0x001E /
 * message_state 0x0427 / network_error_code 0x0423 TLVs, or the Appendix B text), else undefined: MO.
 * The text is parsed only when the TLVs do not already give both id and state.
 */
export function receiptInfo(pdu: UpstreamPdu): ReceiptInfo | undefined {
  const tlvs = pdu.tlvs;
  const tlvId = tlvs?.receipted_message_id;
  const tlvState = tlvs?.message_state;
  const flagged =
    flaggedAsReceipt(pdu.esm_class) ||
    tlvId !== undefined ||
    tlvState !== undefined ||
    tlvs?.network_error_code !== undefined;
  if (flagged && tlvId !== undefined && tlvState !== undefined) {
    return { id: tlvId === '' ? undefined : tlvId, stat: messageStateToStat(tlvState) ?? 'UNKNOWN', idStart: -1, idEnd: -1 };
  }
  const receipt = textReceipt(pdu);
  if (!flagged && receipt === undefined) return undefined;
  const id = tlvId !== undefined && tlvId !== '' ? tlvId : receipt?.id;
  const stat =
    tlvState !== undefined ? (messageStateToStat(tlvState) ?? receipt?.stat ?? 'UNKNOWN') : (receipt?.stat ?? 'UNKNOWN');
  return { id, stat, idStart: receipt?.idStart ?? -1, idEnd: receipt?.idEnd ?? -1 };
}

/**
 * The id and (upper-cased) stat of the receipt's text, whatever the TLVs say, and where the id lies
 * when the canonical scan read it (else -1); undefined without one.
 */
function textReceipt(pdu: UpstreamPdu): CanonicalIdStat | undefined {
  const text = textOf(pdu);
  if (text === undefined || text.length === 0) return undefined;
  // The canonical form first: id and stat without the tolerant parser (bench: `npm run bench`).
  const quick = canonicalReceiptIdStat(text);
  if (quick !== undefined) return quick;
  const parsed = parseReceiptText(text);
  return parsed.ok ? { id: parsed.receipt.id, stat: parsed.receipt.stat, idStart: -1, idEnd: -1 } : undefined;
}

/** The stat word of the receipt's text (upper-cased), whatever message_state says; undefined without one. */
export function receiptTextStat(pdu: UpstreamPdu): string | undefined {
  return textReceipt(pdu)?.stat;
}

function copyTlvs(tlvs: Tlvs): Tlvs {
  const out: Record<string, unknown> = {};
  for (const name in tlvs) {
    const value = tlvs[name as keyof Tlvs];
    if (value === undefined) continue;
    if (Buffer.isBuffer(value)) out[name] = Buffer.from(value);
    else if (name === 'unknown') {
      out[name] = (value as UnknownTlv[]).map((t) => ({ tag: t.tag, value: Buffer.from(t.value) }));
    } else out[name] = value;
  }
  return out as Tlvs;
}

/**
 * A copy that owns its bytes: decoded Buffers are views of the received frame (smpp/pdu.ts), and a
 * kept view would pin the whole socket chunk for as long as the store keeps the PDU (up to store.ttl).
 * Header fields are reset: the client session assigns its own sequence number. `copyShortMessage`
 * false: the caller replaces short_message with a Buffer of its own.
 */
export function detachPdu<P extends UpstreamPdu>(pdu: P, copyShortMessage = true): P {
  const copy = { ...pdu, command_status: 0, sequence_number: 0 };
  if (copy.command === 'deliver_sm' && copyShortMessage) copy.short_message = Buffer.from(copy.short_message);
  if (pdu.tlvs !== undefined) copy.tlvs = copyTlvs(pdu.tlvs);
  return copy;
}

/** The receipt text with its id replaced: where `at` says it lies, else where a scan finds it. */
function withId(text: Uint8Array, smppdId: string, at: ReceiptInfo | undefined): Buffer | undefined {
  return at !== undefined ? replaceIdAt(text, at.idStart, at.idEnd, smppdId) : replaceReceiptId(text, smppdId);
}

/**
 * The receipt rewritten for the client (SPEC §4, FIELD-NOTES §5 "rewrite it in every DLR"): smppd's
 * id in the text (short_message or message_payload) and in receipted_message_id when present; every
 * other field as the SMSC sent it. A detached copy: the input is not changed.
 */
export function rewriteReceipt<P extends UpstreamPdu>(pdu: P, smppdId: string, read?: ReceiptInfo): P {
  // The rewritten text is a new Buffer already: short_message is copied once, not twice (bench:
  // `npm run bench`, with receipts). `read`: receiptInfo of this same PDU, whose scan found the id.
  const at = read !== undefined && read.idStart >= 0 ? read : undefined;
  const text = pdu.command === 'deliver_sm' && pdu.short_message.length > 0 ? withId(pdu.short_message, smppdId, at) : undefined;
  const out = detachPdu(pdu, text === undefined);
  if (out.command === 'deliver_sm' && out.short_message.length > 0) {
    if (text !== undefined) {
      if (text.length <= MAX_SHORT_MESSAGE) out.short_message = text;
      else {
        // A long id made the text overflow short_message: carry it in message_payload instead
        // (SMPP 3.4 §5.3.2.32: sm_length 0 with message_payload).
        out.short_message = Buffer.alloc(0);
        out.tlvs = { ...out.tlvs, message_payload: text };
      }
    }
  } else if (out.tlvs?.message_payload !== undefined) {
    const text = withId(out.tlvs.message_payload, smppdId, at);
    if (text !== undefined) out.tlvs.message_payload = text;
  }
  if (out.tlvs?.receipted_message_id !== undefined) out.tlvs.receipted_message_id = smppdId;
  return out;
}

/**
 * The receipt as the cluster's `receipt_stats` has clients read it: `stat` in the text (short_message
 * or message_payload) and message_state when present. A detached copy; the input is not changed.
 */
export function restatReceipt<P extends UpstreamPdu>(pdu: P, stat: string): P {
  const out = detachPdu(pdu);
  if (out.command === 'deliver_sm' && out.short_message.length > 0) {
    out.short_message = replaceReceiptStat(out.short_message, stat) ?? out.short_message;
  } else if (out.tlvs?.message_payload !== undefined) {
    out.tlvs.message_payload = replaceReceiptStat(out.tlvs.message_payload, stat) ?? out.tlvs.message_payload;
  }
  const state = statToMessageState(stat);
  if (out.tlvs?.message_state !== undefined && state !== undefined) out.tlvs.message_state = state;
  return out;
}

/** An MO address as compared against `mo_addresses`: a leading '+' is ignored on both sides. */
export function moAddressKey(address: string): string {
  return address.charCodeAt(0) === 0x2b ? address.slice(1) : address;
}
