// Parsing of command-line values shared by smppd-sim and smppd-bench. Each returns the value or
// throws a UsageError naming the option, so main() can print it and exit 1 (SPEC §2).

import { parseDuration } from '../../proxy/config/duration.js';
import { Status, type StatusName } from '../../proxy/smpp/index.js';

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export function durationArg(option: string, value: string): number {
  const ms = parseDuration(/^\d+(\.\d+)?$/.test(value) ? Number(value) : value);
  if (ms === undefined) throw new UsageError(`--${option}: expected a duration like 5ms, 1s or 2m, got '${value}'`);
  return ms;
}

export function numberArg(option: string, value: string, min: number, max = Infinity, integer = false): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    const kind = integer ? 'an integer' : 'a number';
    const upper = max === Infinity ? '' : ` and ${max}`;
    throw new UsageError(`--${option}: expected ${kind} ${max === Infinity ? '>=' : 'between'} ${min}${upper}, got '${value}'`);
  }
  return n;
}

/** A command_status: 0x58, 88, or a name such as ESME_RTHROTTLED. */
export function statusArg(option: string, value: string): number {
  if (Object.hasOwn(Status, value)) return Status[value as StatusName];
  const n = /^0x[0-9a-f]+$/i.test(value) ? Number.parseInt(value.slice(2), 16) : Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) {
    throw new UsageError(`--${option}: expected a status like 0x58, 88 or ESME_RTHROTTLED, got '${value}'`);
  }
  return n;
}

export function choiceArg<T extends string>(option: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new UsageError(`--${option}: expected one of ${allowed.join(', ')}, got '${value}'`);
  }
  return value as T;
}

/** 'a:9,b:1' (or just 'a') as weights; every name must be allowed. */
export function weightsArg<T extends string>(option: string, value: string, allowed: readonly T[]): Partial<Record<T, number>> {
  const out: Partial<Record<T, number>> = {};
  for (const part of value.split(',')) {
    const [name, weight = '1', extra] = part.split(':');
    if (extra !== undefined) throw new UsageError(`--${option}: expected name:weight pairs, got '${part}'`);
    const key = choiceArg(option, name.trim(), allowed);
    out[key] = numberArg(option, weight, 0);
  }
  if (!Object.values<number | undefined>(out).some((w) => w !== undefined && w > 0)) {
    throw new UsageError(`--${option}: at least one weight must be above 0`);
  }
  return out;
}
