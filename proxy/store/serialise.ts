// Text form of stored values for backends that keep strings (Redis): JSON, with every Buffer or
// Uint8Array written as {"$bytes":"<base64>"} and read back as a Buffer. Plain JSON would turn a
// Buffer into {"type":"Buffer","data":[...]}, four times larger and not revived.
// A stored plain object whose only key is "$bytes" (a string) would read back as a Buffer; PDU field
// objects never look like that.

import { StoreError, StoreErrorCode } from './store.js';

const BYTES_KEY = '$bytes';

function replaceBytes(this: Record<string, unknown>, key: string, value: unknown): unknown {
  // JSON.stringify has already applied Buffer.prototype.toJSON to `value`; the holder has the original.
  const raw = this[key];
  if (raw instanceof Uint8Array) {
    return { [BYTES_KEY]: Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64') };
  }
  return value;
}

function reviveBytes(_key: string, value: unknown): unknown {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const bytes = (value as Record<string, unknown>)[BYTES_KEY];
    if (typeof bytes === 'string' && Object.keys(value).length === 1) return Buffer.from(bytes, 'base64');
  }
  return value;
}

export function serialiseStored(value: unknown): string {
  return JSON.stringify(value, replaceBytes);
}

/** Inverse of serialiseStored; rejects text that is not JSON with StoreError CORRUPT. */
export function deserialiseStored(text: string): unknown {
  try {
    return JSON.parse(text, reviveBytes) as unknown;
  } catch (err) {
    throw new StoreError(StoreErrorCode.CORRUPT, 'stored value is not valid JSON', { cause: err });
  }
}
