// `smppd --validate --config FILE` (SPEC §2, issue 4): the real binary over broken configs prints
// exactly the `path: message` line that names the key and the problem, and exits 1; over every shipped
// example it exits 0.

import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, buildIfStale } from './helpers/dataplane-process.js';

const run = promisify(execFile);
const NODE = join(ROOT, 'node_modules/.bin/node');
const MAIN = join(ROOT, 'dist/proxy/main.js');
const EXAMPLES = join(ROOT, 'examples');

async function validate(file: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(NODE, [MAIN, '--validate', '--config', file], {
      cwd: ROOT,
      timeout: 20_000,
      env: { ...process.env, SMPPD_UNSET_VAR: undefined },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout: string; stderr: string };
    return { code: e.code ?? -1, stdout: e.stdout, stderr: e.stderr };
  }
}

const BASE = `listeners:
  - name: default
    address: "127.0.0.1:2775"
clients:
  - system_id: acme
    password: secret
clusters:
  - name: up
    endpoints: [{ address: "127.0.0.1:2776", system_id: me, password: pw }]
routes:
  - name: all
    cluster: up
`;

/** [what is broken, text to replace in BASE, its replacement, the exact line expected]. */
const BROKEN: Array<[string, string, string, string]> = [
  ['port out of range', '127.0.0.1:2775', '127.0.0.1:99999', 'listeners[0].address: must be host:port, e.g. 0.0.0.0:2775'],
  ['misspelt key', '    address: "127.0.0.1:2775"\n', '    address: "127.0.0.1:2775"\n    limits: { idle_timout: 5s }\n', 'listeners[0].limits.idle_timout: unknown key'],
  ['bad duration', '    address: "127.0.0.1:2775"\n', '    address: "127.0.0.1:2775"\n    limits: { idle_timeout: 5 parsecs }\n', 'listeners[0].limits.idle_timeout: must be a duration like 500ms, 30s, 5m or 72h'],
  ['zero window', '    address: "127.0.0.1:2775"\n', '    address: "127.0.0.1:2775"\n    limits: { window: 0 }\n', 'listeners[0].limits.window: must be a positive integer'],
  ['route to an unknown cluster', '    cluster: up\n', '    cluster: nowhere\n', 'routes[0].cluster: unknown cluster "nowhere"'],
  ['regex that does not compile', '    cluster: up\n', '    cluster: up\n    match: { destination: { regex: "([0-9" } }\n', 'routes[0].match.destination.regex: invalid regular expression: Unterminated character class'],
  ['route for an unknown client', '    cluster: up\n', '    cluster: up\n    match: { client: ghost }\n', 'routes[0].match.client: unknown client "ghost"'],
  ['bad CIDR', '    password: secret\n', '    password: secret\n    allowed_ips: ["10.0.0.0/33"]\n', 'clients[0].allowed_ips[0]: must be an IP address or CIDR, e.g. 10.0.0.0/8 or 2001:db8::/32'],
  ['secret inline and as a file', '    password: secret\n', '    password: secret\n    password_file: /run/secrets/pw\n', 'clients[0].password_file: cannot be combined with password'],
  ['unset environment variable', '    password: secret\n', '    password: "${SMPPD_UNSET_VAR}"\n', 'clients[0].password: environment variable "SMPPD_UNSET_VAR" is not set'],
  ['unknown load balancer', '  - name: up\n', '  - name: up\n    load_balancer: fastest\n', 'clusters[0].load_balancer: must be one of round_robin, weighted, least_connections, random, p2c'],
  ['mock and endpoints together', '  - name: up\n', '  - name: up\n    mock: { response: success }\n', 'clusters[0].mock: cannot be combined with endpoints'],
  ['unknown retry condition', '  - name: up\n', '  - name: up\n    retry: { on: [timeout, sometimes] }\n', 'clusters[0].retry.on[1]: must be a command_status (0x58, ESME_RTHROTTLED), timeout or disconnect'],
  ['unknown store backend', 'routes:\n', 'store: { backend: mongo }\nroutes:\n', 'store.backend: must be one of memory, redis'],
  ['admin token twice', 'routes:\n', 'admin: { address: "0.0.0.0:9090", token: a, token_file: /run/secrets/t }\nroutes:\n', 'admin.token_file: cannot be combined with token'],
];

let dir: string;
beforeAll(async () => {
  await buildIfStale();
  dir = await mkdtemp(join(tmpdir(), 'smppd-validate-'));
}, 120_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('smppd --validate', () => {
  it('accepts the base config the broken ones derive from', async () => {
    const file = join(dir, 'base.yaml');
    await writeFile(file, BASE);
    expect(await validate(file)).toMatchObject({ code: 0, stdout: `${file}: ok\n` });
  });

  it.each(BROKEN)('%s: exits 1 naming the key and the problem', async (name, from, to, line) => {
    expect(BASE.includes(from)).toBe(true);
    const file = join(dir, `${name.replaceAll(' ', '-')}.yaml`);
    await writeFile(file, BASE.replace(from, to));
    const result = await validate(file);
    expect({ code: result.code, lines: result.stderr.trim().split('\n'), stdout: result.stdout }).toEqual({
      code: 1,
      lines: [line],
      stdout: '',
    });
  });

  it('exits 0 on every shipped example; files named by the SPEC example are only warned about', async () => {
    const files = (await readdir(EXAMPLES)).filter((f) => /\.(ya?ml|json|toml)$/.test(f));
    expect(files).toContain('full.yaml');
    for (const f of files) {
      const result = await validate(join(EXAMPLES, f));
      expect({ file: f, code: result.code, stdout: result.stdout }).toEqual({ file: f, code: 0, stdout: `${join(EXAMPLES, f)}: ok\n` });
    }
    // full.yaml is the SPEC §3 example verbatim: its /path/... files do not exist on this machine.
    const full = await validate(join(EXAMPLES, 'full.yaml'));
    expect(full.stderr).toContain('warning: cannot read "/path/tls.crt" (ENOENT): checked again at start');
  });
});
