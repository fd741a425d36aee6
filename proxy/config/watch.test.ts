// The config watcher over a real directory: kubelet's atomic symlink swap of a mounted ConfigMap,
// an edit in place, and events that change nothing.

import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigSchema } from './schema.js';
import { watchConfig, watchedFiles, type ConfigWatcher } from './watch.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'smppd-watch-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * A ConfigMap volume as kubelet lays it out (pkg/volume/util/atomic_writer.go): the files in a
 * timestamped directory, `..data` pointing at it, and each file a symlink through `..data`.
 */
async function configMapVolume(dir: string, files: Record<string, string>): Promise<{ update(files: Record<string, string>): Promise<void> }> {
  let generation = 0;
  let current: string | undefined;
  const writeGeneration = async (content: Record<string, string>): Promise<string> => {
    const ts = `..2026_11_25_19_00_00.${String(++generation).padStart(9, '0')}`;
    await mkdir(join(dir, ts));
    for (const [name, text] of Object.entries(content)) await writeFile(join(dir, ts, name), text);
    return ts;
  };
  current = await writeGeneration(files);
  await symlink(current, join(dir, '..data'));
  for (const name of Object.keys(files)) await symlink(join('..data', name), join(dir, name));
  return {
    async update(content) {
      const next = await writeGeneration(content);
      await symlink(next, join(dir, '..data_tmp'));
      await rename(join(dir, '..data_tmp'), join(dir, '..data')); // the atomic swap
      await rm(join(dir, current!), { recursive: true });
      current = next;
    },
  };
}

/** A watcher whose reloads a test can await. */
function observe(files: string[]): { watcher: ConfigWatcher; reloads: () => number; untilReloads(n: number): Promise<void> } {
  let reloads = 0;
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  const watcher = watchConfig({
    files,
    debounceMs: 30,
    onChange: () => {
      reloads++;
      for (const w of waiters.filter((x) => reloads >= x.n)) w.resolve();
    },
  });
  cleanups.push(() => watcher.close());
  return {
    watcher,
    reloads: () => reloads,
    untilReloads: (n) => (reloads >= n ? Promise.resolve() : new Promise((resolve) => waiters.push({ n, resolve }))),
  };
}

describe('watchConfig', () => {
  it("catches kubelet's atomic swap of ..data behind a symlinked config file; a swap to the same content reloads nothing", async () => {
    const dir = await tempDir();
    const volume = await configMapVolume(dir, { 'smppd.yaml': 'routes: []\n' });
    const w = observe([join(dir, 'smppd.yaml')]);
    await w.watcher.ready;

    await volume.update({ 'smppd.yaml': 'routes: [] # v2\n' });
    await w.untilReloads(1);

    // kubelet re-syncs with identical content: events, no reload. The next real change is reload 2.
    await volume.update({ 'smppd.yaml': 'routes: [] # v2\n' });
    await volume.update({ 'smppd.yaml': 'routes: [] # v3\n' });
    await w.untilReloads(2);
    expect(w.reloads()).toBe(2);
  });

  it('a file edited in place reloads; writing another file in the directory does not', async () => {
    const dir = await tempDir();
    const file = join(dir, 'smppd.yaml');
    await writeFile(file, 'a: 1\n');
    const w = observe([file]);
    await w.watcher.ready;

    await writeFile(join(dir, 'notes.txt'), 'unrelated');
    await writeFile(file, 'a: 1\n'); // rewritten unchanged
    await writeFile(file, 'a: 2\n');
    await w.untilReloads(1);
    expect(w.reloads()).toBe(1);
  });

  it('a rotated secret file named by the config reloads too', async () => {
    const dir = await tempDir();
    const secrets = join(dir, 'secrets');
    await mkdir(secrets);
    const volume = await configMapVolume(secrets, { password: 'one\n' });
    const file = join(dir, 'smppd.yaml');
    await writeFile(file, 'x');
    const w = observe([file, join(secrets, 'password')]);
    await w.watcher.ready;
    await volume.update({ password: 'two\n' });
    await w.untilReloads(1);
  });
});

describe('watchedFiles', () => {
  it('lists the config file and every *_file it names, once each', () => {
    const config = ConfigSchema.parse({
      clients: [{ system_id: 'a', password_file: '/s/a' }],
      clusters: [{ name: 'c', endpoints: [{ address: 'h:1', system_id: 's', password_file: '/s/a' }] }],
      routes: [{ name: 'r', cluster: 'c' }],
      admin: { token_file: '/s/token' },
    });
    expect(watchedFiles('/etc/smppd/smppd.yaml', config)).toEqual(['/etc/smppd/smppd.yaml', '/s/a', '/s/token']);
  });
});
