#!/usr/bin/env -S node --max-semi-space-size=12
// smppd's entry point: the only place that reads the environment and argv, listens, handles
// signals and exits (STYLE "Stay away from": process.exit outside main.ts). Everything else is
// built from its dependencies in app.ts.
//
// Exit codes (SPEC §2): 0 clean exit, 1 bad config or usage, 2 runtime failure.

import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { adminDepsFromProxy, buildAdmin } from './admin/index.js';
import { parseHostPort } from './config/net.js';
import { loadConfig, UNREAD_FILE } from './config/load.js';
import { watchConfig, watchedFiles, type ConfigWatcher } from './config/watch.js';
import { buildProxy } from './app.js';
import { createLogger, type Logger } from './telemetry/logger.js';
import { exitOnCrash, stderrCrashReport } from './crash.js';
import { hashPassword } from './filter/password-hash.js';
import { LOG_LEVELS, type LogLevel } from './config/schema.js';

const HELP = `Usage: smppd --config FILE [--log-level LEVEL]
       smppd --validate --config FILE
       smppd --hash-password < FILE

Runs the SMPP proxy on FILE (.yaml/.yml, .json or .toml).

Options:
  -c, --config FILE     the config file (required)
      --validate        check the config: exit 0, or exit 1 printing every problem as "path: message"
      --log-level LEVEL override log.level (${LOG_LEVELS.join(', ')})
      --hash-password   read a password on standard input (its first line), print its
                        scrypt hash for clients[].password_hash
  -h, --help            this text

Signals: SIGTERM/SIGINT drain and exit 0; SIGHUP reloads the config (so does a change of FILE).
`;

// A crash exits 2 (crash.ts), reported in the JSON log once there is one, on stderr before.
let crashLogger: Logger | undefined;
const reportToStderr = stderrCrashReport('smppd');
exitOnCrash(
  process,
  (what, err) => (crashLogger === undefined ? reportToStderr(what, err) : crashLogger.fatal({ err }, what)),
  (code) => process.exit(code),
);

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function usage(message: string): never {
  process.stderr.write(`smppd: ${message}\n\n${HELP}`);
  process.exit(1);
}

async function main(): Promise<void> {
  let args;
  try {
    args = parseArgs({
      options: {
        config: { type: 'string', short: 'c' },
        validate: { type: 'boolean', default: false },
        'log-level': { type: 'string' },
        'hash-password': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      allowPositionals: false,
    }).values;
  } catch (err) {
    usage((err as Error).message);
  }
  if (args.help) {
    process.stdout.write(HELP);
    return;
  }
  if (args['hash-password']) {
    const input = await readStdin();
    const password = input.split(/\r?\n/, 1)[0] ?? '';
    if (password === '') usage('--hash-password: no password on standard input');
    process.stdout.write(`${await hashPassword(password)}\n`);
    return;
  }
  if (args.config === undefined) usage('--config FILE is required');
  const levelFlag = args['log-level'];
  if (levelFlag !== undefined && !(LOG_LEVELS as readonly string[]).includes(levelFlag)) {
    usage(`--log-level must be one of ${LOG_LEVELS.join(', ')}`);
  }

  const configPath = args.config;
  const env = process.env as Record<string, string | undefined>;
  // --validate checks the config itself. The files it names (TLS certificates, `*_file` secrets)
  // belong to the machine that runs it — in Kubernetes they exist only inside the pod — so here an
  // unreadable one is a warning; at start it is a problem like any other.
  const missingFiles: string[] = [];
  const readFileForValidate = async (path: string): Promise<string> => {
    if (path === configPath) return readFile(path, 'utf8');
    try {
      return await readFile(path, 'utf8');
    } catch (err) {
      missingFiles.push(`cannot read "${path}" (${(err as NodeJS.ErrnoException).code ?? 'error'}): checked again at start`);
      return UNREAD_FILE;
    }
  };
  const loaded = await loadConfig(configPath, args.validate ? { env, readFile: readFileForValidate } : { env });
  if (!loaded.ok) {
    for (const problem of loaded.problems) process.stderr.write(`${problem}\n`);
    process.exit(1);
  }
  if (args.validate) {
    for (const warning of [...missingFiles, ...loaded.warnings]) process.stderr.write(`warning: ${warning}\n`);
    process.stdout.write(`${configPath}: ok\n`);
    return;
  }

  const level = (levelFlag as LogLevel | undefined) ?? loaded.config.log.level;
  const logger = createLogger({ level });
  crashLogger = logger;
  for (const warning of loaded.warnings) logger.warn({ warning }, 'config warning');

  // Reloads (SIGHUP, POST /config/reload, a change of the file) read the file again; the watcher
  // follows the secret files the new config names.
  let watcher: ConfigWatcher | undefined;
  const proxy = buildProxy(loaded.config, {
    logger,
    reloadConfig: async () => {
      const result = await loadConfig(configPath, { env });
      if (result.ok) watcher?.setFiles(watchedFiles(configPath, result.config));
      return result;
    },
    // --log-level wins over the file, also after a reload.
    ...(levelFlag === undefined ? { setLogLevel: (l: LogLevel) => void (logger.level = l) } : {}),
  });
  const reload = (trigger: string): void => {
    logger.info({ trigger }, 'config reload requested');
    proxy.reload().catch((err: unknown) => logger.error({ err }, 'reload failed'));
  };

  // Admin HTTP API (SPEC §5); it listens once the proxy has started (below).
  const admin = buildAdmin(adminDepsFromProxy(proxy, logger.child({ component: 'admin' })));
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    watcher?.close();
    logger.info({ signal }, 'draining');
    proxy
      .stop()
      // The admin API closes after the drain, so /readyz answers 503 all through it (SPEC §6).
      .then(() => admin.close())
      .then(
        () => {
          logger.info({}, 'stopped');
          process.exit(0);
        },
        (err: unknown) => {
          logger.error({ err }, 'stop failed');
          process.exit(2);
        },
      );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGHUP', () => reload('SIGHUP'));

  try {
    await proxy.start();
  } catch (err) {
    logger.error({ err }, 'start failed');
    await proxy.stop().catch(() => undefined);
    process.exit(2);
  }

  // The schema has checked the address.
  const adminAddress = parseHostPort(loaded.config.admin.address)!;
  try {
    await admin.listen({ host: adminAddress.host, port: adminAddress.port });
    logger.info({ address: loaded.config.admin.address }, 'admin API listening');
  } catch (err) {
    logger.error({ err, address: loaded.config.admin.address }, 'admin API cannot listen');
    await proxy.stop().catch(() => undefined);
    process.exit(2);
  }

  // Kubernetes updates a mounted ConfigMap by swapping a symlink (config/watch.ts).
  if (!stopping) {
    watcher = watchConfig({
      files: watchedFiles(configPath, proxy.config),
      onChange: () => reload('file'),
      logger: logger.child({ component: 'config-watch' }),
    });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`smppd: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(2);
});
