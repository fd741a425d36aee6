// Durations as SPEC §3 writes them: "500ms", "30s", "5m", "72h" (also "1d" and compounds such as
// "1m30s"), or a plain number of milliseconds. Parsed once at load; the rest of smppd only sees
// milliseconds.

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
type Unit = keyof typeof UNIT_MS;

const WHOLE = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/;
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;

export const DURATION_HINT = 'must be a duration like 500ms, 30s, 5m or 72h';

/** Milliseconds (rounded to a whole millisecond), or undefined when `value` is not a duration. */
export function parseDuration(value: string | number): number | undefined {
  if (typeof value === 'number') {
    return Number.isFinite(value) && value >= 0 ? Math.round(value) : undefined;
  }
  const text = value.trim();
  if (!WHOLE.test(text)) return undefined;
  let total = 0;
  for (const [, amount, unit] of text.matchAll(PART)) {
    total += Number(amount) * UNIT_MS[unit as Unit];
  }
  return Number.isFinite(total) ? Math.round(total) : undefined;
}

/** The shortest exact spelling of a millisecond count: 30000 -> "30s", 90000 -> "90s", 1500 -> "1500ms". */
export function formatDuration(ms: number): string {
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    if (ms !== 0 && ms % UNIT_MS[unit] === 0) return `${ms / UNIT_MS[unit]}${unit}`;
  }
  return `${ms}ms`;
}
