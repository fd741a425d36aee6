// Bodies of the session-management operations: SMPP 3.4 §4.1 (bind, outbind), §4.2 (unbind),
// §4.3 (generic_nack), §4.11 (enquire_link) and the header-only responses.
import type { BodyCodec } from './body.js';
import { omitErrorBody } from './body.js';
import type { PduOf } from './pdu.js';
import type { Reader } from './reader.js';
import { Status } from './status.js';
import { readTlvs } from './tlv.js';
import { cstrSize, putCstr, putU8 } from './writer.js';

type BindName = 'bind_transmitter' | 'bind_receiver' | 'bind_transceiver';
type BindRespName = `${BindName}_resp`;
type EmptyName =
  | 'unbind'
  | 'unbind_resp'
  | 'generic_nack'
  | 'enquire_link'
  | 'enquire_link_resp'
  | 'cancel_sm_resp'
  | 'replace_sm_resp';

// SMPP 3.4 §4.1.1 field sizes (C-Octet Strings, max incl. NUL).
const SYSTEM_ID = 16;
const PASSWORD = 9;
const SYSTEM_TYPE = 13;
const ADDRESS_RANGE = 41;

function readSystemId(r: Reader): string {
  return r.cstr(SYSTEM_ID, Status.ESME_RINVSYSID, 'system_id');
}

function readPassword(r: Reader): string {
  return r.cstr(PASSWORD, Status.ESME_RINVPASWD, 'password');
}

export function bindCodec(command: BindName): BodyCodec<PduOf<BindName>> {
  return {
    decode: (r, command_status, sequence_number) =>
      ({
        command,
        command_status,
        sequence_number,
        system_id: readSystemId(r),
        password: readPassword(r),
        system_type: r.cstr(SYSTEM_TYPE, Status.ESME_RINVSYSTYP, 'system_type'),
        interface_version: r.u8('interface_version'),
        addr_ton: r.u8('addr_ton'),
        addr_npi: r.u8('addr_npi'),
        // SMPP 3.4 has no status for address_range; an over-long one is a malformed PDU.
        address_range: r.cstr(ADDRESS_RANGE, Status.ESME_RINVCMDLEN, 'address_range'),
        tlvs: readTlvs(r),
      }) as PduOf<BindName>,
    size: (p) =>
      cstrSize(p.system_id, SYSTEM_ID, 'system_id') +
      cstrSize(p.password, PASSWORD, 'password') +
      cstrSize(p.system_type, SYSTEM_TYPE, 'system_type') +
      3 +
      cstrSize(p.address_range, ADDRESS_RANGE, 'address_range'),
    write: (buf, off, p) => {
      off = putCstr(buf, off, p.system_id, 'system_id');
      off = putCstr(buf, off, p.password, 'password');
      off = putCstr(buf, off, p.system_type, 'system_type');
      off = putU8(buf, off, p.interface_version, 'interface_version');
      off = putU8(buf, off, p.addr_ton, 'addr_ton');
      off = putU8(buf, off, p.addr_npi, 'addr_npi');
      return putCstr(buf, off, p.address_range, 'address_range');
    },
  };
}

/** bind_*_resp: system_id, then optionally the sc_interface_version TLV (SMPP 3.4 §4.1.2). */
export function bindRespCodec(command: BindRespName): BodyCodec<PduOf<BindRespName>> {
  return {
    decode: (r, command_status, sequence_number) =>
      ({
        command,
        command_status,
        sequence_number,
        system_id: r.remaining === 0 ? '' : readSystemId(r),
        tlvs: readTlvs(r),
      }) as PduOf<BindRespName>,
    size: (p) => (omitErrorBody(p, p.system_id === '') ? 0 : cstrSize(p.system_id, SYSTEM_ID, 'system_id')),
    write: (buf, off, p) => (omitErrorBody(p, p.system_id === '') ? off : putCstr(buf, off, p.system_id, 'system_id')),
  };
}

/** SMPP 3.4 §4.1.7 */
export const outbindCodec: BodyCodec<PduOf<'outbind'>> = {
  decode: (r, command_status, sequence_number) => ({
    command: 'outbind',
    command_status,
    sequence_number,
    system_id: readSystemId(r),
    password: readPassword(r),
    tlvs: readTlvs(r),
  }),
  size: (p) => cstrSize(p.system_id, SYSTEM_ID, 'system_id') + cstrSize(p.password, PASSWORD, 'password'),
  write: (buf, off, p) => putCstr(buf, putCstr(buf, off, p.system_id, 'system_id'), p.password, 'password'),
};

/** Header-only PDUs. Bytes after the header are read as TLVs (SMPP 5.0 peers add some). */
export function emptyCodec(command: EmptyName): BodyCodec<PduOf<EmptyName>> {
  return {
    decode: (r, command_status, sequence_number) =>
      ({ command, command_status, sequence_number, tlvs: readTlvs(r) }) as PduOf<EmptyName>,
    size: () => 0,
    write: (_buf, off) => off,
  };
}
