// `npm run bench`: the simulator, smppd and the load generator on this machine, in one run.
// The simulator and smppd run as child processes (their own processes, sharing the machine's cores);
// the load generator runs here. Prints one table (or JSON with --json). Scenarios are entries of
// SCENARIOS: to add one, add an entry; a stack variant (store backend, config tweaks) is a
// ProxyVariant. The Redis store runs (f) use a private redis-server (e2e/helpers/redis-server.ts) and
// are compared with (b) and (c). The reference relay (bench/relay.ts) shows what share of (a) any
// process in smppd's place can reach on this machine.
//
// Options: --json, --only id,id, --rounds N (see --help), --quick (smaller counts, for a smoke run).

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { openIdleSessions, runBench, type BenchOptions, type BenchResult } from '../e2e/bench/index.js';
import { freePort, startNode, waitForBind, type NodeChild } from '../e2e/bench/processes.js';
import { startRedisServer, type RedisServer } from '../e2e/helpers/redis-server.js';
import { SMPPD_NODE_FLAGS } from '../proxy/node-flags.js';

const HOST = '127.0.0.1';
const CLIENT = { systemId: 'acme', password: 'secret' };
const distRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SIM_MAIN = path.join(distRoot, 'e2e/sim/main.js');
const PROXY_MAIN = path.join(distRoot, 'proxy/main.js');
const RELAY_MAIN = path.join(distRoot, 'bench/relay.js');

// ---- what runs --------------------------------------------------------------------------------------

interface Sizes {
  throughputCount: number;
  receiptCount: number;
  warmupCount: number;
  p99Rate: number;
  /** (d) sends at p99Rate this long before measuring (see there). */
  p99WarmupMs: number;
  p99DurationMs: number;
  idleSessions: number;
}

const FULL: Sizes = {
  throughputCount: 300_000,
  receiptCount: 100_000,
  warmupCount: 30_000,
  p99Rate: 10_000,
  p99WarmupMs: 3_000,
  p99DurationMs: 10_000,
  idleSessions: 10_000,
};
const QUICK: Sizes = { throughputCount: 30_000, receiptCount: 10_000, warmupCount: 5_000, p99Rate: 10_000, p99WarmupMs: 500, p99DurationMs: 1_000, idleSessions: 1_000 };

/** How smppd is configured for a scenario; one running process per distinct key. */
interface ProxyVariant {
  key: string;
  /** SPEC §3 `store` section. */
  store: Record<string, unknown>;
}

const MEMORY: ProxyVariant = { key: 'memory', store: { backend: 'memory', ttl: '1h', max_entries: 5_000_000 } };

/** smppd on the Redis store (issue 5): a private redis-server, started on first use. */
async function redisVariant(ctx: Context): Promise<ProxyVariant> {
  return { key: 'redis', store: { backend: 'redis', ttl: '1h', redis: { url: await ctx.redisUrl(), key_prefix: 'smppd-bench:' } } };
}

interface Row {
  id: string;
  title: string;
  /** Headline throughput (msg/s). */
  msgPerSec?: number;
  p50?: number;
  p99?: number;
  receipts?: string;
  /** A figure that is not a rate (e.g. RSS). */
  value?: string;
  target?: string;
  /** true/false against the target; undefined when there is none or it could not run. */
  met?: boolean;
  note?: string;
  bench?: BenchResult;
}

interface Context {
  sizes: Sizes;
  simPort(): Promise<number>;
  /** The simulator's pid (once started), to read its CPU. */
  simPid(): number | undefined;
  /** URL of a private redis-server for the Redis store runs (started on first use). */
  redisUrl(): Promise<string>;
  /** That redis-server's pid (once started), to read its CPU. */
  redisPid(): Promise<number | undefined>;
  /** Port of the reference relay (bench/relay.ts) in front of the simulator (started on first use). */
  relayPort(): Promise<number>;
  /** The relay's pid (once started), to read its CPU. */
  relayPid(): number | undefined;
  /** A running smppd; `fresh` restarts it (e.g. to measure memory without earlier traffic). */
  proxy(variant: ProxyVariant, fresh?: boolean): Promise<{ port: number; child: NodeChild }>;
  log(line: string): void;
}

