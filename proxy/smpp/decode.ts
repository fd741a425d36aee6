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

const HEADER = 16;

// One reader reused by every call: decodePdu is synchronous and not re-entrant.
const reader = new Reader();

function u32(b: Buffer, o: number): number {
  return b[o]! * 0x1000000 + ((b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!);
}

function failure(status: number, reason: string, command_id: number, sequence_number: number): DecodeResult {
  return { ok: false, status, reason, command_id, sequence_number };
}

/**
 * Decodes one whole PDU (header + body, as FrameDecoder yields it). Never throws on bad bytes:
 * problems come back as `ok: false` with the status to answer with.
 */
export function decodePdu(frame: Buffer): DecodeResult {
  const n = frame.length;
  // SMPP 3.4 §3.2: the header is 16 octets; command_length counts the whole PDU.
  if (n < HEADER) {
    return failure(Status.ESME_RINVCMDLEN, `frame of ${n} octets`, n >= 8 ? u32(frame, 4) : 0, 0);
  }
  const length = u32(frame, 0);
  const id = u32(frame, 4);
  const status = u32(frame, 8);
  const seq = u32(frame, 12);
  if (length !== n || length > MAX_PDU_LENGTH) {
    return failure(Status.ESME_RINVCMDLEN, `command_length ${length} in a frame of ${n} octets`, id, seq);
  }
  const codec = codecForId(id);
  // SMPP 3.4 §5.1.3: unknown command_id -> ESME_RINVCMDID (answered with generic_nack).
  if (codec === undefined) return failure(Status.ESME_RINVCMDID, `unknown command_id 0x${id.toString(16)}`, id, seq);
  const r = reader;
  r.reset(frame, HEADER, n);
  let pdu: Pdu;
  try {
    pdu = codec.decode(r, status, seq);
  } catch (err) {
    // Not reachable by design (readers record errors instead of throwing); a safety net for "never throws".
    return failure(Status.ESME_RSYSERR, `decoder fault: ${String(err)}`, id, seq);
  }
  if (r.status !== 0) return failure(r.status, r.reason, id, seq);
  if (pdu.tlvs?.message_payload !== undefined && hasShortMessage(pdu)) {
    // SMPP 3.4 §5.3.2 (message_payload): with message_payload, sm_length is 0; both carrying text is contradictory.
    return failure(Status.ESME_RINVMSGLEN, 'short_message and message_payload both present', id, seq);
  }
  return { ok: true, pdu };
}
