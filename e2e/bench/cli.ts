// smppd-bench's command line: options -> BenchOptions (pure, tested without a process).

import { parseArgs } from 'node:util';
import { UsageError, durationArg, numberArg, weightsArg } from '../sim/cli-values.js';
import { BENCH_COMMANDS, DEFAULT_BENCH_OPTIONS, type BenchOptions } from './bench.js';

export const BENCH_USAGE = `smppd-bench: an SMPP load generator; prints msg/s and latency percentiles

Usage: smppd-bench [options]

  --host ADDR           server address (default 127.0.0.1)
  --port N              server port (default 2775)
  --system-id ID        bind system_id (default acme)
  --password P          bind password (default secret)
  --system-type T       bind system_type (default empty)
  --binds N             submitting sessions (default 4)
  --window N            outstanding requests per session (default 100)
  --count N             messages to send (default 10000) ...
  --duration D          ... or send for this long, e.g. 10s
  --rate N              offered msg/s over all binds (open loop; latency counts from the scheduled
                        send time); without it each session keeps its window full (closed loop)
  --receipts            ask for receipts and wait for one per accepted message, matching each
                        receipt's id to the id its submit response gave (binds become transceivers)
  --receiver-binds N    separate receiver sessions for the receipts (binds stay transmitters)
  --mix M               command weights, e.g. submit_sm:9,data_sm:1 (also submit_multi) (default submit_sm)
  --text-length N       message length in characters; over 254 goes in message_payload (default 70)
  --source ADDR         source_addr (default 258840000001)
  --destination P       destination prefix; a 4-digit counter is appended (default 25884100)
  --timeout D           response timeout per request (default 30s)
  --receipt-timeout D   stop waiting for receipts after this long without one (default 30s)
  --json                print the result as JSON
  --help                print this help

Exit codes: 0 run completed, 1 bad usage, 2 runtime failure (cannot connect or bind).
`;

export type BenchCliResult = { kind: 'help' } | { kind: 'run'; options: BenchOptions; json: boolean };

/** Throws UsageError for unknown options or bad values. */
export function parseBenchArgs(argv: string[]): BenchCliResult {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        host: { type: 'string' },
        port: { type: 'string' },
        'system-id': { type: 'string' },
        password: { type: 'string' },
        'system-type': { type: 'string' },
        binds: { type: 'string' },
        window: { type: 'string' },
        count: { type: 'string' },
        duration: { type: 'string' },
        rate: { type: 'string' },
        receipts: { type: 'boolean' },
        'receiver-binds': { type: 'string' },
        mix: { type: 'string' },
        'text-length': { type: 'string' },
        source: { type: 'string' },
        destination: { type: 'string' },
        timeout: { type: 'string' },
        'receipt-timeout': { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean' },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help === true) return { kind: 'help' };
  const v = values as Record<string, string | undefined>;
  const o: BenchOptions = { ...DEFAULT_BENCH_OPTIONS };
  if (v.host !== undefined) o.host = v.host;
  if (v.port !== undefined) o.port = numberArg('port', v.port, 1, 65535, true);
  if (v['system-id'] !== undefined) o.systemId = v['system-id'];
  if (v.password !== undefined) o.password = v.password;
  if (v['system-type'] !== undefined) o.systemType = v['system-type'];
  if (v.binds !== undefined) o.binds = numberArg('binds', v.binds, 1, 10_000, true);
  if (v.window !== undefined) o.window = numberArg('window', v.window, 1, 1_000_000, true);
  if (v.count !== undefined && v.duration !== undefined) throw new UsageError('give --count or --duration, not both');
  if (v.count !== undefined) o.count = numberArg('count', v.count, 1, Number.MAX_SAFE_INTEGER, true);
  if (v.duration !== undefined) {
    o.durationMs = durationArg('duration', v.duration);
    if (o.durationMs === 0) throw new UsageError('--duration must be more than 0');
  }
  if (v.rate !== undefined) {
    o.rate = numberArg('rate', v.rate, 0);
    if (o.rate === 0) throw new UsageError('--rate must be more than 0');
  }
  o.receipts = values.receipts === true;
  if (v['receiver-binds'] !== undefined) o.receiverBinds = numberArg('receiver-binds', v['receiver-binds'], 0, 10_000, true);
  if (o.receiverBinds > 0 && !o.receipts) throw new UsageError('--receiver-binds needs --receipts');
  if (v.mix !== undefined) {
    o.mix = weightsArg('mix', v.mix, BENCH_COMMANDS);
    if (!Object.values<number | undefined>(o.mix).some((w) => w !== undefined && Math.round(w) >= 1)) {
      throw new UsageError('--mix: weights are whole numbers; at least one must be 1 or more');
    }
  }
  if (v['text-length'] !== undefined) o.textLength = numberArg('text-length', v['text-length'], 0, 65_535, true);
  if (v.source !== undefined) o.sourceAddr = v.source;
  if (v.destination !== undefined) o.destinationPrefix = v.destination;
  if (v.timeout !== undefined) o.requestTimeoutMs = Math.max(1, durationArg('timeout', v.timeout));
  if (v['receipt-timeout'] !== undefined) o.receiptTimeoutMs = durationArg('receipt-timeout', v['receipt-timeout']);
  return { kind: 'run', options: o, json: values.json === true };
}