interface Scenario {
  id: string;
  title: string;
  needsProxy: boolean;
  /** A closed-loop throughput run: with --rounds N it runs N times and its median row is kept. */
  repeat?: boolean;
  run(ctx: Context): Promise<Row>;
  /** Targets and notes against other scenarios' rows, once every round is over (medians then). */
  judge?(row: Row, rows: ReadonlyMap<string, Row>, runs: Runs): void;
}

const BENCH_BASE: Partial<BenchOptions> = { host: HOST, ...CLIENT, binds: 4, window: 100, receiptTimeoutMs: 20_000 };

/** The processes a measured run counts the CPU of, by the name its note gives them. */
type Counted = ReadonlyArray<readonly [name: string, pid: number | undefined]>;

/** CPU seconds (user + system) process `pid` has used, from /proc (Linux); undefined elsewhere. */
function cpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    // Fields 14 and 15 after the command name (which may hold spaces), in clock ticks: USER_HZ, 100 on Linux.
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

/**
 * A closed-loop run after a warm-up, its row made by `row`, noting each process's CPU per message
 * of the measured run: the load generator (this process), then `counted`. On two cores the
 * processes share the CPU, so a slow row shows here whose CPU it went to; redis-server's is also
 * the work every replica of a fleet shares (one Redis thread), which msg/s on one machine hides
 * (bench/README.md, "Kept (twelfth session)").
 */
async function measured(
  ctx: Context,
  port: number,
  opts: Partial<BenchOptions>,
  counted: Counted,
  row: (r: BenchResult) => Row,
): Promise<Row> {
  // Lets the JIT of all three processes settle and the proxy's upstream sessions bind.
  await runBench({ ...BENCH_BASE, port, count: ctx.sizes.warmupCount, receipts: opts.receipts ?? false });
  const before = counted.map(([, pid]) => cpuSeconds(pid));
  const mine = process.cpuUsage();
  const r = await runBench({ ...BENCH_BASE, port, ...opts });
  const used = process.cpuUsage(mine);
  const out = row(r);
  if (r.sent > 0) {
    const each = [`load generator ${((used.user + used.system) / r.sent).toFixed(1)}`];
    counted.forEach(([name, pid], i) => {
      const [from, to] = [before[i], cpuSeconds(pid)];
      if (from !== undefined && to !== undefined) each.push(`${name} ${(((to - from) * 1e6) / r.sent).toFixed(1)}`);
    });
    addNote(out, `CPU µs per message: ${each.join(', ')}`);
  }
  return out;
}

function throughputRow(id: string, title: string, r: BenchResult): Row {
  const bad = r.responses - r.ok + Object.values(r.failures).reduce((a, b) => a + b, 0);
  return {
    id,
    title,
    msgPerSec: r.receipts === undefined ? r.msgPerSec : r.receipts.perSec,
    p50: r.latency.p50,
    p99: r.latency.p99,
    receipts:
      r.receipts === undefined
        ? undefined
        : `${r.receipts.matched}/${r.receipts.expected} matched, ${r.receipts.unmatched} unmatched, ${r.receipts.duplicates} dup`,
    note: bad > 0 ? `${bad} not ESME_ROK: ${JSON.stringify({ ...r.byStatus, ...r.failures })}` : undefined,
    bench: r,
  };
}

const pct = (a: number, b: number): string => `${Math.round((100 * a) / b)}%`;

function addNote(row: Row, note: string): void {
  row.note = [row.note, note].filter(Boolean).join('; ');
}

/** Every round's row of each scenario, in round order. */
type Runs = ReadonlyMap<string, readonly Row[]>;

/**
 * Scenario `id`'s msg/s as a share of `of`'s: the median of the rounds' own shares (each round's
 * row over the same round's row of `of`), noted on `row` as `<share> of <name>`, with each round's
 * when there are several. Paired by round because the machine drifts: over the minutes of a run it
 * can get 20-40% slower or faster (bench/README.md), which moves every scenario of a round alike,
 * so a round's share holds still where a ratio of two medians taken from different rounds does
 * not. Undefined when no round has both.
 */
