// Public API of the SMPP 3.4 codec (proxy/smpp). Pure: no sockets, logs or metrics.
export {
  CommandId,
  commandNameOf,
  expectsResponse,
  isRequestName,
  isResponseId,
  isSubmission,
  responseNameOf,
} from './commands.js';
export type {
  AnsweredRequestName,
  CommandName,
  RequestName,
  ResponseName,
  ResponseNameOf,
  UnansweredRequestName,
} from './commands.js';
export { Status, statusName } from './status.js';
export type { StatusName } from './status.js';
export { TlvTag, tlvNameOf } from './tlv.js';
export type { TlvName, Tlvs, UnknownTlv } from './tlv.js';
export type * from './pdu.js';
export { decodeFailure, decodePdu, decodePduAt } from './decode.js';
export type { DecodeFailure, DecodeResult } from './decode.js';
export { commandOf, encodePdu, encodedLengthWith, writePduWith, type EncodableCommand } from './encode.js';
export { FrameDecoder, MAX_PDU_LENGTH } from './frame.js';
export type { FrameResult } from './frame.js';
export { genericNack, responseFor } from './response.js';
export { EncodeErrorCode, SmppEncodeError } from './errors.js';
