// SMPP 3.4 §3.2: sequence_number is 0x00000001..0x7FFFFFFF; it wraps to 1, never 0. Each session
// owns its counter (STYLE rule 4): a process-global counter couples unrelated sessions.

export const MAX_SEQUENCE = 0x7fffffff;

export interface Sequence {
  /** The next sequence number to use. */
  next(): number;
}

/** `first` is the first number returned (tests start near the wrap point). */
export function createSequence(first = 1): Sequence {
  if (!Number.isInteger(first) || first < 1 || first > MAX_SEQUENCE) {
    throw new RangeError(`first sequence number must be 1..${MAX_SEQUENCE}, got ${first}`);
  }
  let current = first - 1;
  return {
    next(): number {
      current = current >= MAX_SEQUENCE ? 1 : current + 1;
      return current;
    },
  };
}
