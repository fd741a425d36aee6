// Bind authentication against `clients` (SPEC §3) with the outcomes of SPEC §4:
//   unknown system_id                       -> ESME_RINVSYSID
//   wrong password                          -> ESME_RINVPASWD
//   address not in allowed_ips, client disabled (enabled: false), bind type not in bind_types,
//   max_binds reached                       -> ESME_RBINDFAIL
// Pure: the client table is compiled once; decideBind() reads it and the caller's bind count.
//
// Order of checks: system_id, then the address, then the password. An address that may not bind at
// all learns nothing about passwords (every guess gets ESME_RBINDFAIL), so a leaked password list
// is only useful from the client's own network.

import { createHash, timingSafeEqual } from 'node:crypto';
import type { BindType, ClientConfig } from '../config/schema.js';
import { Status } from '../smpp/index.js';
import { compileCidrs, type CidrSet, type IpAddress } from './cidr.js';
import { parsePasswordHash, verifyPassword, type PasswordHash } from './password-hash.js';
import { addressMatches, addressTest, type AddressMatch, type AddressTest } from '../router/address-test.js';

/**
 * One allowed_sources entry; the schema checked its regex and that it gives exactly one criterion
 * (so there is a test). Unlike a route's, the regex must match the whole source: this is access
 * control, and "ACME" must not also allow "XACMEX".
 */
function compileSource(m: AddressMatch): AddressTest {
  return addressTest(m, true, m.regex === undefined ? undefined : new RegExp(`^(?:${m.regex})$`))!;
}

/** Stable result names: the `result` label of smppd_bind_attempts_total and the log field. */
export const BindOutcome = {
  OK: 'ok',
  UNKNOWN_SYSTEM_ID: 'unknown_system_id',
  BAD_PASSWORD: 'bad_password',
  IP_NOT_ALLOWED: 'ip_not_allowed',
  CLIENT_DISABLED: 'client_disabled',
  BIND_TYPE_NOT_ALLOWED: 'bind_type_not_allowed',
  MAX_BINDS: 'max_binds',
} as const;

export type BindOutcome = (typeof BindOutcome)[keyof typeof BindOutcome];

/** Outcomes that are credential guesses: these feed the per-address slowdown (auth-failures.ts). */
export function isCredentialFailure(outcome: BindOutcome): boolean {
  return outcome === BindOutcome.UNKNOWN_SYSTEM_ID || outcome === BindOutcome.BAD_PASSWORD;
}

const OUTCOME_STATUS: Readonly<Record<BindOutcome, number>> = {
  ok: Status.ESME_ROK,
  unknown_system_id: Status.ESME_RINVSYSID,
  bad_password: Status.ESME_RINVPASWD,
  ip_not_allowed: Status.ESME_RBINDFAIL,
  client_disabled: Status.ESME_RBINDFAIL,
  bind_type_not_allowed: Status.ESME_RBINDFAIL,
  max_binds: Status.ESME_RBINDFAIL,
};

interface CompiledClient {
  readonly config: ClientConfig;
  /**
   * sha256 of the password: the configured one, or with password_hash the last one that passed
   * verify() (undefined until one did): a client's re-binds compare digests, not scrypt again.
   */
  passwordDigest: Buffer | undefined;
  readonly passwordHash: PasswordHash | undefined;
  readonly allowedIps: CidrSet;
  readonly bindTypes: ReadonlySet<BindType>;
  /** allowed_sources compiled; undefined: any source. */
  readonly sources: readonly AddressTest[] | undefined;
}

export interface BindRequest {
  systemId: string;
  password: string;
  bindType: BindType;
  /** The client's address; undefined or unparsable matches no `allowed_ips`. */
  remote: IpAddress | undefined;
}

export interface BindDecision {
  status: number;
  outcome: BindOutcome;
  /**
   * BAD_PASSWORD only because the password was not checked against the client's password_hash
   * yet: verify() it, then decide again.
   */
  needsVerify: boolean;
  /** The client's config when the system_id is known. */
  client: ClientConfig | undefined;
}

