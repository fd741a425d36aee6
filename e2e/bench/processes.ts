// Child processes for benchmarks and whole-system tests: the simulator and smppd each on their own
// Node process (their own core), with their output kept for error reports, free ports, and RSS.

import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { connectBound } from './connect.js';

export interface NodeChild {
  readonly pid: number;
  readonly process: ChildProcess;
  /** The last lines of stdout and stderr together. */
  output(): string;
  /** Resolves with the first line (already printed or to come) matching `re`; rejects if the process exits first or after timeoutMs. */
  waitForLine(re: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  /** SIGTERM, then SIGKILL after graceMs; resolves with the exit code (null when killed by a signal). */
  stop(graceMs?: number): Promise<number | null>;
  /** Resident set size in KiB (Linux /proc), undefined when unavailable. */
  rssKb(): number | undefined;
}

const KEEP_LINES = 200;

/** Runs `node ...nodeArgs script ...args` with this process's Node binary. */
export function startNode(
  script: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; nodeArgs?: readonly string[] } = {},
): NodeChild {
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), script, ...args], {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const watchers = new Set<(line: string) => void>();
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exitWaiters = new Set<() => void>();
  const onChunk = (prefix: string) => {
    let partial = '';
    return (chunk: Buffer): void => {
      const parts = (partial + chunk.toString('utf8')).split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) {
        lines.push(prefix + line);
        if (lines.length > KEEP_LINES) lines.shift();
        for (const w of watchers) w(line);
      }
    };
  };
  child.stdout!.on('data', onChunk(''));
  child.stderr!.on('data', onChunk('[stderr] '));
  child.on('exit', (code, signal) => {
    exited = { code, signal };
    for (const w of exitWaiters) w();
  });

  return {
    pid: child.pid ?? -1,
    process: child,
    output: () => lines.join('\n'),
    waitForLine(re, timeoutMs) {
      for (const line of lines) {
        const m = re.exec(line.replace(/^\[stderr\] /, ''));
        if (m !== null) return Promise.resolve(m);
      }
      return new Promise((resolve, reject) => {
        const done = (): void => {
          clearTimeout(timer);
          watchers.delete(onLine);
          exitWaiters.delete(onExit);
        };
        const onLine = (line: string): void => {
          const m = re.exec(line);
          if (m === null) return;
          done();
          resolve(m);
        };
        const onExit = (): void => {
          done();
          reject(new Error(`process exited (code ${exited?.code}, signal ${exited?.signal}) before printing ${re}`));
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`no line matching ${re} within ${timeoutMs} ms`));
        }, timeoutMs);
        watchers.add(onLine);
        exitWaiters.add(onExit);
        if (exited !== undefined) onExit();
      });
    },
    stop(graceMs = 5000) {
      if (exited !== undefined) return Promise.resolve(exited.code);
      return new Promise((resolve) => {
        const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
        exitWaiters.add(() => {
          clearTimeout(kill);
          resolve(exited!.code);
        });
        child.kill('SIGTERM');
      });
    },
    rssKb: () => (child.pid === undefined ? undefined : readRssKb(child.pid)),
  };
}

/** VmRSS of a process in KiB, from /proc/<pid>/status. */
export function readRssKb(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? undefined : Number(m[1]);
  } catch {
    return undefined;
  }
}

/** A port that was free a moment ago (the OS picks it; it is closed again before returning). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Waits until an SMPP server accepts a bind with these credentials (then unbinds), trying every
 * `intervalMs`. Rejects after timeoutMs with the last error.
 */
export async function waitForBind(
  o: { host: string; port: number; systemId: string; password: string },
  timeoutMs: number,
  intervalMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const s = await connectBound({ ...o, bindType: 'transmitter', session: { bindTimeoutMs: 2000 } });
      await s.unbind();
      return;
    } catch (err) {
      if (Date.now() + intervalMs > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  }
}
