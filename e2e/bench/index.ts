// Public API of the load generator (smppd-bench): used by e2e tests, npm run bench and the CLI.
export { BENCH_COMMANDS, DEFAULT_BENCH_OPTIONS, runBench } from './bench.js';
export type { BenchCommand, BenchOptions, BenchResult } from './bench.js';
export { BindError, connectBound, openIdleSessions } from './connect.js';
export type { ConnectOptions, IdleOptions, IdleSessions } from './connect.js';
export { ReceiptMatcher, receiptIdOf } from './receipt-matcher.js';
export type { ReceiptCounts } from './receipt-matcher.js';
export { formatResult } from './report.js';
