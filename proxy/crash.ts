// An exception nobody caught, or a promise rejection nobody handled, is a runtime failure: exit 2
// (SPEC §2). Node's own default would exit 1, which the SPEC gives to a bad config or usage, so a
// supervisor or a person reading the exit code would look in the wrong place. No drain first:
// after such an error the process's state is unknown, and a drain could hang or do harm; the
// report is written synchronously (the logger writes stdout so), then the process exits.
//
// The entry points (main.ts, the simulator's and the load generator's) install it and pass
// process.exit: nothing else exits the process (STYLE "Stay away from").

/** The part of `process` this needs. */
export interface CrashSource {
  on(event: 'uncaughtException' | 'unhandledRejection', listener: (err: unknown) => void): unknown;
}

/** What the process tells before it exits: `what` is 'uncaught exception' or 'unhandled rejection'. */
export type CrashReport = (what: string, err: unknown) => void;

export const CRASH_EXIT_CODE = 2;

export function exitOnCrash(source: CrashSource, report: CrashReport, exit: (code: number) => void): void {
  const crash = (what: string) => (err: unknown) => {
    try {
      report(what, err);
    } finally {
      exit(CRASH_EXIT_CODE);
    }
  };
  source.on('uncaughtException', crash('uncaught exception'));
  source.on('unhandledRejection', crash('unhandled rejection'));
}

/** A report on standard error, for the tools that have no logger: `<name>: <what>: <stack>`. */
export function stderrCrashReport(name: string): CrashReport {
  return (what, err) => {
    process.stderr.write(`${name}: ${what}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  };
}
