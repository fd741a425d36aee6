// clients[].password_hash end to end: `smppd --hash-password` (the real binary) makes the hash, a
// proxy configured with it lets node-smpp bind with the password and refuses a wrong one, and
// redactConfig (what GET /config shows) hides the hash.

import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SmppClient } from '../proxy/listener/testing.js';
import { Status } from '../proxy/smpp/index.js';
import { redactConfig } from '../proxy/config/redact.js';
import { ROOT, buildIfStale } from './helpers/dataplane-process.js';
import { startProxy } from './helpers/receipts-proxy.js';

const NODE = join(ROOT, 'node_modules/.bin/node');
const MAIN = join(ROOT, 'dist/proxy/main.js');

/** Runs `smppd --hash-password` with `input` on its standard input; resolves with its stdout. */
function hashWithCli(input: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(NODE, [MAIN, '--hash-password'], { cwd: ROOT, timeout: 20_000 }, (err, stdout, stderr) =>
      err === null ? resolve(stdout) : reject(new Error(`${err.message}\n${stderr}`)),
    );
    child.stdin!.end(input);
  });
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

beforeAll(() => buildIfStale(), 120_000);

describe('hashed client passwords', () => {
  it('smppd --hash-password makes a hash the proxy binds the client with; a wrong password is refused', async () => {
    const out = await hashWithCli('s3cret\n');
    expect(out).toMatch(/^\$scrypt\$ln=14,r=8,p=1\$\S+\$\S+\n$/);
    const hash = out.trim();
    const proxy = await startProxy({
      listeners: [{ name: 'main', address: '127.0.0.1:0' }],
      clients: [{ system_id: 'acme', password_hash: hash }],
      clusters: [{ name: 'up', mock: { dlr: 'none' } }],
      routes: [{ name: 'all', cluster: 'up' }],
      shutdown: { drain_timeout: '1s' },
    });
    cleanups.push(() => proxy.stop());

    const bind = async (password: string): Promise<number> => {
      const c = await SmppClient.connect(proxy.port);
      cleanups.push(() => c.close());
      return c.bind('transceiver', 'acme', password);
    };
    expect(await bind('wrong')).toBe(Status.ESME_RINVPASWD);
    expect(await bind('s3cret')).toBe(Status.ESME_ROK);
    expect(await bind('s3cret')).toBe(Status.ESME_ROK); // the remembered password
    expect(await bind('')).toBe(Status.ESME_RINVPASWD);

    expect(JSON.stringify(redactConfig(proxy.proxy.config))).not.toContain(hash.split('$')[4]);
  });
});