function noteShare(row: Row, rows: ReadonlyMap<string, Row>, runs: Runs, id: string, of: string, name: string): number | undefined {
  const mine = runs.get(id) ?? [];
  const theirs = runs.get(of) ?? [];
  const shares: number[] = [];
  for (let i = 0; i < Math.min(mine.length, theirs.length); i++) {
    const [a, b] = [mine[i]!.msgPerSec, theirs[i]!.msgPerSec];
    if (a !== undefined && b !== undefined && b > 0) shares.push(a / b);
  }
  if (shares.length === 0) return undefined;
  const share = [...shares].sort((x, y) => x - y)[Math.floor((shares.length - 1) / 2)]!;
  const [a, b] = [rows.get(id)?.msgPerSec, rows.get(of)?.msgPerSec];
  const each =
    shares.length > 1 && a !== undefined && b !== undefined
      ? ` (median of the rounds' ${shares.map((x) => pct(x, 1)).join(', ')}; the medians' ratio: ${pct(a, b)})`
      : '';
  addNote(row, `${pct(share, 1)} of ${name}${each}`);
  return share;
}

/**
 * The row of the median run (by msg/s; the lower middle one of an even count), noting the spread:
 * on a shared machine one run moves by 10-20% (bench/README.md), a median of alternating runs much less.
 */
function medianRow(runs: readonly Row[]): Row {
  if (runs.length === 1) return runs[0]!;
  const sorted = [...runs].sort((a, b) => (a.msgPerSec ?? 0) - (b.msgPerSec ?? 0));
  const row = { ...sorted[Math.floor((sorted.length - 1) / 2)]! };
  const int = (n: number | undefined): string => Math.round(n ?? 0).toLocaleString('en-US');
  addNote(row, `median of ${runs.length} runs (${runs.map((r) => int(r.msgPerSec)).join(', ')} msg/s)`);
  if (runs.some((r) => r.met === false)) row.met = false;
  return row;
}

/** The processes of a direct run, besides the load generator. */
function direct(ctx: Context): Counted {
  return [['simulator', ctx.simPid()]];
}

/** The processes of a run through `name` (smppd on the memory store, or the relay), besides the load generator. */
function through(ctx: Context, name: string, pid: number | undefined): Counted {
  return [...direct(ctx), [name, pid]];
}

/** The processes of a run through smppd `proxy`, on the Redis store. */
async function throughOnRedis(ctx: Context, proxy: NodeChild): Promise<Counted> {
  return [...through(ctx, 'smppd', proxy.pid), ['redis-server', await ctx.redisPid()]];
}

/**
 * Open loop at p99Rate: latency at a steady rate is the figure. Warm-up at that rate, not the
 * closed-loop burst of measured(): a full-speed burst just before leaves every process collecting
 * its garbage during the first seconds of the measurement.
 */
async function atFixedRate(ctx: Context, port: number): Promise<BenchResult> {
  const rate = ctx.sizes.p99Rate;
  await runBench({ ...BENCH_BASE, port, rate, durationMs: ctx.sizes.p99WarmupMs });
  return runBench({ ...BENCH_BASE, port, rate, durationMs: ctx.sizes.p99DurationMs });
}

