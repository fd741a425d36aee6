#!/usr/bin/env node
// smppd-sim: the SMSC simulator as a process. See cli.ts for the options (--help).

import { exitOnCrash, stderrCrashReport } from '../../proxy/crash.js';
import { SIM_USAGE, UsageError, parseSimArgs, type SimCli } from './cli.js';
import { startSimulator, type Simulator } from './simulator.js';

function formatStats(sim: Simulator): string {
  const s = sim.stats();
  return (
    `bound=${s.bound} submits=${s.submits} accepted=${s.accepted} throttled=${s.throttled} errors=${s.errors} ` +
    `receipts sent=${s.receiptsSent} acked=${s.receiptsAcked} pending=${s.receiptsPending} dropped=${s.receiptsDropped}`
  );
}

async function run(cli: SimCli): Promise<number> {
  let sim: Simulator;
  try {
    sim = await startSimulator(cli.options);
  } catch (err) {
    process.stderr.write(`smppd-sim: cannot listen on ${cli.options.host}:${cli.options.port}: ${(err as Error).message}\n`);
    return 2;
  }
  sim.on('error', (err) => process.stderr.write(`smppd-sim: ${err.message}\n`));
  // The benchmark orchestrator reads the port from this line.
  process.stdout.write(`smppd-sim listening on ${sim.host}:${sim.port}\n`);
  const interval =
    cli.statsIntervalMs > 0 ? setInterval(() => process.stdout.write(`${formatStats(sim)}\n`), cli.statsIntervalMs) : undefined;
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  if (interval !== undefined) clearInterval(interval);
  process.stdout.write(`${formatStats(sim)}\n`);
  await sim.close();
  return 0;
}

exitOnCrash(process, stderrCrashReport('smppd-sim'), (code) => process.exit(code));

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseSimArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`smppd-sim: ${err.message}\nTry 'smppd-sim --help'.\n`);
    return 1;
  }
  if (parsed.kind === 'help') {
    process.stdout.write(SIM_USAGE);
    return 0;
  }
  return run(parsed.cli);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`smppd-sim: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(2);
  },
);
