import { hasShortMessage } from './body.js';
import { codecForId } from './codecs.js';
import { MAX_PDU_LENGTH } from './frame.js';
import type { Pdu } from './pdu.js';
import { Reader } from './reader.js';
import { Status } from './status.js';

export type DecodeResult =
  | { ok: true; pdu: Pdu }
  | {
      ok: false;
      /** ESME_* status to answer with (in a *_resp or generic_nack). */
      status: number;
      /** Human text, for logs only; never branch on it. */
      reason: string;
      /** From the header (0 where the frame is too short to hold it). */
      command_id: number;
      sequence_number: number;
    };

/** A frame that did not decode: the status to answer with, and what the header said. */
export type DecodeFailure = Extract<DecodeResult, { ok: false }>;

const HEADER = 16;

// One reader reused by every call: decodePdu is synchronous and not re-entrant.
const reader = new Reader();

function u32(b: Buffer, o: number): number {
  return b[o]! * 0x1000000 + ((b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!);
}

function failure(status: number, reason: string, command_id: number, sequence_number: number): DecodeFailure {
  return { ok: false, status, reason, command_id, sequence_number };
}

/**
 * Decodes one whole PDU (header + body, as FrameDecoder yields it). Never throws on bad bytes:
 * problems come back as `ok: false` with the status to answer with.
 */
export function decodePdu(frame: Buffer): DecodeResult {
  const pdu = decodePduAt(frame, 0, frame.length);
  return pdu !== undefined ? { ok: true, pdu } : lastFailure!;
}

/** Why the last decodePduAt returned undefined. */
let lastFailure: DecodeFailure | undefined;

/** The failure of the last decodePduAt that returned undefined (read it before the next call). */
export function decodeFailure(): DecodeFailure {
  return lastFailure!;
}

function fail(status: number, reason: string, command_id: number, sequence_number: number): undefined {
  lastFailure = failure(status, reason, command_id, sequence_number);
  return undefined;
}

/**
 * decodePdu of the frame buf[start, end), with no result object: the PDU, or undefined with the
 * failure in decodeFailure(). For a session's read loop (one object per PDU fewer; bench: `npm run
 * bench`, through smppd). Buffer fields (short_message, octet TLVs) are views of `buf`.
 */
export function decodePduAt(buf: Buffer, start: number, end: number): Pdu | undefined {
  const n = end - start;
  // SMPP 3.4 §3.2: the header is 16 octets; command_length counts the whole PDU.
  if (n < HEADER) {
    return fail(Status.ESME_RINVCMDLEN, `frame of ${n} octets`, n >= 8 ? u32(buf, start + 4) : 0, 0);
  }
  const length = u32(buf, start);
  const id = u32(buf, start + 4);
  const status = u32(buf, start + 8);
  const seq = u32(buf, start + 12);
  if (length !== n || length > MAX_PDU_LENGTH) {
    return fail(Status.ESME_RINVCMDLEN, `command_length ${length} in a frame of ${n} octets`, id, seq);
  }
  const codec = codecForId(id);
  // SMPP 3.4 §5.1.3: unknown command_id -> ESME_RINVCMDID (answered with generic_nack).
  if (codec === undefined) return fail(Status.ESME_RINVCMDID, `unknown command_id 0x${id.toString(16)}`, id, seq);
  const r = reader;
  r.reset(buf, start + HEADER, end);
  let pdu: Pdu;
  try {
    pdu = codec.decode(r, status, seq);
  } catch (err) {
    // Not reachable by design (readers record errors instead of throwing); a safety net for "never throws".
    return fail(Status.ESME_RSYSERR, `decoder fault: ${String(err)}`, id, seq);
  }
  if (r.status !== 0) return fail(r.status, r.reason, id, seq);
  if (pdu.tlvs?.message_payload !== undefined && hasShortMessage(pdu)) {
    // SMPP 3.4 §5.3.2 (message_payload): with message_payload, sm_length is 0; both carrying text is contradictory.
    return fail(Status.ESME_RINVMSGLEN, 'short_message and message_payload both present', id, seq);
  }
  return pdu;
}
