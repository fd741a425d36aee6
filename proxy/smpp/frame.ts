// Splits a TCP byte stream into whole PDUs. SMPP 3.4 §3.2: every PDU starts with a 4-octet
// command_length that counts the whole PDU, header (16 octets) included.

/** Largest PDU accepted by default (SPEC §4: an impossible length, < 16 or > 64 KiB, closes the session). */
export const MAX_PDU_LENGTH = 65536;
const HEADER = 16;

export type FrameResult =
  | { kind: 'frame'; frame: Buffer }
  | { kind: 'incomplete' }
  | { kind: 'error'; code: 'INVALID_LENGTH'; length: number };

const INCOMPLETE: FrameResult = Object.freeze({ kind: 'incomplete' });
const EMPTY = Buffer.alloc(0);

/**
 * Streaming frame decoder for partial and coalesced reads. Frames are zero-copy views of the pushed
 * chunks where a frame lies within one chunk; bytes are only copied to join a frame split across reads.
 * After an INVALID_LENGTH error the decoder is dead: next() repeats the error, push() drops data,
 * so `buffered` stays bounded while the caller closes the socket.
 */
export class FrameDecoder {
  readonly #maxLength: number;
  #buf: Buffer = EMPTY;
  #start = 0;
  #end = 0;
  /** True when #buf was allocated here, so bytes past #end may be written (no frame was handed out there). */
  #owned = false;
  #error: FrameResult | undefined;
  /** Where the frame nextLength() returned last lies (#buf may have moved on since). */
  #frameBuf: Buffer = EMPTY;
  #frameStart = 0;

  constructor(opts?: { maxLength?: number }) {
    this.#maxLength = opts?.maxLength ?? MAX_PDU_LENGTH;
  }

  get buffered(): number {
    return this.#end - this.#start;
  }

  push(chunk: Buffer): void {
    if (this.#error !== undefined || chunk.length === 0) return;
    const held = this.#end - this.#start;
    if (held === 0) {
      this.#buf = chunk;
      this.#start = 0;
      this.#end = chunk.length;
      this.#owned = false;
      return;
    }
    if (this.#owned && this.#buf.length - this.#end >= chunk.length) {
      this.#buf.set(chunk, this.#end);
      this.#end += chunk.length;
      return;
    }
    // Room for the whole pending frame when its length is known, so a large PDU arriving in many small
    // reads is copied once, not once per read.
    const need = held + chunk.length;
    const frameLength = held >= 4 ? this.#buf.readUInt32BE(this.#start) : 0;
    const capacity = frameLength > need && frameLength <= this.#maxLength ? frameLength : need;
    const next = Buffer.allocUnsafe(capacity);
    this.#buf.copy(next, 0, this.#start, this.#end);
    next.set(chunk, held);
    this.#buf = next;
    this.#start = 0;
    this.#end = need;
    this.#owned = true;
  }

  next(): FrameResult {
    const length = this.nextLength();
    if (length > 0) return { kind: 'frame', frame: this.#frameBuf.subarray(this.#frameStart, this.#frameStart + length) };
    return length === 0 ? INCOMPLETE : this.#error!;
  }

  /**
   * next() without its result object and Buffer view: the next frame's length, 0 when it is
   * incomplete, -1 after INVALID_LENGTH (next() then returns the error). The frame is
   * frameBuffer[frameStart, frameStart + length), valid until the next push() or nextLength(). For a session's read
   * loop: two objects per PDU fewer, and a response is decoded without a view of its frame (bench:
   * `npm run bench`, through smppd).
   */
  nextLength(): number {
    // The previous frame is done with: an idle session keeps no read chunk alive through it.
    this.#frameBuf = EMPTY;
    if (this.#error !== undefined) return -1;
    const held = this.#end - this.#start;
    if (held < 4) return 0;
    const buf = this.#buf;
    const s = this.#start;
    const length = buf[s]! * 0x1000000 + ((buf[s + 1]! << 16) | (buf[s + 2]! << 8) | buf[s + 3]!);
    if (length < HEADER || length > this.#maxLength) {
      this.#error = { kind: 'error', code: 'INVALID_LENGTH', length };
      this.#release();
      return -1;
    }
    if (held < length) return 0;
    this.#frameBuf = buf;
    this.#frameStart = s;
    this.#start = s + length;
    if (this.#start === this.#end) this.#release();
    return length;
  }

  /** The buffer holding the frame nextLength() returned last. */
  get frameBuffer(): Buffer {
    return this.#frameBuf;
  }

  /** Where in frameBuffer that frame starts. */
  get frameStart(): number {
    return this.#frameStart;
  }

  #release(): void {
    this.#buf = EMPTY;
    this.#start = 0;
    this.#end = 0;
    this.#owned = false;
  }
}

