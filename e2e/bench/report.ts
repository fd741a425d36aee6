// Human-readable output of a bench run (smppd-bench and npm run bench).

import type { BenchResult } from './bench.js';

const int = (n: number): string => Math.round(n).toLocaleString('en-US');
const ms = (n: number): string => (n < 10 ? n.toFixed(2) : n < 100 ? n.toFixed(1) : n.toFixed(0));

export function formatResult(r: BenchResult): string {
  const lines: string[] = [];
  const mode = r.mode === 'open' ? `open loop at ${int(r.rate ?? 0)} msg/s offered` : 'closed loop';
  lines.push(`${int(r.sent)} requests in ${(r.elapsedMs / 1000).toFixed(2)} s over ${r.binds} binds (window ${r.window}, ${mode})`);
  lines.push(`throughput  ${int(r.msgPerSec)} msg/s (ESME_ROK ${int(r.okPerSec)}/s)`);
  const statuses = Object.entries(r.byStatus)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${int(v)}`);
  lines.push(`responses   ${statuses.join(', ') || 'none'}`);
  const failures = Object.entries(r.failures).map(([k, v]) => `${k} ${int(v)}`);
  if (failures.length > 0) lines.push(`no response ${failures.join(', ')}`);
  const l = r.latency;
  lines.push(`latency ms  p50 ${ms(l.p50)}  p90 ${ms(l.p90)}  p99 ${ms(l.p99)}  max ${ms(l.max)}`);
  const rc = r.receipts;
  if (rc !== undefined) {
    lines.push(
      `receipts    expected ${int(rc.expected)}  received ${int(rc.received)}  matched ${int(rc.matched)}  ` +
        `unmatched ${int(rc.unmatched)}  duplicates ${int(rc.duplicates)}  missing ${int(rc.missing)}` +
        (rc.conflicting > 0 ? `  text/TLV id conflicts ${int(rc.conflicting)}` : ''),
    );
    lines.push(
      `            ${int(rc.perSec)} msg/s end to end; submit->receipt ms p50 ${ms(rc.latency.p50)}  p99 ${ms(rc.latency.p99)}  max ${ms(rc.latency.max)}`,
    );
  }
  return lines.join('\n') + '\n';
}