/** The `clients` section compiled for binds: digests and CIDR sets built once. */
export interface ClientTable {
  get(systemId: string): ClientConfig | undefined;
  readonly size: number;
  /**
   * Decides a bind. `bindCount(systemId)` is the number of sessions the client has bound now (on
   * this replica); it is called only when the client has a max_binds.
   */
  decide(req: BindRequest, bindCount: (systemId: string) => number): BindDecision;
  /** Whether the client may submit from `source` (clients[].allowed_sources; an unknown client may not). */
  allowsSource(systemId: string, source: string): boolean;
  /** Checks the password against the client's password_hash (scrypt, off the event loop); a match is remembered for decide(). */
  verify(systemId: string, password: string): Promise<boolean>;
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Compared against when the system_id is unknown, so both paths cost one digest and one compare. */
const NO_CLIENT_DIGEST = digest('\u0000no such client\u0000');

export function compileClients(clients: readonly ClientConfig[]): ClientTable {
  const entries = new Map<string, CompiledClient>();
  for (const config of clients) {
    const passwordHash = config.password_hash === undefined ? undefined : parsePasswordHash(config.password_hash);
    // The config loader checked the hash (schema, or load.ts for a file's); this is not reached.
    if (typeof passwordHash === 'string') throw new RangeError(`client ${config.system_id}: password_hash ${passwordHash}`);
    entries.set(config.system_id, {
      config,
      passwordDigest: passwordHash === undefined ? digest(config.password) : undefined,
      passwordHash,
      allowedIps: compileCidrs(config.allowed_ips),
      bindTypes: new Set(config.bind_types),
      sources: config.allowed_sources.length === 0 ? undefined : config.allowed_sources.map(compileSource),
    });
  }

  function decide(req: BindRequest, bindCount: (systemId: string) => number): BindDecision {
    const entry = entries.get(req.systemId);
    // Constant-time: timingSafeEqual over equal-length digests, so neither the password's length nor
    // the position of the first wrong character shows in the response time.
    const known = entry?.passwordDigest;
    const passwordOk = timingSafeEqual(digest(req.password), known ?? NO_CLIENT_DIGEST) && known !== undefined;
    const result = (outcome: BindOutcome, needsVerify = false): BindDecision => ({
      status: OUTCOME_STATUS[outcome],
      outcome,
      needsVerify,
      client: entry?.config,
    });
    if (entry === undefined) return result(BindOutcome.UNKNOWN_SYSTEM_ID);
    if (req.remote === undefined || !entry.allowedIps.has(req.remote)) return result(BindOutcome.IP_NOT_ALLOWED);
    if (!passwordOk) return result(BindOutcome.BAD_PASSWORD, entry.passwordHash !== undefined);
    // After the password: only the client itself learns that it is suspended.
    if (!entry.config.enabled) return result(BindOutcome.CLIENT_DISABLED);
    if (!entry.bindTypes.has(req.bindType)) return result(BindOutcome.BIND_TYPE_NOT_ALLOWED);
    const max = entry.config.max_binds;
    if (max > 0 && bindCount(req.systemId) >= max) return result(BindOutcome.MAX_BINDS);
    return result(BindOutcome.OK);
  }

  // One scrypt check per client and password at a time: a client that opens several binds at once
  // after a restart waits for one check, not one each.
  const checking = new Map<string, Promise<boolean>>();

  function verify(systemId: string, password: string): Promise<boolean> {
    const entry = entries.get(systemId);
    const hash = entry?.passwordHash;
    if (hash === undefined) return Promise.resolve(false);
    const key = `${systemId}\u0000${password}`;
    let check = checking.get(key);
    if (check === undefined) {
      check = verifyPassword(hash, password).then((ok) => {
        if (ok) entry!.passwordDigest = digest(password);
        return ok;
      });
      checking.set(key, check);
      const done = (): void => void checking.delete(key);
      check.then(done, done);
    }
    return check;
  }

  function allowsSource(systemId: string, source: string): boolean {
    const entry = entries.get(systemId);
    if (entry === undefined) return false;
    const sources = entry.sources;
    if (sources === undefined) return true;
    for (let i = 0; i < sources.length; i++) if (addressMatches(sources[i]!, source)) return true;
    return false;
  }

  return {
    size: entries.size,
    get: (systemId) => entries.get(systemId)?.config,
    decide,
    allowsSource,
    verify,
  };
}
