// Loading a config: file -> text -> data -> `${ENV}` -> schema -> `_file` secrets -> Config.
// Every problem is one `path: message` line (SPEC §2 `--validate`, §3, reload's 400 body).

import { readFile as fsReadFile } from 'node:fs/promises';
import { interpolateEnv, type Env } from './env.js';
import { resolveFiles, type ReadFile } from './files.js';
import { parsePasswordHash } from '../filter/password-hash.js';
import { formatFromPath, parseText } from './parse-text.js';
import { configErrorMap, formatPath, formatProblem, issuesToProblems } from './problems.js';
import { ConfigSchema, type Config } from './schema.js';
import { configWarnings } from './warnings.js';

export type { Env } from './env.js';
export type { ReadFile } from './files.js';

export interface LoadOptions {
  /** Values for `${NAME}` (main.ts passes process.env). */
  env: Env;
  /**
   * Reads the config file and the files it names (`*_file` secrets, TLS files); default fs/promises.
   * To validate without those files (e.g. where only the config exists), pass one returning a placeholder.
   */
  readFile?: ReadFile;
}

export type LoadResult =
  | { ok: true; config: Config; warnings: string[] }
  | { ok: false; problems: string[] };

const readUtf8: ReadFile = (path) => fsReadFile(path, 'utf8');

export async function loadConfig(path: string, opts: LoadOptions): Promise<LoadResult> {
  const format = formatFromPath(path);
  if (format === undefined) {
    return { ok: false, problems: [`${path}: unknown config format (use .yaml, .yml, .json or .toml)`] };
  }
  const readFile = opts.readFile ?? readUtf8;
  let text: string;
  try {
    text = await readFile(path);
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    return { ok: false, problems: [`${path}: cannot read: ${reason}`] };
  }
  const parsed = parseText(text, format, path);
  if (!parsed.ok) return parsed;
  if (parsed.value === null || parsed.value === undefined) return { ok: false, problems: [`${path}: file is empty`] };
  return parseConfig(parsed.value, opts);
}

/**
 * What a readFile may return for a file that is not there to read (`smppd --validate`: the files a
 * config names may exist only where it runs); checks of file contents skip it.
 */
export const UNREAD_FILE = 'placeholder';

/** Validates already-parsed data (the operator builds it in memory). `raw` is not modified. */
export async function parseConfig(raw: unknown, opts: LoadOptions): Promise<LoadResult> {
  const env = interpolateEnv(raw, opts.env);
  const result = ConfigSchema.safeParse(env.value, { error: configErrorMap });
  // A value left as "${UNSET}" fails its own check too; the missing variable is the one to report.
  const unresolved = new Set(env.problems.map((p) => formatPath(p.path)));
  const schemaProblems = result.success
    ? []
    : issuesToProblems(result.error.issues).filter((p) => !unresolved.has(formatPath(p.path)));
  const problems = [...env.problems, ...schemaProblems];
  if (!result.success || problems.length > 0) return { ok: false, problems: problems.map(formatProblem) };

  const config = result.data;
  const fileProblems = await resolveFiles(config, opts.readFile ?? readUtf8);
  if (fileProblems.length > 0) return { ok: false, problems: fileProblems.map(formatProblem) };
  // A password_hash read from its file is checked only now (an inline one by the schema already).
  const hashProblems = config.clients.flatMap((c, i) => {
    if (c.password_hash_file === undefined || c.password_hash === undefined || c.password_hash === UNREAD_FILE) return [];
    const parsed = parsePasswordHash(c.password_hash);
    return typeof parsed === 'string' ? [{ path: ['clients', i, 'password_hash_file'], message: `the file's content ${parsed}` }] : [];
  });
  if (hashProblems.length > 0) return { ok: false, problems: hashProblems.map(formatProblem) };
  return { ok: true, config, warnings: configWarnings(config) };
}
