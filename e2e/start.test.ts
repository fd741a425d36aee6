// The `npm start` experience (issue 3: "a new user can bind with the example's credentials and get
// responses and receipts with nothing else running") and `smppd --validate` (SPEC §2), on the
// compiled binary: node dist/proxy/main.js as a child process.

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { SmppClient } from '../proxy/listener/testing.js';
import { Status } from '../proxy/smpp/index.js';
import { buildIfStale } from './helpers/dataplane-process.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const NODE = join(ROOT, 'node_modules/.bin/node');
const MAIN = join(ROOT, 'dist/proxy/main.js');
const EXAMPLES = join(ROOT, 'examples');
const run = promisify(execFile);

let dir: string;

beforeAll(async () => {
  // The binary users run, compiled as `npm start` and `npm run build` do (tsc -p tsconfig.build.json),
  // unless dist/ is already newer than the sources.
  await buildIfStale();
  dir = await mkdtemp(join(tmpdir(), 'smppd-e2e-start-'));
}, 180_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** `smppd --validate --config FILE` (or other arguments): exit code and output, whatever the code. */
async function validate(file: string, args = ['--validate', '--config', file]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(NODE, [MAIN, ...args], { cwd: ROOT, timeout: 20_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout: string; stderr: string };
    return { code: e.code ?? -1, stdout: e.stdout, stderr: e.stderr };
  }
}

/** examples/smppd.yaml as shipped, but on 127.0.0.1 and free ports (port 0: the log says which). */
async function writeExampleOnFreePorts(): Promise<string> {
  const example = parseYaml(await readFile(join(EXAMPLES, 'smppd.yaml'), 'utf8')) as {
    listeners: { address: string }[];
    admin: { address: string };
  };
  expect(example.listeners).toHaveLength(1);
  example.listeners[0]!.address = '127.0.0.1:0';
  example.admin.address = '127.0.0.1:0';
  const config = join(dir, 'smppd.yaml');
  await writeFile(config, stringifyYaml(example));
  return config;
}

/** The SMPP port a `listening` log line names, or 0. */
function portOf(entry: Record<string, unknown>): number {
  const port = typeof entry.port === 'number' ? entry.port : Number(String(entry.address ?? '').split(':').pop());
  return entry.msg === 'listening' && Number.isInteger(port) && port > 0 ? port : 0;
}

/** The SMPP port smppd's `listening` log line names; rejects if its log ends first (it exited). */
async function listeningPort(log: LogLines): Promise<number> {
  return portOf(await log.next((e) => portOf(e) > 0));
}

/** A config with seven problems at seven paths (expectEveryProblem). */
async function writeBrokenConfig(): Promise<string> {
  const broken = join(dir, 'broken.yaml');
  await writeFile(
    broken,
    [
      'listeners:',
      '  - name: default',
      '    address: "127.0.0.1:99999"',
      '    limits: { window: 0, idle_timout: 5s }',
      'clients:',
      '  - system_id: acme',
      'clusters:',
      '  - name: up',
      '    endpoints: [{ address: "127.0.0.1:2775", system_id: me, window: -1 }]',
      '    load_balancer: fastest',
      'routes:',
      '  - { name: r, match: {}, cluster: missing }',
      '',
    ].join('\n'),
  );
  return broken;
}

/** Every problem of writeBrokenConfig at once, each as `path: message` at its path. */
function expectEveryProblem(stderr: string): void {
  const lines = stderr.trim().split('\n');
  for (const line of lines) expect(line).toMatch(/^[a-z_]+(\[\d+\])?(\.[a-z_]+(\[\d+\])?)*: \S.*$/);
  const paths = lines.map((l) => l.slice(0, l.indexOf(':')));
  expect(paths.sort()).toEqual(
    [
      'listeners[0].address',
      'listeners[0].limits.window',
      'listeners[0].limits.idle_timout',
      'clients[0]',
      'clusters[0].endpoints[0].window',
      'clusters[0].load_balancer',
      'routes[0].cluster',
    ].sort(),
  );
  expect(lines).toContain('listeners[0].limits.idle_timout: unknown key');
}

describe('npm start: examples/smppd.yaml with its embedded mock upstream', () => {
  let proc: ChildProcess | undefined;
  let client: SmppClient | undefined;
  afterEach(async () => {
    await client?.close();
    if (proc !== undefined && proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGKILL');
      await once(proc, 'exit');
    }
  });

  it('binds as acme/secret, submits, gets ESME_ROK and the mock receipt with the same id; SIGTERM exits 0', async () => {
    const config = await writeExampleOnFreePorts();
    proc = spawn(NODE, [MAIN, '--config', config], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = once(proc, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    let stderr = '';
    proc.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const port = await listeningPort(new LogLines(proc));

    client = await SmppClient.connect(port);
    expect(await client.bind('transceiver', 'acme', 'secret')).toBe(Status.ESME_ROK);
    const resp = await client.submit({ destination_addr: '258841234567', registered_delivery: 1 });
    expect(resp.command_status).toBe(Status.ESME_ROK);
    expect(resp.message_id).toMatch(/^\S{1,64}$/);

    await client.waitDelivered(1); // the mock's dlr_delay is 1 s
    const receipt = client.delivered[0]!;
    expect(Number(receipt.esm_class) & 0x3c).toBe(0x04);
    const text = (receipt.short_message as { message?: string }).message ?? '';
    expect(text).toMatch(new RegExp(`^id:${resp.message_id} .*stat:DELIVRD`));
    expect(receipt.receipted_message_id).toBe(resp.message_id);

    // SPEC §6: SIGTERM drains (the client is unbound) and exits 0.
    proc.kill('SIGTERM');
    await client.waitUnbind();
    const [code, signal] = await exited;
    expect({ code, signal, stderr }).toEqual({ code: 0, signal: null, stderr: '' });
  }, 30_000);
});

describe('smppd --validate', () => {
  it('exits 0 on every shipped example in each format', async () => {
    const files = (await readdir(EXAMPLES)).filter((f) => /\.(ya?ml|json|toml)$/.test(f));
    expect(files.length).toBeGreaterThanOrEqual(4);
    const results = await Promise.all(files.map(async (f) => ({ file: f, ...(await validate(join(EXAMPLES, f))) })));
    for (const r of results) {
      expect({ file: r.file, code: r.code, stdout: r.stdout }).toEqual({ file: r.file, code: 0, stdout: `${join(EXAMPLES, r.file)}: ok\n` });
    }
  });

  it('exits 1 on a broken config, one `path: message` line per problem', async () => {
    const r = await validate(await writeBrokenConfig());
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expectEveryProblem(r.stderr);
  });

  it('exits 1 with a usage message when --config is missing', async () => {
    const r = await validate('', ['--validate']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^smppd: --config FILE is required\n/);
  });
});

describe('exit codes, --help and SIGHUP (SPEC §2, §6)', () => {
  it('exits 1 when started on a broken config, printing every problem as `path: message`', async () => {
    const broken = await writeBrokenConfig();
    const r = await validate(broken, ['--config', broken]);
    expect(r.code).toBe(1);
    expectEveryProblem(r.stderr);
  });

  // A throw or a rejection nobody handles, made by a module loaded before smppd's (--import) when it
  // gets SIGUSR2: smppd's own code has no way to crash on purpose.
  it.each([
    ['an uncaught exception', 'uncaught exception', 'throw new Error("injected crash")'],
    ['an unhandled rejection', 'unhandled rejection', 'void Promise.reject(new Error("injected crash"))'],
  ])('exits 2 on %s at runtime, with a fatal log line', async (_name, what, crash) => {
    const preload = `data:text/javascript,process.on("SIGUSR2", () => { ${crash}; });`;
    const config = await writeExampleOnFreePorts();
    const proc = spawn(NODE, ['--import', preload, MAIN, '--config', config], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = once(proc, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    const log = new LogLines(proc);
    await listeningPort(log);
    proc.kill('SIGUSR2');
    const [code, signal] = await exited;
    expect({ code, signal }).toEqual({ code: 2, signal: null });
    expect(await log.next((e) => e.level === 'fatal')).toMatchObject({ msg: what, err: { message: 'injected crash' } });
  }, 30_000);

  it.each([
    ['dist/proxy/main.js', /--config FILE/],
    ['dist/e2e/sim/main.js', /--dlr-delay D/],
    ['dist/e2e/bench/main.js', /--window N/],
  ])('%s --help prints its options and exits 0', async (bin, option) => {
    const { stdout } = await run(NODE, [join(ROOT, bin), '--help'], { cwd: ROOT, timeout: 20_000 });
    expect(stdout).toMatch(/^(Usage|smppd)/);
    expect(stdout).toMatch(option);
  });

  it('SIGHUP reloads the config (SPEC §6), keeping bound sessions', async () => {
    const config = await writeExampleOnFreePorts();
    const proc = spawn(NODE, [MAIN, '--config', config], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = once(proc, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    const log = new LogLines(proc);
    const client = await SmppClient.connect(await listeningPort(log));
    try {
      expect(await client.bind('transceiver', 'acme', 'secret')).toBe(Status.ESME_ROK);
      proc.kill('SIGHUP');
      const requested = await log.next((e) => e.msg === 'config reload requested');
      expect(requested).toMatchObject({ trigger: 'SIGHUP' });
      await log.next((e) => e.msg === 'config reloaded, nothing changed');
      expect((await client.submit({ destination_addr: '258841234567' })).command_status).toBe(Status.ESME_ROK);
    } finally {
      await client.close();
      // SIGINT drains and exits as SIGTERM does (SPEC §6).
      proc.kill('SIGINT');
      expect(await exited).toEqual([0, null]);
    }
  }, 30_000);
});

/**
 * smppd's JSON log lines, in order, read whole line by line; next() waits for the first not yet
 * taken that matches, and rejects once the log has ended (the process exited) without one.
 */
class LogLines {
  private readonly entries: Record<string, unknown>[] = [];
  private taken = 0;
  private ended = false;
  private waiter: (() => void) | undefined;

  constructor(proc: ChildProcess) {
    const lines = createInterface({ input: proc.stdout! });
    lines.on('line', (line) => {
      try {
        this.entries.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        return; // not a log line
      }
      this.waiter?.();
    });
    lines.on('close', () => {
      this.ended = true;
      this.waiter?.();
    });
  }

  async next(match: (entry: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
    for (;;) {
      while (this.taken < this.entries.length) {
        const entry = this.entries[this.taken++]!;
        if (match(entry)) return entry;
      }
      if (this.ended) throw new Error(`smppd's log ended without the line awaited (${this.entries.length} lines read)`);
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
  }
}
