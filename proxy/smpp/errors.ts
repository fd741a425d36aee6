// Stable error codes of the codec. Decoding never throws (it returns a status); encoding throws
// SmppEncodeError only for objects that cannot be put on the wire, which are programming errors.

export const EncodeErrorCode = {
  /** A C-Octet String or octet string is longer than SMPP 3.4 §4 allows for its field. */
  FIELD_TOO_LONG: 'FIELD_TOO_LONG',
  /** An integer out of its field's range, a string with NUL or non-latin1 characters, a missing field. */
  INVALID_VALUE: 'INVALID_VALUE',
  /** `command` is not an SMPP 3.4 operation. */
  UNKNOWN_COMMAND: 'UNKNOWN_COMMAND',
  /** A TLV name not in SMPP 3.4 §5.3 (put vendor TLVs in `tlvs.unknown`). */
  UNKNOWN_TLV: 'UNKNOWN_TLV',
} as const;

export type EncodeErrorCode = (typeof EncodeErrorCode)[keyof typeof EncodeErrorCode];

export class SmppEncodeError extends Error {
  override readonly name = 'SmppEncodeError';
  readonly code: EncodeErrorCode;
  readonly field: string;

  constructor(code: EncodeErrorCode, field: string, message: string) {
    super(message);
    this.code = code;
    this.field = field;
  }
}
