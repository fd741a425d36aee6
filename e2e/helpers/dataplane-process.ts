// The real `smppd` process for e2e tests: builds dist/ when it is missing or older than the sources,
// writes a config file, spawns `node dist/proxy/main.js --config FILE` with Node 24 and smppd's V8
// flags (node-flags.ts), and learns the listener ports from its JSON log lines.

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { SMPPD_NODE_FLAGS } from '../../proxy/node-flags.js';

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const NODE = join(ROOT, 'node_modules/.bin/node');
const TSC = join(ROOT, 'node_modules/.bin/tsc');
const MAIN = join(ROOT, 'dist/proxy/main.js');

function mtime(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return -1;
  }
}

/** Newest modification time of the non-test .ts sources the proxy is built from. */
function newestSource(): number {
  let newest = 0;
  for (const dir of ['proxy']) {
    for (const entry of readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || !entry.name.endsWith('.ts') || entry.name.endsWith('.test.ts')) continue;
      newest = Math.max(newest, mtime(join(entry.parentPath, entry.name)));
    }
  }
  return newest;
}

/**
 * Runs `tsc -p tsconfig.build.json` when dist/proxy/main.js is missing or older than a source. tsc
 * still writes its output when some file elsewhere in the tree has a type error; only a missing
 * result is a failure here.
 */
export async function buildIfStale(): Promise<void> {
  const built = mtime(MAIN);
  if (built >= 0 && built >= newestSource()) return;
  const output = await new Promise<string>((done) => {
    execFile(TSC, ['-p', 'tsconfig.build.json'], { cwd: ROOT, maxBuffer: 16 << 20 }, (_err, stdout, stderr) =>
      done(`${stdout}${stderr}`),
    );
  });
  if (mtime(MAIN) <= built) throw new Error(`build did not produce ${MAIN}:\n${output}`);
}

export interface SmppdProcess {
  readonly child: ChildProcess;
  /** SMPP port of each listener, by name. */
  readonly ports: Map<string, number>;
  /** Everything written to stderr so far. */
  stderr(): string;
  /** The warn and error log lines so far (the last 200), for a failing test to show. */
  warnings(): string[];
  /** The process has not exited. */
  alive(): boolean;
  /** SIGTERM, wait for the exit (SIGKILL after `graceMs`), remove the config. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Writes `config` (listeners on port 0) as YAML, starts smppd on it and resolves once every listener
 * logged its address. The log level is forced to info for that; stdout is drained continuously
 * (pino writes synchronously: a full pipe would stall the process).
 */
export async function spawnSmppd(
  config: { listeners: Array<{ name: string } & Record<string, unknown>> } & Record<string, unknown>,
): Promise<SmppdProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'smppd-e2e-'));
  const file = join(dir, 'smppd.yaml');
  await writeFile(file, stringify({ ...config, log: { level: 'info' } }));
  const child = spawn(NODE, [...SMPPD_NODE_FLAGS, MAIN, '--config', file], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    if (stderr.length < 1 << 20) stderr += chunk;
  });
  const exited = once(child, 'exit');
  const ports = new Map<string, number>();
  const wanted = config.listeners.length;
  const lines = createInterface({ input: child.stdout! });
  const warnings: string[] = [];
  lines.on('line', (line) => {
    // smppd writes pino's level labels (proxy/telemetry); 40, 50 and 60 are the same as numbers.
    if (!/"level":(?:[456]0|"(?:warn|error|fatal)")/.test(line)) return;
    warnings.push(line);
    if (warnings.length > 200) warnings.shift();
  });
  const listening = new Promise<void>((ready, fail) => {
    lines.on('line', (line) => {
      if (ports.size === wanted) return;
      let entry: { msg?: string; listener?: string; port?: unknown };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        return;
      }
      if (entry.msg === 'listening' && typeof entry.listener === 'string' && typeof entry.port === 'number') {
        ports.set(entry.listener, entry.port);
        if (ports.size === wanted) ready();
      }
    });
    void exited.then(([code, signal]) => fail(new Error(`smppd exited (${code ?? signal}) before listening:\n${stderr}`)));
  });
  let exitCode: number | null | undefined;
  void exited.then(([code]) => (exitCode = code as number | null));
  const proc: SmppdProcess = {
    child,
    ports,
    stderr: () => stderr,
    warnings: () => warnings,
    alive: () => exitCode === undefined && child.exitCode === null && child.signalCode === null,
    async stop(graceMs = 5000) {
      if (proc.alive()) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
      lines.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  try {
    await listening;
  } catch (err) {
    await proc.stop();
    throw err;
  }
  return proc;
}
