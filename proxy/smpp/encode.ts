import { hasShortMessage } from './body.js';
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
  const codec = codecFor(pdu);
  if (codec === undefined) {
    throw new SmppEncodeError(EncodeErrorCode.UNKNOWN_COMMAND, 'command', `unknown command ${String(pdu.command)}`);
  }
  if (pdu.tlvs?.message_payload !== undefined && hasShortMessage(pdu)) {
    // SMPP 3.4 §5.3.2 (message_payload): message_payload replaces short_message (sm_length 0).
    throw new SmppEncodeError(EncodeErrorCode.INVALID_VALUE, 'short_message', 'short_message and message_payload both set');
  }
  const length = 16 + codec.size(pdu) + tlvsSize(pdu.tlvs);
  if (length > MAX_PDU_LENGTH) {
    throw new SmppEncodeError(EncodeErrorCode.FIELD_TOO_LONG, 'command_length', `PDU of ${length} octets`);
  }
  const buf = Buffer.allocUnsafe(length);
  let off = putU32(buf, 0, length, 'command_length');
  off = putU32(buf, off, CommandId[pdu.command], 'command_id');
  off = putU32(buf, off, pdu.command_status, 'command_status');
  off = putU32(buf, off, pdu.sequence_number, 'sequence_number');
  off = codec.write(buf, off, pdu);
  writeTlvs(buf, off, pdu.tlvs);
  return buf;
}
