// Files a config names. `<key>_file` secrets (how Kubernetes Secrets arrive) are read into `<key>`;
// TLS files are only checked readable, so `--validate` and a reload catch a missing certificate
// before a listener or an upstream needs it. Reads go through the injected `readFile`; relative paths
// are relative to the working directory, like `--config` itself (Kubernetes mounts are absolute).

import type { Config } from './schema.js';
import type { Problem } from './problems.js';

export type ReadFile = (path: string) => Promise<string>;

interface FileRef {
  path: PropertyKey[];
  file: string;
}

/** Fills every `<key>` from its `<key>_file` in `config` (which it mutates); returns what went wrong. */
export async function resolveFiles(config: Config, readFile: ReadFile): Promise<Problem[]> {
  const secrets: Array<{ owner: Record<string, unknown>; key: string; ref: FileRef }> = [];
  forEachSecretFile(config, [], (owner, key, ref) => secrets.push({ owner, key, ref }));
  const checks = tlsFiles(config);
  const refs = [...secrets.map((s) => s.ref), ...checks];
  // Read in parallel, report in a fixed order (secrets in document order, then TLS files).
  const results = await Promise.all(refs.map((ref) => read(readFile, ref)));
  const problems: Problem[] = [];
  results.forEach((result, i) => {
    const ref = refs[i]!;
    if (typeof result !== 'string') {
      problems.push({ path: ref.path, message: `cannot read "${ref.file}": ${result.reason}` });
      return;
    }
    const secret = secrets[i];
    if (secret === undefined) return; // a TLS file: readable is all we need
    const value = trimOneNewline(result);
    if (value === '') problems.push({ path: ref.path, message: `file "${ref.file}" is empty` });
    else secret.owner[secret.key] = value;
  });
  return problems;
}

async function read(readFile: ReadFile, ref: FileRef): Promise<string | { reason: string }> {
  try {
    return await readFile(ref.file);
  } catch (err) {
    return { reason: (err as NodeJS.ErrnoException).code ?? (err as Error).message };
  }
}

/** Kubernetes Secret files and `echo > file` end with one newline that is not part of the secret. */
const trimOneNewline = (text: string): string => text.replace(/\r?\n$/, '');

type Visit = (owner: Record<string, unknown>, key: string, ref: FileRef) => void;

// Generic walk: in the schema, every key ending in `_file` is a secret's file form.
function forEachSecretFile(node: unknown, path: PropertyKey[], visit: Visit): void {
  if (Array.isArray(node)) {
    node.forEach((item, i) => forEachSecretFile(item, [...path, i], visit));
  } else if (typeof node === 'object' && node !== null) {
    const owner = node as Record<string, unknown>;
    for (const [key, value] of Object.entries(owner)) {
      if (key.endsWith('_file') && typeof value === 'string') {
        visit(owner, key.slice(0, -'_file'.length), { path: [...path, key], file: value });
      } else {
        forEachSecretFile(value, [...path, key], visit);
      }
    }
  }
}

function tlsFiles(config: Config): FileRef[] {
  const refs: FileRef[] = [];
  config.listeners.forEach((listener, i) => {
    const tls = listener.tls;
    if (!tls) return;
    for (const key of ['cert', 'key', 'client_ca'] as const) {
      const file = tls[key];
      if (file !== undefined) refs.push({ path: ['listeners', i, 'tls', key], file });
    }
  });
  config.clusters.forEach((cluster, i) =>
    cluster.endpoints.forEach((endpoint, j) => {
      if (endpoint.tls !== false && endpoint.tls.ca !== undefined) {
        refs.push({ path: ['clusters', i, 'endpoints', j, 'tls', 'ca'], file: endpoint.tls.ca });
      }
    }),
  );
  const redisTls = config.store.redis.tls;
  if (redisTls !== false && redisTls.ca !== undefined) {
    refs.push({ path: ['store', 'redis', 'tls', 'ca'], file: redisTls.ca });
  }
  return refs;
}
