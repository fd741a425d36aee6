// smppd's own message ids -> record slot (record-table.ts), for ids whose key is a counter.
//
// Own ids are saved in counter order, so this is a queue indexed by counter rather than a hash
// table: saving and finding a message costs an array access, not a lookup among hundreds of
// thousands (bench: `npm run bench`, through smppd). It is held in fixed chunks of CHUNK slots
// (Float64Array: slot numbers can pass 2^31 in a long run), appended at the back and dropped at
// the front as records expire. One growing JS array did the same job before, and growing it (or
// copying its live part down) copied megabytes in one step: in a loop of 4.4 million saves one
// push stalled 226 ms (measured, Node 24). A chunk is 64 KiB, allocated in well under a ms.
//
// A counter behind the front, or more than MAX_GAP past the back, is refused (set() returns
// false) and the caller keeps it elsewhere.

const CHUNK_BITS = 13;
const CHUNK = 1 << CHUNK_BITS;
const CHUNK_MASK = CHUNK - 1;

/** Counters skipped between two saved ones that are filled with "none" rather than refused. */
export const MAX_GAP = 4096;

/** "No slot" in a chunk (slot numbers are >= 0). */
const NONE = -1;

export class CounterIndex {
  /** chunks[i] holds positions i * CHUNK ... i * CHUNK + CHUNK - 1. */
  private chunks: Float64Array[] = [];
  /** The counter at position 0; moves up as chunks are dropped, so positions stay small. */
  private origin = 0;
  /** Logical positions [lo, hi) may hold slots; all others hold none. */
  private lo = 0;
  private hi = 0;

  /** The slot of `counter`, or undefined. */
  get(counter: number): number | undefined {
    const p = counter - this.origin;
    if (p < this.lo || p >= this.hi) return undefined;
    const seq = this.chunks[p >>> CHUNK_BITS]![p & CHUNK_MASK]!;
    return seq >= 0 ? seq : undefined;
  }

  /** Points `counter` at `seq`; false when the counter is outside what this index takes. */
  set(counter: number, seq: number): boolean {
    if (this.lo === this.hi) this.reset(counter);
    const p = counter - this.origin;
    if (p < this.lo || p - this.hi > MAX_GAP) return false;
    if (p >= this.hi) {
      // Positions past hi were never written since their chunk was made: they hold NONE.
      while ((p >>> CHUNK_BITS) >= this.chunks.length) this.chunks.push(new Float64Array(CHUNK).fill(NONE));
      this.hi = p + 1;
    }
    this.chunks[p >>> CHUNK_BITS]![p & CHUNK_MASK] = seq;
    return true;
  }

  /** Forgets `counter` if it points at `seq`; true when it did. */
  delete(counter: number, seq: number): boolean {
    const p = counter - this.origin;
    if (p < this.lo || p >= this.hi) return false;
    const chunk = this.chunks[p >>> CHUNK_BITS]!;
    if (chunk[p & CHUNK_MASK] !== seq) return false;
    chunk[p & CHUNK_MASK] = NONE;
    return true;
  }

  /** Moves the front past counters with no slot or a slot below `head`, dropping passed chunks. */
  trim(head: number): void {
    let p = this.lo;
    while (p < this.hi) {
      const seq = this.chunks[p >>> CHUNK_BITS]![p & CHUNK_MASK]!;
      if (seq >= 0 && seq >= head) break;
      p++;
    }
    this.lo = p;
    if (p === this.hi) {
      this.reset(0);
      return;
    }
    const drop = p >>> CHUNK_BITS;
    if (drop > 0) {
      this.chunks.splice(0, drop);
      const by = drop * CHUNK;
      this.origin += by;
      this.lo -= by;
      this.hi -= by;
    }
  }

  /** Gives every slot a new number, or none where `renumber` has none (record-table rebuild). */
  renumber(renumber: ReadonlyMap<number, number>): void {
    for (let p = this.lo; p < this.hi; p++) {
      const chunk = this.chunks[p >>> CHUNK_BITS]!;
      const seq = chunk[p & CHUNK_MASK]!;
      if (seq >= 0) chunk[p & CHUNK_MASK] = renumber.get(seq) ?? NONE;
    }
  }

  clear(): void {
    this.reset(0);
  }

  private reset(origin: number): void {
    this.chunks = [];
    this.origin = origin;
    this.lo = this.hi = 0;
  }
}
