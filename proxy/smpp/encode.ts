import { hasShortMessage, type BodyCodec } from './body.js';
import { codecFor } from './codecs.js';
import { EncodeErrorCode, SmppEncodeError } from './errors.js';
import { CommandId } from './commands.js';
import { MAX_PDU_LENGTH } from './frame.js';
import type { Pdu } from './pdu.js';
import { tlvsSize, writeTlvs } from './tlv.js';
import { putU32 } from './writer.js';

/**
 * Encodes one PDU. The size is computed (and every field validated) first, then one Buffer is allocated
 * and written in order (bench/codec.ts). Throws SmppEncodeError only for objects that cannot be encoded.
 */
export function encodePdu(pdu: Pdu): Buffer {
  const codec = codecOf(pdu);
  const length = lengthWith(codec, pdu);
  const buf = Buffer.allocUnsafe(length);
  writeWith(codec, buf, 0, pdu, length);
  return buf;
}

/** The octets encodePdu would write for `pdu`, every field's size checked (throws as encodePdu). */
export function encodedLength(pdu: Pdu): number {
  return lengthWith(codecOf(pdu), pdu);
}

/**
 * Writes `pdu` at buf[off..off + length), `length` from encodedLength: into a buffer shared with
 * other frames (session/out-buffer.ts). May still throw for a field's content (a NUL in a
 * C-Octet String); the octets written until then are garbage.
 */
export function writePdu(buf: Buffer, off: number, pdu: Pdu, length: number): void {
  writeWith(codecOf(pdu), buf, off, pdu, length);
}

function codecOf(pdu: Pdu): BodyCodec {
  const codec = codecFor(pdu);
  if (codec === undefined) {
    throw new SmppEncodeError(EncodeErrorCode.UNKNOWN_COMMAND, 'command', `unknown command ${String(pdu.command)}`);
  }
  return codec;
}

function lengthWith(codec: BodyCodec, pdu: Pdu): number {
  if (pdu.tlvs?.message_payload !== undefined && hasShortMessage(pdu)) {
    // SMPP 3.4 §5.3.2 (message_payload): message_payload replaces short_message (sm_length 0).
    throw new SmppEncodeError(EncodeErrorCode.INVALID_VALUE, 'short_message', 'short_message and message_payload both set');
  }
  const length = 16 + codec.size(pdu) + tlvsSize(pdu.tlvs);
  if (length > MAX_PDU_LENGTH) {
    throw new SmppEncodeError(EncodeErrorCode.FIELD_TOO_LONG, 'command_length', `PDU of ${length} octets`);
  }
  return length;
}

function writeWith(codec: BodyCodec, buf: Buffer, off: number, pdu: Pdu, length: number): void {
  off = putU32(buf, off, length, 'command_length');
  off = putU32(buf, off, CommandId[pdu.command], 'command_id');
  off = putU32(buf, off, pdu.command_status, 'command_status');
  off = putU32(buf, off, pdu.sequence_number, 'sequence_number');
  off = codec.write(buf, off, pdu);
  writeTlvs(buf, off, pdu.tlvs);
}
