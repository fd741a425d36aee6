import type { Pdu } from './pdu.js';
import type { Reader } from './reader.js';

/** How one command's body is read and written; TLVs are part of the body (read last). */
export interface BodyCodec<P extends Pdu = Pdu> {
  /** Reads the body (mandatory fields then TLVs). Problems are recorded in the reader, never thrown. */
  decode(r: Reader, command_status: number, sequence_number: number): P;
  /** Octets of the mandatory part (TLVs excluded); validates, so write() cannot overrun. */
  size(p: P): number;
  /** Writes the mandatory part at `off`, returns the next offset. */
  write(buf: Buffer, off: number, p: P): number;
}

/**
 * SMPP 3.4 §4.1.2, §4.4.2 etc.: "The ... PDU body is not returned if the command_status field contains
 * a non-zero value". Responses with an error status, no TLVs and only empty body fields encode as a
 * bare header; decode accepts a bare header for any response and fills defaults.
 */
export function omitErrorBody(p: Pdu, bodyIsEmpty: boolean): boolean {
  return bodyIsEmpty && p.command_status !== 0 && p.tlvs === undefined;
}

/** True when the PDU has a short_message field with text in it. */
export function hasShortMessage(pdu: Pdu): boolean {
  const sm = (pdu as { short_message?: Buffer }).short_message;
  return sm !== undefined && sm.length > 0;
}
