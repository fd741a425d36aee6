// Small zod builders shared by the config schemas, each with the one message an operator sees.
// Messages only apply to a value that is present: a missing required key falls through to the
// generic "is required" of problems.ts.

import { z } from 'zod';
import { Status } from '../smpp/status.js';
import { DURATION_HINT, parseDuration } from './duration.js';
import { isCidr, parseHostPort } from './net.js';

type IssueInput = { input?: unknown };
/** An error param that keeps zod's "missing" path (input undefined) for the generic message. */
export const whenPresent = (message: string) => (issue: IssueInput) =>
  issue.input === undefined ? undefined : message;

const POSITIVE_INT = 'must be a positive integer';
const NON_NEGATIVE_INT = 'must be zero or a positive integer';

export const positiveInt = () =>
  z.number({ error: whenPresent(POSITIVE_INT) }).int({ error: POSITIVE_INT }).positive({ error: POSITIVE_INT });

export const nonNegativeInt = () =>
  z.number({ error: whenPresent(NON_NEGATIVE_INT) }).int({ error: NON_NEGATIVE_INT }).nonnegative({ error: NON_NEGATIVE_INT });

export const nonNegativeNumber = () => {
  const message = 'must be zero or a positive number';
  return z.number({ error: whenPresent(message) }).nonnegative({ error: message });
};

export const positiveNumber = () => {
  const message = 'must be a positive number';
  return z.number({ error: whenPresent(message) }).positive({ error: message });
};

export const fraction = () => {
  const message = 'must be a number from 0 to 1';
  return z.number({ error: whenPresent(message) }).min(0, { error: message }).max(1, { error: message });
};

export const nonEmptyString = () =>
  z.string({ error: whenPresent('must be a string') }).min(1, { error: 'must not be empty' });

/** A duration in the config, milliseconds in the parsed config. */
export const duration = (opts: { positive?: boolean } = {}) =>
  z
    .union([z.string(), z.number()], { error: whenPresent(DURATION_HINT) })
    .transform((value, ctx) => {
      const ms = parseDuration(value);
      if (ms === undefined) {
        ctx.addIssue({ code: 'custom', message: DURATION_HINT, input: value });
        return z.NEVER;
      }
      if (opts.positive && ms === 0) {
        ctx.addIssue({ code: 'custom', message: 'must be longer than 0', input: value });
        return z.NEVER;
      }
      return ms;
    });

/** "host:port". Listeners and admin may use port 0 (any free port, used by tests); upstreams may not. */
export const hostPort = (opts: { allowPortZero: boolean }) => {
  const message = opts.allowPortZero
    ? 'must be host:port, e.g. 0.0.0.0:2775'
    : 'must be host:port with a port from 1 to 65535, e.g. smsc.example.com:2775';
  return z.string({ error: whenPresent(message) }).refine(
    (text) => {
      const parsed = parseHostPort(text);
      return parsed !== undefined && (opts.allowPortZero || parsed.port > 0);
    },
    { error: message },
  );
};

export const cidr = () => {
  const message = 'must be an IP address or CIDR, e.g. 10.0.0.0/8 or 2001:db8::/32';
  return z.string({ error: whenPresent(message) }).refine(isCidr, { error: message });
};

export const regexSource = () =>
  z.string({ error: whenPresent('must be a string') }).superRefine((source, ctx) => {
    try {
      new RegExp(source);
    } catch (err) {
      // V8: "Invalid regular expression: /(/: Unterminated group" -> keep the reason only.
      const reason = (err as Error).message.split(': ').pop() ?? '';
      ctx.addIssue({ code: 'custom', message: `invalid regular expression: ${reason}` });
    }
  });

const STATUS_HINT = 'must be a command_status: a number such as 0x58 or a name such as ESME_RTHROTTLED';
const STATUS_BY_NAME = new Map<string, number>(Object.entries(Status).map(([name, code]) => [name.toUpperCase(), code]));

/** command_status as a number (YAML/TOML 0x58), "0x58", "88" or a name "ESME_RTHROTTLED" (SMPP 3.4 §5.1.3). */
export function parseStatus(value: string | number): number | undefined {
  if (typeof value === 'number') {
    return Number.isInteger(value) && value >= 0 && value <= 0xffff_ffff ? value : undefined;
  }
  const text = value.trim();
  if (/^0x[0-9a-f]{1,8}$/i.test(text)) return Number.parseInt(text.slice(2), 16);
  if (/^\d{1,10}$/.test(text)) return parseStatus(Number(text));
  return STATUS_BY_NAME.get(text.toUpperCase());
}

export const statusCode = () =>
  z.union([z.number(), z.string()], { error: whenPresent(STATUS_HINT) }).transform((value, ctx) => {
    const code = parseStatus(value);
    if (code === undefined) {
      ctx.addIssue({ code: 'custom', message: STATUS_HINT, input: value });
      return z.NEVER;
    }
    return code;
  });

/**
 * A secret may be given inline (`password: x`, `${ENV}` allowed) or as `<key>_file: PATH` (how
 * Kubernetes Secrets arrive; read by secrets.ts after validation), never both.
 */
export const secretRule =
  (key: string, opts: { required: boolean }) => (value: Record<string, unknown>, ctx: z.RefinementCtx) => {
    const inline = value[key] !== undefined;
    const file = value[`${key}_file`] !== undefined;
    if (inline && file) {
      ctx.addIssue({ code: 'custom', path: [`${key}_file`], message: `cannot be combined with ${key}` });
    } else if (opts.required && !inline && !file) {
      ctx.addIssue({ code: 'custom', path: [], message: `needs ${key} or ${key}_file` });
    }
  };

/** SMPP 3.4 §5.2.1: system_id is a C-Octet String of at most 16 octets, NUL included. */
export const systemId = () => {
  const message = 'must be 1 to 15 characters (SMPP 3.4 §5.2.1)';
  return z.string({ error: whenPresent(message) }).min(1, { error: message }).max(15, { error: message });
};

export const BIND_TYPES = ['transmitter', 'receiver', 'transceiver'] as const;
