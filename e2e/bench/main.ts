#!/usr/bin/env node
// smppd-bench: the load generator as a process. See cli.ts for the options (--help).

import { exitOnCrash, stderrCrashReport } from '../../proxy/crash.js';
import { UsageError } from '../sim/cli-values.js';
import { runBench } from './bench.js';
import { BENCH_USAGE, parseBenchArgs } from './cli.js';
import { BindError } from './connect.js';
import { formatResult } from './report.js';

exitOnCrash(process, stderrCrashReport('smppd-bench'), (code) => process.exit(code));

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseBenchArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`smppd-bench: ${err.message}\nTry 'smppd-bench --help'.\n`);
    return 1;
  }
  if (parsed.kind === 'help') {
    process.stdout.write(BENCH_USAGE);
    return 0;
  }
  try {
    const result = await runBench(parsed.options);
    process.stdout.write(parsed.json ? `${JSON.stringify(result, null, 2)}\n` : formatResult(result));
    return 0;
  } catch (err) {
    if (!(err instanceof BindError)) throw err;
    process.stderr.write(`smppd-bench: ${err.message}\n`);
    return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`smppd-bench: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(2);
  },
);