const SCENARIOS: Scenario[] = [
  {
    id: 'direct',
    title: '(a) direct to the simulator',
    needsProxy: false,
    repeat: true,
    async run(ctx) {
      const port = await ctx.simPort();
      return measured(ctx, port, { count: ctx.sizes.throughputCount }, direct(ctx), (r) => throughputRow(this.id, this.title, r));
    },
  },
  {
    id: 'proxy',
    title: '(b) through smppd',
    needsProxy: true,
    repeat: true,
    async run(ctx) {
      const { port, child } = await ctx.proxy(MEMORY);
      return measured(ctx, port, { count: ctx.sizes.throughputCount }, through(ctx, 'smppd', child.pid), (r) => {
        const row = throughputRow(this.id, this.title, r);
        row.target = '>= 50% of (a), >= 50,000/s';
        row.met = r.ok === r.sent && r.msgPerSec >= 50_000;
        return row;
      });
    },
    judge(row, rows, runs) {
      const share = noteShare(row, rows, runs, 'proxy', 'direct', 'direct');
      if (share !== undefined) row.met = row.met === true && share >= 0.5;
    },
  },
  {
    id: 'proxy-redis',
    title: '(f) through smppd, Redis store',
    needsProxy: true,
    repeat: true,
    async run(ctx) {
      const { port, child } = await ctx.proxy(await redisVariant(ctx));
      return measured(ctx, port, { count: ctx.sizes.throughputCount }, await throughOnRedis(ctx, child), (r) => {
        const row = throughputRow(this.id, this.title, r);
        row.target = '>= 60% of (b)';
        row.met = r.ok === r.sent ? undefined : false;
        return row;
      });
    },
    judge(row, rows, runs) {
      if (row.met === false) return;
      const share = noteShare(row, rows, runs, 'proxy-redis', 'proxy', 'the memory store (b)');
      if (share !== undefined) row.met = share >= 0.6;
    },
  },
  {
    // Not smppd: the least any process between the load generator and the simulator can do
    // (bench/relay.ts). Its share of (a) is this machine's ceiling for (b)'s.
    id: 'relay',
    title: '    reference: header-only relay, not smppd',
    needsProxy: false,
    repeat: true,
    async run(ctx) {
      const port = await ctx.relayPort();
      const counted = through(ctx, 'relay', ctx.relayPid());
      return measured(ctx, port, { count: ctx.sizes.throughputCount }, counted, (r) => throughputRow(this.id, this.title, r));
    },
    judge(row, rows, runs) {
      noteShare(row, rows, runs, 'relay', 'direct', 'direct');
    },
  },
  {
    id: 'direct-receipts',
    title: '    direct, with receipts',
    needsProxy: false,
    repeat: true,
    async run(ctx) {
      const port = await ctx.simPort();
      const opts = { count: ctx.sizes.receiptCount, receipts: true };
      return measured(ctx, port, opts, direct(ctx), (r) => throughputRow(this.id, this.title, r));
    },
  },
  {
    id: 'proxy-receipts',
    title: '(c) through smppd, with receipts',
    needsProxy: true,
    repeat: true,
    async run(ctx) {
      const { port, child } = await ctx.proxy(MEMORY);
      return measured(ctx, port, { count: ctx.sizes.receiptCount, receipts: true }, through(ctx, 'smppd', child.pid), (r) => {
        const row = throughputRow(this.id, this.title, r);
        const rc = r.receipts!;
        row.target = '>= 25,000/s, every receipt matched';
        row.met = rc.perSec >= 25_000 && rc.missing === 0 && rc.unmatched === 0 && rc.duplicates === 0 && r.ok === r.sent;
        return row;
      });
    },
  },
  {
    id: 'proxy-redis-receipts',
    title: '    Redis store, with receipts',
    needsProxy: true,
    repeat: true,
    async run(ctx) {
      const { port, child } = await ctx.proxy(await redisVariant(ctx));
      const opts = { count: ctx.sizes.receiptCount, receipts: true };
      return measured(ctx, port, opts, await throughOnRedis(ctx, child), (r) => {
        const row = throughputRow(this.id, this.title, r);
        const rc = r.receipts!;
        row.target = '>= 20,000/s, every receipt matched';
        row.met = rc.perSec >= 20_000 && rc.missing === 0 && rc.unmatched === 0 && rc.duplicates === 0 && r.ok === r.sent;
        return row;
      });
    },
    judge(row, rows, runs) {
      noteShare(row, rows, runs, 'proxy-redis-receipts', 'proxy-receipts', 'the memory store (c)');
    },
  },
  {
    // The machine's own floor for (d): what the load generator and the simulator alone measure at
    // the same rate (timer wake-ups, scheduling, their GC).
    id: 'direct-p99',
    title: '    direct, 10,000 msg/s offered',
    needsProxy: false,
    async run(ctx) {
      return throughputRow(this.id, this.title, await atFixedRate(ctx, await ctx.simPort()));
    },
  },
  {
    id: 'proxy-p99',
    title: '(d) through smppd, 10,000 msg/s offered',
    needsProxy: true,
    async run(ctx) {
      // Runs before the Redis scenarios: their smppd and redis-server would still be cleaning up
      // after their own load (V8 collects a process's heap some seconds after it goes idle) on the
      // same two cores while this measures.
      const { port } = await ctx.proxy(MEMORY);
      const r = await atFixedRate(ctx, port);
      const row = throughputRow(this.id, this.title, r);
      row.target = 'p99 <= 5 ms';
      row.met = r.latency.p99 <= 5 && r.ok === r.sent;
      return row;
    },
    judge(row, rows) {
      const direct = rows.get('direct-p99')?.p99;
      if (direct !== undefined) addNote(row, `p99 direct at this rate: ${direct.toFixed(2)} ms`);
    },
  },
  {
    id: 'idle',
    title: '(e) idle bound client sessions -> smppd RSS',
    needsProxy: true,
    async run(ctx) {
      const want = ctx.sizes.idleSessions;
      const limit = openFileLimit();
      // Each session is one descriptor here and one in smppd; keep a margin for everything else.
      const count = limit === undefined ? want : Math.min(want, limit - 256);
      const { port, child } = await ctx.proxy(MEMORY, true);
      const before = child.rssKb();
      const idle = await openIdleSessions({ host: HOST, port, ...CLIENT, count, concurrency: 100 });
      const after = child.rssKb();
      const bound = idle.bound;
      await idle.close();
      const mb = (kb: number | undefined): string => (kb === undefined ? '?' : `${Math.round(kb / 1024)} MB`);
      const notes = [`RSS before ${mb(before)}`];
      if (count < want) notes.push(`ulimit -n is ${limit}: ${count} sessions instead of ${want}`);
      const failures = Object.entries(idle.failures).map(([k, v]) => `${k} ${v}`);
      if (failures.length > 0) notes.push(`bind failures: ${failures.join(', ')}`);
      return {
        id: this.id,
        title: this.title,
        value: `${bound} sessions: RSS ${mb(after)}`,
        target: '10,000 sessions <= 300 MB',
        met: after !== undefined && bound === want && after / 1024 <= 300,
        note: notes.join('; '),
      };
    },
  },
];

