// String methods for the per-message paths, called without a lookup on the string. Written
// `s.charCodeAt(i)`, every call looks the method up on `s`, and a site that sees strings of many
// kinds (flat, concatenated, sliced, internalized: ids decoded from PDUs, built by concatenation,
// read from config) has feedback V8's optimizing compiler cannot use: its code calls the generic
// LoadIC for the lookup each time, then checks what it found. That was ~8% of smppd's CPU (perf,
// `npm run bench` through smppd: putCstr, indexKey, messageIdKeys, recordKey). Through a known
// function the compiler inlines the method itself.
const charCodeAtOf = String.prototype.charCodeAt;
const startsWithOf = String.prototype.startsWith;
const indexOfOf = String.prototype.indexOf;

/** s.charCodeAt(i). */
export function charCode(s: string, i: number): number {
  return charCodeAtOf.call(s, i);
}

/** s.startsWith(prefix, position). */
export function startsWith(s: string, prefix: string, position = 0): boolean {
  return startsWithOf.call(s, prefix, position);
}

/** s.indexOf(search, position). */
export function indexOf(s: string, search: string, position: number): number {
  return indexOfOf.call(s, search, position);
}
