// A private redis-server for tests and benchmarks: started on a free 127.0.0.1 port in a temp dir,
// without persistence (`--save "" --appendonly no`) unless `durable`, stopped (and its dir removed) by stop().
// kill() and start() let a test take Redis away mid-run and bring it back on the same port.
// startRedisSentinel() adds a Sentinel in front of a server (Sentinel connection settings).
// useRedis() prefers REDIS_URL from the environment (a shared Redis, e.g. in CI) and falls back to a
// private server; either way each caller takes fresh key prefixes so runs never share state.

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const REDIS_SERVER_BIN = process.env.REDIS_SERVER_BIN ?? '/usr/bin/redis-server';
const READY_LINE = /Ready to accept connections/;
const START_TIMEOUT_MS = 10_000;

export interface RedisServer {
  readonly host: string;
  readonly port: number;
  /** redis://127.0.0.1:<port>, or rediss:// for a TLS server */
  readonly url: string;
  /** Whether the server process is running. */
  readonly running: boolean;
  /** Process id of the running server (CPU figures in benchmarks). */
  readonly pid: number | undefined;
  /** SIGKILL the server and wait until it has exited (clients see their connections drop). */
  kill(): Promise<void>;
  /** Start the server again on the same port (empty: nothing was persisted). */
  start(): Promise<void>;
  /** Kill the server if running and remove its directory. Idempotent. */
  stop(): Promise<void>;
}

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

/** What a private redis-server is started with beyond its port. */
export interface RedisServerOptions {
  port?: number;
  /** Append-only file with fsync on every write: start() after kill() comes back with every acknowledged write. */
  durable?: boolean;
  /** TLS only (no plain port), with this certificate, key and CA (PEM files); clients need no certificate. */
  tls?: { cert: string; key: string; ca: string };
  /** requirepass. */
  password?: string;
}

function launch(port: number, dir: string, options: RedisServerOptions): Promise<ChildProcess> {
  // durable: every write is in the append-only file before Redis answers it, so a kill -9 and a
  // start on the same dir lose nothing acknowledged (what a production Redis for smppd needs).
  const persistence = options.durable === true ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
  const tls = options.tls;
  const ports =
    tls === undefined
      ? ['--port', String(port)]
      : ['--port', '0', '--tls-port', String(port), '--tls-cert-file', tls.cert, '--tls-key-file', tls.key, '--tls-ca-cert-file', tls.ca, '--tls-auth-clients', 'no'];
  const password = options.password === undefined ? [] : ['--requirepass', options.password];
  return spawnUntil(
    [...ports, ...password, '--bind', '127.0.0.1', '--save', '', ...persistence, '--dir', dir, '--daemonize', 'no'],
    READY_LINE,
  );
}

/** Runs redis-server with `args` until it prints `ready`. */
function spawnUntil(args: string[], ready: RegExp): Promise<ChildProcess> {
  const child = spawn(REDIS_SERVER_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  // A test or benchmark that dies without stop() must not leave its server running.
  const orphanGuard = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', orphanGuard);
  child.once('exit', () => process.off('exit', orphanGuard));
  return new Promise((resolve, reject) => {
    let output = '';
    const done = (err?: Error): void => {
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      child.off('exit', onExit);
      child.off('error', onError);
      if (err === undefined) {
        // Keep draining so a chatty server never blocks on a full pipe.
        child.stdout!.resume();
        child.stderr!.resume();
        resolve(child);
      } else {
        child.kill('SIGKILL');
        reject(err);
      }
    };
    const onData = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      if (ready.test(output)) done();
    };
    const onExit = (code: number | null): void => done(new Error(`redis-server exited (code ${code}) before it was ready:\n${output}`));
    const onError = (err: Error): void => done(err);
    const timer = setTimeout(() => done(new Error(`redis-server not ready within ${START_TIMEOUT_MS} ms:\n${output}`)), START_TIMEOUT_MS);
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.once('exit', onExit);
    child.once('error', onError);
  });
}

function killAndWait(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/** Starts a private redis-server on a free port (or `port`); its url is rediss:// with `tls`. */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const host = '127.0.0.1';
  const port = options.port ?? (await freePort(host));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'smppd-redis-'));
  let child: ChildProcess | undefined = await launch(port, dir, options).catch((err: unknown) => {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  });
  let stopped = false;
  const kill = async (): Promise<void> => {
    if (child === undefined) return;
    const dying = child;
    child = undefined;
    await killAndWait(dying);
  };
  return {
    host,
    port,
    url: `${options.tls === undefined ? 'redis' : 'rediss'}://${host}:${port}`,
    get running() {
      return child !== undefined;
    },
    get pid() {
      return child?.pid;
    },
    kill,
    async start() {
      if (stopped) throw new Error('redis-server was stopped for good');
      if (child !== undefined) return;
      child = await launch(port, dir, options);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface RedisSentinel {
  /** host:port of the sentinel. */
  readonly address: string;
  stop(): Promise<void>;
}

/** A Redis Sentinel on a free port that monitors `master` under the name `name`. */
export async function startRedisSentinel(master: RedisServer, name = 'mymaster'): Promise<RedisSentinel> {
  const port = await freePort(master.host);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'smppd-sentinel-'));
  // Sentinel rewrites its config file, so it must be a file of its own.
  const conf = path.join(dir, 'sentinel.conf');
  writeFileSync(
    conf,
    [`port ${port}`, `bind ${master.host}`, `dir ${dir}`, `sentinel monitor ${name} ${master.host} ${master.port} 1`, ''].join('\n'),
  );
  const child = await spawnUntil([conf, '--sentinel'], /\+monitor master/).catch((err: unknown) => {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  });
  let stopped = false;
  return {
    address: `${master.host}:${port}`,
    async stop() {
      if (stopped) return;
      stopped = true;
      await killAndWait(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface TestRedis {
  readonly url: string;
  /** A key prefix no other caller (run, test, store) uses: `smppd-test:<random>:<n>:`. */
  prefix(): string;
  /** Stops the private server, if one was started. */
  close(): Promise<void>;
}

/** Redis for a test file: REDIS_URL when set, else a private redis-server. */
export async function useRedis(env: NodeJS.ProcessEnv = process.env): Promise<TestRedis> {
  const run = randomBytes(6).toString('hex');
  let n = 0;
  const prefix = (): string => `smppd-test:${run}:${++n}:`;
  const shared = env.REDIS_URL;
  if (shared !== undefined && shared !== '') return { url: shared, prefix, close: async () => {} };
  const server = await startRedisServer();
  return { url: server.url, prefix, close: () => server.stop() };
}