// ---- processes ----------------------------------------------------------------------------------------

function openFileLimit(): number | undefined {
  try {
    const out = execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim();
    return out === 'unlimited' ? undefined : Number(out);
  } catch {
    return undefined;
  }
}

function proxyConfig(listenPort: number, adminPort: number, simPort: number, variant: ProxyVariant): string {
  return stringify({
    listeners: [
      {
        name: 'bench',
        address: `${HOST}:${listenPort}`,
        limits: { max_connections: 20_000, idle_timeout: '0s', request_timeout: '30s', window: 1000 },
      },
    ],
    clients: [{ system_id: CLIENT.systemId, password: CLIENT.password, max_binds: 0, throughput: 0 }],
    clusters: [
      {
        name: 'sim',
        endpoints: [{ address: `${HOST}:${simPort}`, system_id: 'smppd', password: 'secret', binds: 4, window: 100 }],
        bind_type: 'transceiver',
        message_id: 'auto',
      },
    ],
    routes: [{ name: 'all', cluster: 'sim' }],
    store: variant.store,
    admin: { address: `${HOST}:${adminPort}` },
    log: { level: 'warn' },
  });
}

class Stack {
  private sim: { child: NodeChild; port: number } | undefined;
  private readonly proxies = new Map<string, { child: NodeChild; port: number }>();
  private readonly dir = mkdtempSync(path.join(os.tmpdir(), 'smppd-bench-'));
  private redis: Promise<RedisServer> | undefined;
  private relay: { child: NodeChild; port: number } | undefined;

  async redisUrl(): Promise<string> {
    this.redis ??= startRedisServer();
    return (await this.redis).url;
  }

  async redisPid(): Promise<number | undefined> {
    return this.redis === undefined ? undefined : (await this.redis).pid;
  }

  simPid(): number | undefined {
    return this.sim?.child.pid;
  }

  relayPid(): number | undefined {
    return this.relay?.child.pid;
  }

