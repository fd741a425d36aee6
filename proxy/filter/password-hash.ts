// Client passwords stored as scrypt hashes (clients[].password_hash), so that a leaked config file,
// ConfigMap or Secret does not give away the passwords ESMEs bind with. SMPP passwords are at most
// 8 characters: a fast hash of one is guessed in minutes, hence a slow, memory-hard one (scrypt,
// built into Node; no dependency). Written in the PHC string format, as other tools write it:
//
//   $scrypt$ln=<log2 N>,r=<block size>,p=<parallelism>$<salt, base64>$<hash, base64>
//
// `smppd --hash-password` makes one. Verifying costs ~50 ms of a libuv pool thread (ln=14), never
// the event loop; auth.ts remembers the last password that passed, so a client's re-binds compare
// digests instead of hashing again.

import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

export interface PasswordHash {
  /** log2 of scrypt's cost N. */
  readonly ln: number;
  readonly r: number;
  readonly p: number;
  readonly salt: Buffer;
  readonly hash: Buffer;
}

/** What `smppd --hash-password` writes: 16 MiB and ~50 ms per check. */
const DEFAULT_COST = { ln: 14, r: 8, p: 1 } as const;
/**
 * Bounds on what a config may ask for. Below ln 10 a hash is too cheap to slow a guesser down; a
 * check needs about 128 * N * r bytes, capped at 128 MiB (ln 17 with r 8, ln 16 with r 16).
 */
const MIN_LN = 10;
const MAX_LN = 20;
const MAX_R = 16;
const MAX_P = 4;
const MAX_CHECK_BYTES = 128 * 1024 * 1024;

export const PASSWORD_HASH_FORMAT = '$scrypt$ln=<n>,r=<n>,p=<n>$<salt base64>$<hash base64> (make one with smppd --hash-password)';

const PHC = /^\$scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/;

/** The hash, or a message saying what is wrong with the text. */
export function parsePasswordHash(text: string): PasswordHash | string {
  const m = PHC.exec(text.trim());
  if (m === null) return `must be ${PASSWORD_HASH_FORMAT}`;
  const [ln, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (ln < MIN_LN || ln > MAX_LN) return `ln must be ${MIN_LN} to ${MAX_LN}, got ${ln}`;
  if (r < 1 || r > MAX_R) return `r must be 1 to ${MAX_R}, got ${r}`;
  if (p < 1 || p > MAX_P) return `p must be 1 to ${MAX_P}, got ${p}`;
  if (128 * 2 ** ln * r > MAX_CHECK_BYTES) return `ln=${ln} with r=${r} needs more than 128 MiB per check`;
  const salt = Buffer.from(m[4]!, 'base64');
  const hash = Buffer.from(m[5]!, 'base64');
  if (salt.length < 8) return 'the salt must be at least 8 bytes';
  if (hash.length < 16) return 'the hash must be at least 16 bytes';
  return { ln, r, p, salt, hash };
}

function derive(password: string, salt: Buffer, length: number, cost: { ln: number; r: number; p: number }): Promise<Buffer> {
  const N = 2 ** cost.ln;
  return new Promise((resolve, reject) => {
    // scrypt's own need is 128 * r * (N + p + 2) bytes; the rest is slack for Node's bookkeeping.
    scrypt(password, salt, length, { N, r: cost.r, p: cost.p, maxmem: 128 * cost.r * (N + cost.p + 2) + 1024 * 1024 }, (err, key) =>
      err === null ? resolve(key) : reject(err),
    );
  });
}

/** A new PHC string for `password` with a random salt. */
export async function hashPassword(password: string, cost: { ln: number; r: number; p: number } = DEFAULT_COST): Promise<string> {
  const salt = randomBytes(16);
  const hash = await derive(password, salt, 32, cost);
  return `$scrypt$ln=${cost.ln},r=${cost.r},p=${cost.p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/**
 * At most this many scrypt checks run at once; the rest wait their turn. The libuv pool (4 threads
 * by default) also resolves host names (upstream endpoints, Redis) and reads files: a crowd of
 * clients binding at once after a restart must not hold all of it.
 */
const MAX_CONCURRENT_CHECKS = 2;
/**
 * At most this many wait: beyond, a check is refused at once (PasswordChecksBusy) rather than
 * queued. A queue without bound would let binds with wrong passwords, each a connection closed at
 * once, pile up work and memory, and real binds would wait behind them for minutes.
 */
const MAX_WAITING_CHECKS = 64;
let running = 0;
const waiting: Array<() => void> = [];

/** Too many password checks already wait: the bind is refused, to be tried again. */
export class PasswordChecksBusy extends Error {
  constructor() {
    super(`${MAX_CONCURRENT_CHECKS} password checks running and ${MAX_WAITING_CHECKS} waiting`);
    this.name = 'PasswordChecksBusy';
  }
}

async function inTurn<T>(work: () => Promise<T>): Promise<T> {
  if (running >= MAX_CONCURRENT_CHECKS) {
    if (waiting.length >= MAX_WAITING_CHECKS) throw new PasswordChecksBusy();
    await new Promise<void>((resolve) => waiting.push(resolve));
  }
  running++;
  try {
    return await work();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

/** Whether `password` matches (constant-time compare of the derived key). Rejects with
 *  PasswordChecksBusy when too many checks wait already. */
export async function verifyPassword(h: PasswordHash, password: string): Promise<boolean> {
  const key = await inTurn(() => derive(password, h.salt, h.hash.length, h));
  return timingSafeEqual(key, h.hash);
}
