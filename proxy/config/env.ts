// `${ENV_NAME}` inside any string of the config is replaced from the environment given (SPEC §3).
// `${NAME:-fallback}` uses the fallback when NAME is unset or empty; `$${` writes a literal `${`.
// Runs on the parsed document before validation, so `${PORT}` inside an address is checked too.

import type { ConfigPath, Problem } from './problems.js';

export type Env = Readonly<Record<string, string | undefined>>;

const REFERENCE = /\$\$\{|\$\{([^}]*)\}/g;
const NAME = /^([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/s;

export interface Interpolated {
  value: unknown;
  problems: Problem[];
}

/** A copy of `value` with every string interpolated; the input is not modified. */
export function interpolateEnv(value: unknown, env: Env): Interpolated {
  const problems: Problem[] = [];
  const walk = (node: unknown, path: PropertyKey[]): unknown => {
    if (typeof node === 'string') return interpolateString(node, env, path, problems);
    if (Array.isArray(node)) return node.map((item, i) => walk(item, [...path, i]));
    if (isPlainObject(node)) {
      // fromEntries defines keys as own data properties, so a "__proto__" key stays a plain (unknown) key.
      return Object.fromEntries(Object.entries(node).map(([key, item]) => [key, walk(item, [...path, key])]));
    }
    return node;
  };
  return { value: walk(value, []), problems };
}

function interpolateString(text: string, env: Env, path: ConfigPath, problems: Problem[]): string {
  if (!text.includes('${')) return text;
  return text.replace(REFERENCE, (whole, inner: string | undefined) => {
    if (inner === undefined) return '${';
    const ref = NAME.exec(inner);
    if (!ref) {
      problems.push({ path, message: `invalid environment reference "${whole}"` });
      return whole;
    }
    const [, name, fallback] = ref as unknown as [string, string, string | undefined];
    const value = env[name];
    if (fallback !== undefined) return value === undefined || value === '' ? fallback : value;
    if (value === undefined) {
      problems.push({ path, message: `environment variable "${name}" is not set` });
      return whole;
    }
    return value;
  });
}

// TOML tables come with a null prototype; Dates and other class instances are left alone.
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}