  async simPort(): Promise<number> {
    if (this.sim !== undefined) return this.sim.port;
    // --max-messages: the simulator remembers messages only for query_sm/cancel_sm/replace_sm, which
    // no scenario sends. What it remembers survives its scavenges, and copying it stalled the
    // simulator: that showed up in the latency of every scenario, direct ones included (direct at
    // 10,000 msg/s: p99 6-17 ms with the default 500,000; 3-5 ms with 10,000; 2.1 ms with 1,000,
    // where its scavenges take 0.5-1.5 ms).
    const child = startNode(SIM_MAIN, [
      ...['--port', '0', '--dlr-delay', '50ms', '--ids', 'hex', '--receipts', 'text', '--window', '100'],
      ...['--max-messages', '1000'],
    ]);
    try {
      const m = await child.waitForLine(/listening on \S+:(\d+)/, 10_000);
      this.sim = { child, port: Number(m[1]) };
      return this.sim.port;
    } catch (err) {
      await child.stop();
      throw new Error(`the simulator did not start: ${(err as Error).message}\n${child.output()}`, { cause: err });
    }
  }

  async relayPort(): Promise<number> {
    if (this.relay !== undefined) return this.relay.port;
    const child = startNode(RELAY_MAIN, ['0', `${HOST}:${await this.simPort()}`]);
    try {
      const m = await child.waitForLine(/relay listening on \S+:(\d+)/, 10_000);
      this.relay = { child, port: Number(m[1]) };
      return this.relay.port;
    } catch (err) {
      await child.stop();
      throw new Error(`the reference relay did not start: ${(err as Error).message}\n${child.output()}`, { cause: err });
    }
  }

  async proxy(variant: ProxyVariant, fresh = false): Promise<{ port: number; child: NodeChild }> {
    const running = this.proxies.get(variant.key);
    if (running !== undefined && !fresh) return running;
    if (running !== undefined) {
      await running.child.stop();
      this.proxies.delete(variant.key);
    }
    const simPort = await this.simPort();
    const [port, adminPort] = [await freePort(), await freePort()];
    const configPath = path.join(this.dir, `smppd-${variant.key}.yaml`);
    writeFileSync(configPath, proxyConfig(port, adminPort, simPort, variant));
    const child = startNode(PROXY_MAIN, ['--config', configPath], { nodeArgs: SMPPD_NODE_FLAGS });
    try {
      await waitForBind({ host: HOST, port, ...CLIENT }, 20_000);
    } catch (err) {
      await child.stop();
      throw new Error(`smppd did not accept a bind: ${(err as Error).message}\n${child.output()}`, { cause: err });
    }
    const entry = { child, port };
    this.proxies.set(variant.key, entry);
    return entry;
  }

