import { hasShortMessage, type BodyCodec } from './body.js';
import { CODECS } from './codecs.js';
import { EncodeErrorCode, SmppEncodeError } from './errors.js';
import { CommandId } from './commands.js';
import { MAX_PDU_LENGTH } from './frame.js';
import type { Pdu } from './pdu.js';
import { tlvsSize, writeTlvs } from './tlv.js';
import { putU32 } from './writer.js';

/**
 * What encoding a PDU looks up by its command name: its body codec and command_id, in one entry.
 * Each lookup by name is a megamorphic keyed load (~100-300 instructions under callgrind): a
 * written frame made three (the codec for its length and again for its bytes, then its command_id);
 * writePduFrame (session.ts) now makes one (commandOf, then the *With functions).
 */
export interface EncodableCommand {
  readonly codec: BodyCodec;
  readonly commandId: number;
}

const COMMANDS: Readonly<Record<string, EncodableCommand | undefined>> = Object.fromEntries(
  Object.entries(CODECS).map(([name, codec]) => [name, { codec, commandId: CommandId[name as keyof typeof CommandId] }]),
);

/** The command entry of `pdu`; throws SmppEncodeError UNKNOWN_COMMAND for a command SMPP 3.4 does not have. */
export function commandOf(pdu: Pdu): EncodableCommand {
  const command = COMMANDS[pdu.command];
  if (command === undefined) {
    throw new SmppEncodeError(EncodeErrorCode.UNKNOWN_COMMAND, 'command', `unknown command ${String(pdu.command)}`);
  }
  return command;
}

/**
 * Encodes one PDU. The size is computed (and every field validated) first, then one Buffer is allocated
 * and written in order (bench/codec.ts). Throws SmppEncodeError only for objects that cannot be encoded.
 */
export function encodePdu(pdu: Pdu): Buffer {
  const command = commandOf(pdu);
  const length = encodedLengthWith(command, pdu);
  const buf = Buffer.allocUnsafe(length);
  writePduWith(command, buf, 0, pdu, length);
  return buf;
}

/** The octets encodePdu would write for `pdu` of `command` (commandOf(pdu)), every field's size checked (throws as encodePdu). */
export function encodedLengthWith(command: EncodableCommand, pdu: Pdu): number {
  if (pdu.tlvs?.message_payload !== undefined && hasShortMessage(pdu)) {
    // SMPP 3.4 §5.3.2 (message_payload): message_payload replaces short_message (sm_length 0).
    throw new SmppEncodeError(EncodeErrorCode.INVALID_VALUE, 'short_message', 'short_message and message_payload both set');
  }
  const length = 16 + command.codec.size(pdu) + tlvsSize(pdu.tlvs);
  if (length > MAX_PDU_LENGTH) {
    throw new SmppEncodeError(EncodeErrorCode.FIELD_TOO_LONG, 'command_length', `PDU of ${length} octets`);
  }
  return length;
}

/**
 * Writes `pdu` of `command` at buf[off..off + length), `length` from encodedLengthWith: into a buffer
 * shared with other frames (session/out-buffer.ts). May still throw for a field's content (a NUL in
 * a C-Octet String); the octets written until then are garbage.
 */
export function writePduWith(command: EncodableCommand, buf: Buffer, off: number, pdu: Pdu, length: number): void {
  off = putU32(buf, off, length, 'command_length');
  off = putU32(buf, off, command.commandId, 'command_id');
  off = putU32(buf, off, pdu.command_status, 'command_status');
  off = putU32(buf, off, pdu.sequence_number, 'sequence_number');
  off = command.codec.write(buf, off, pdu);
  writeTlvs(buf, off, pdu.tlvs);
}
