// Reload on a change of the config file (issue 4), including the way Kubernetes updates a mounted
// ConfigMap or Secret: kubelet's AtomicWriter writes the new files into a new timestamped directory,
// points a `..data_tmp` symlink at it and renames that over `..data`; the file we were given is a
// symlink `smppd.yaml -> ..data/smppd.yaml` whose own inode never changes. Watching the file would
// miss that (and an editor's save-by-rename), so the watcher watches the directories holding the
// files and, after a quiet spell (debounce), compares a hash of the files' contents with the last
// one: events that change nothing (an atime, another file, the old directory being removed) cost
// a read and no reload.
//
// The files are the config file and the `*_file` secrets it names: a rotated Secret reloads too.
// Reads are asynchronous; fs.watch is set up once per directory (not on any request path).

import { createHash } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { readFile as fsReadFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Config } from './schema.js';

export interface ConfigWatcherOptions {
  /** The config file first, then the files it names (see watchedFiles). */
  files: readonly string[];
  /** The content changed: reload. Not awaited; the next change waits for a quiet spell again. */
  onChange: () => void;
  /** Quiet time after the last event before the files are read (default 150 ms). */
  debounceMs?: number;
  logger?: { warn(obj: object, msg: string): void; debug(obj: object, msg: string): void };
}

export interface ConfigWatcher {
  /** Resolves once the first hash is taken: changes from then on are seen. */
  readonly ready: Promise<void>;
  /** A reloaded config may name other secret files: watch those instead. A new set is compared
   *  at once, which reloads once more (a reload of the same config changes nothing). */
  setFiles(files: readonly string[]): void;
  close(): void;
}

const DEFAULT_DEBOUNCE_MS = 150;

/** The files whose content makes up `config` when loaded from `configPath`: it, then every `*_file`. */
export function watchedFiles(configPath: string, config: Config): string[] {
  const files = [configPath];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (typeof node === 'object' && node !== null) {
      for (const [key, value] of Object.entries(node)) {
        if (key.endsWith('_file') && typeof value === 'string') files.push(value);
        else walk(value);
      }
    }
  };
  walk(config);
  return [...new Set(files)];
}

export function watchConfig(opts: ConfigWatcherOptions): ConfigWatcher {
  const debounceMs = opts.debounceMs ?? DEFAULT_DEBOUNCE_MS;
  const watchers = new Map<string, FSWatcher>();
  let files: string[] = [];
  let last: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  let checking: Promise<void> = Promise.resolve();
  let closed = false;

  function schedule(): void {
    if (closed) return;
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      checking = checking.then(check);
    }, debounceMs);
    timer.unref();
  }

  /** Hash of every file's path and content; undefined while one cannot be read (mid-save). */
  async function fingerprint(): Promise<string | undefined> {
    const hash = createHash('sha256');
    for (const file of files) {
      let content: Buffer;
      try {
        content = await fsReadFile(file);
      } catch (err) {
        opts.logger?.debug({ file, err }, 'config file not readable, waiting for the next change');
        return undefined;
      }
      hash.update(file).update('\0').update(String(content.length)).update('\0').update(content);
    }
    return hash.digest('hex');
  }

  async function check(): Promise<void> {
    if (closed) return;
    const now = await fingerprint();
    const changed = now !== undefined && last !== undefined && now !== last;
    if (now !== undefined) last = now;
    if (changed && !closed) opts.onChange();
  }

  function watchDirs(): void {
    const wanted = new Set(files.map((f) => dirname(resolve(f))));
    for (const [dir, w] of watchers) {
      if (!wanted.has(dir)) {
        w.close();
        watchers.delete(dir);
      }
    }
    for (const dir of wanted) {
      if (watchers.has(dir)) continue;
      try {
        const w = watch(dir, { persistent: false }, () => schedule());
        w.on('error', (err) => {
          opts.logger?.warn({ dir, err }, 'config directory watch failed');
          w.close();
          watchers.delete(dir);
        });
        watchers.set(dir, w);
      } catch (err) {
        opts.logger?.warn({ dir, err }, 'cannot watch the config directory; reload with SIGHUP or POST /config/reload');
      }
    }
  }

  files = [...opts.files];
  watchDirs();
  const ready = fingerprint().then((fp) => {
    last = fp;
  });
  checking = ready;

  return {
    ready,
    setFiles(next) {
      if (closed || (next.length === files.length && next.every((f, i) => f === files[i]))) return;
      files = [...next];
      watchDirs();
      // Re-hashing quietly could swallow a change made since the reload read the files.
      schedule();
    },
    close() {
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
      for (const w of watchers.values()) w.close();
      watchers.clear();
    },
  };
}