  async close(): Promise<void> {
    await Promise.all([...this.proxies.values()].map((p) => p.child.stop()));
    if (this.relay !== undefined) await this.relay.child.stop();
    if (this.sim !== undefined) await this.sim.child.stop();
    if (this.redis !== undefined) await (await this.redis).stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

// ---- output -------------------------------------------------------------------------------------------

function table(rows: Row[]): string {
  const int = (n: number | undefined): string => (n === undefined ? '' : Math.round(n).toLocaleString('en-US'));
  const ms = (n: number | undefined): string => (n === undefined ? '' : n.toFixed(2));
  const head = ['scenario', 'msg/s', 'p50 ms', 'p99 ms', 'receipts / figure', 'target', 'met'];
  const body = rows.map((r) => [
    r.title,
    int(r.msgPerSec),
    ms(r.p50),
    ms(r.p99),
    r.receipts ?? r.value ?? '',
    r.target ?? '',
    r.met === undefined ? '' : r.met ? 'yes' : 'NO',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === 1 || i === 2 || i === 3 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  const out = [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)];
  const notes = rows.filter((r) => r.note !== undefined).map((r) => `  ${r.id}: ${r.note}`);
  if (notes.length > 0) out.push('', 'notes:', ...notes);
  return out.join('\n') + '\n';
}

const USAGE = `npm run bench -- [options]

  --only IDS   comma-separated scenarios: ${SCENARIOS.map((s) => s.id).join(', ')}
  --rounds N   run the closed-loop scenarios N times, alternating, and judge their medians (default 3;
               a share of another scenario is the median of the rounds' own shares; with 1, (a)
               runs first on a cold load generator and comes out low: see bench/README.md)
  --quick      smaller counts (a smoke run, figures not comparable)
  --json       print the results as JSON instead of a table
  --help       print this help
`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      rounds: { type: 'string' },
      quick: { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.help === true) {
    process.stdout.write(USAGE);
    return 0;
  }
  const only = values.only?.split(',').map((s) => s.trim());
  const unknown = only?.filter((id) => !SCENARIOS.some((s) => s.id === id)) ?? [];
  if (unknown.length > 0) {
    process.stderr.write(`unknown scenario(s): ${unknown.join(', ')}\n${USAGE}`);
    return 1;
  }
  // Three by default: one closed-loop run moves by 10-20% on a shared machine, and the load generator
  // (this process) speeds up as it warms, so a single (a) measured first is low and flatters (b).
  const rounds = Number(values.rounds ?? (values.quick === true ? 1 : 3));
  if (!Number.isInteger(rounds) || rounds < 1) {
    process.stderr.write(`--rounds must be a whole number >= 1\n${USAGE}`);
    return 1;
  }
  const sizes = values.quick === true ? QUICK : FULL;
  const json = values.json === true;
  const log = (line: string): void => {
    if (!json) process.stderr.write(`${line}\n`);
  };
  const proxyBuilt = existsSync(PROXY_MAIN);
  const stack = new Stack();
  const rows = new Map<string, Row>();
  const ctx: Context = {
    sizes,
    simPort: () => stack.simPort(),
    simPid: () => stack.simPid(),
    redisUrl: () => stack.redisUrl(),
    redisPid: () => stack.redisPid(),
    relayPort: () => stack.relayPort(),
    relayPid: () => stack.relayPid(),
    proxy: (variant, fresh) => stack.proxy(variant, fresh),
    log,
  };
  log(`node ${process.version}, ${os.cpus().length} CPUs, ulimit -n ${openFileLimit() ?? 'unlimited'}`);
  // Rounds alternate the scenarios (a, b, f, relay, ... then again), so that a slow minute of the
  // machine does not fall on one scenario only; the rest (fixed-rate p99, idle RSS) run in the first
  // round. SCENARIOS lists each scenario next to the one it is a share of ((b) after (a), (f) after
  // (b)), so that the two runs of a round's share (noteShare) are minutes closer together.
  const selected = SCENARIOS.filter((s) => only === undefined || only.includes(s.id));
  const runs = new Map<string, Row[]>();
  try {
    for (let round = 1; round <= rounds; round++) {
      for (const s of selected) {
        if (round > 1 && s.repeat !== true) continue;
        if (s.needsProxy && !proxyBuilt) {
          rows.set(s.id, { id: s.id, title: s.title, note: `skipped: ${path.relative(distRoot, PROXY_MAIN)} is not built` });
          continue;
        }
        log(rounds > 1 ? `running ${s.id} (round ${round} of ${rounds}) ...` : `running ${s.id} ...`);
        let row: Row;
        try {
          row = await s.run(ctx);
        } catch (err) {
          row = { id: s.id, title: s.title, met: false, note: `failed: ${(err as Error).message.split('\n')[0]}` };
          log((err as Error).message);
        }
        runs.set(s.id, [...(runs.get(s.id) ?? []), row]);
      }
    }
  } finally {
    await stack.close();
  }
  for (const [id, list] of runs) rows.set(id, medianRow(list));
  for (const s of selected) {
    const row = rows.get(s.id);
    if (row !== undefined && s.judge !== undefined && row.note?.startsWith('failed:') !== true) s.judge(row, rows, runs);
  }
  const list = selected.flatMap((s) => rows.get(s.id) ?? []);
  if (json) {
    const out = {
      node: process.version,
      cpus: os.cpus().length,
      rows: list,
    };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } else {
    process.stdout.write(table(list));
  }
  return list.some((r) => r.note?.startsWith('failed:')) ? 2 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 2;
  },
);
