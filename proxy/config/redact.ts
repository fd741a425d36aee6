// A copy of a config safe to show (GET /config, logs): every secret reads "***". Secrets are found by
// key (password, password_hash, token anywhere; the password inside a Redis URL), so a secret added to the schema
// under one of these names is covered without touching this file.

import type { Config } from './schema.js';

export const REDACTED = '***';
const SECRET_KEYS = new Set(['password', 'password_hash', 'token']);
const URL_KEYS = new Set(['url']);

export function redactConfig(config: Config): Config {
  return redact(config) as Config;
}

function redact(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(redact);
  if (typeof node !== 'object' || node === null) return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (SECRET_KEYS.has(key) && typeof value === 'string') out[key] = REDACTED;
    else if (URL_KEYS.has(key) && typeof value === 'string') out[key] = redactUrl(value);
    else out[key] = redact(value);
  }
  return out;
}

/** redis://user:pw@host:6379/0 -> redis://user:***@host:6379/0; an unparsable URL is hidden whole. */
export function redactUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return REDACTED;
  }
  if (url.password === '') return text;
  url.password = REDACTED;
  return url.toString();
}
