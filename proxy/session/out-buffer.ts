// The bytes a session has written since its last socket write (session.ts writeFrame: frames leave
// in one write per tick). Responses are encoded straight into it and request frames copied into it,
// instead of one Buffer per frame joined by Buffer.concat at the write: one allocation and one
// copy fewer per frame (bench: `npm run bench`, through smppd).
//
// After a write the buffer is used again only when the socket has taken every byte inside write():
// a TCP socket with nothing queued hands them to the kernel at once and keeps no reference. When
// the write has to wait, the socket keeps the buffer and the next frames go to another. Between
// writes a session holds no buffer: it goes back to a small pool that all sessions share, so
// 10,000 idle sessions hold none (bench: idle sessions RSS).

/** Size of a pooled buffer. Frames beyond it grow the buffer (not pooled then). */
const POOLED_SIZE = 64 * 1024;
/** Most free buffers kept: enough for the sessions that write within one tick under load. */
const POOL_MAX = 32;
const pool: Buffer[] = [];

function pooled(): Buffer {
  return pool.pop() ?? Buffer.allocUnsafeSlow(POOLED_SIZE);
}

function recycle(buf: Buffer): void {
  if (buf.length === POOLED_SIZE && pool.length < POOL_MAX) pool.push(buf);
}

export class OutBuffer {
  /** Bytes waiting to be written. */
  length = 0;
  private buf: Buffer | undefined;
  /** The buffer of the write in progress (take(true) until written()). */
  private lent: Buffer | undefined;

  /** The buffer to write the next `n` bytes into, at offset `length`; commit(n) keeps them. */
  reserve(n: number): Buffer {
    const buf = this.buf;
    const need = this.length + n;
    if (buf !== undefined && need <= buf.length) return buf;
    const next = need <= POOLED_SIZE ? pooled() : Buffer.allocUnsafeSlow(Math.max(need, 2 * (buf?.length ?? 0)));
    if (buf !== undefined) {
      buf.copy(next, 0, 0, this.length);
      recycle(buf);
    }
    this.buf = next;
    return next;
  }

  commit(n: number): void {
    this.length += n;
  }

  /** Copies `frame` in. */
  append(frame: Buffer): void {
    const buf = this.reserve(frame.length);
    frame.copy(buf, this.length);
    this.length += frame.length;
  }

  /**
   * The waiting bytes, for a write that may keep them: a view of the buffer itself when `shareable`
   * (then `written` must follow the write), else a copy. Frames written meanwhile go to another buffer.
   */
  take(shareable: boolean): Buffer {
    const buf = this.buf!;
    const n = this.length;
    this.buf = undefined;
    this.length = 0;
    if (shareable) {
      this.lent = buf;
      return buf.subarray(0, n);
    }
    const copy = Buffer.allocUnsafe(n);
    buf.copy(copy, 0, 0, n);
    recycle(buf);
    return copy;
  }

  /** After take(true): `released` says whether the write let go of the bytes (the buffer is reusable). */
  written(released: boolean): void {
    const buf = this.lent;
    this.lent = undefined;
    if (released && buf !== undefined) recycle(buf);
  }

  /** Forgets the waiting bytes (the socket is gone). */
  discard(): void {
    this.length = 0;
    const buf = this.buf;
    this.buf = undefined;
    if (buf !== undefined) recycle(buf);
  }
}
