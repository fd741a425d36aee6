import { expect, test } from 'vitest';
import type { ReadFile } from './files.js';
import { parseConfig } from './load.js';
import { redactConfig, redactUrl } from './redact.js';

// Distinct values so a leak of any one of them is visible in the serialised output.
const SECRETS = {
  inlineClient: 'inline-client-S1',
  envClient: 'env-client-S2',
  fileEndpoint: 'file-endpoint-S3',
  inlineEndpoint: 'inline-endpoint-S4',
  token: 'admin-token-S5',
  redisUrlPassword: 'redis-url-S6',
  redisPassword: 'redis-password-S7',
  // A password_hash (from a file): salt and hash in base64, the salt spelling "SecretHashS8".
  clientHash: `$scrypt$ln=10,r=8,p=1$U2VjcmV0SGFzaFM4$${Buffer.alloc(32, 7).toString('base64')}`,
};

const files: Record<string, string> = {
  '/s/endpoint': `${SECRETS.fileEndpoint}\n`,
  '/s/token': `${SECRETS.token}\n`,
  '/s/hash': `${SECRETS.clientHash}\n`,
};
const readFile: ReadFile = async (path) => {
  const text = files[path];
  if (text === undefined) throw Object.assign(new Error('missing'), { code: 'ENOENT' });
  return text;
};

async function loadSecretConfig() {
  const raw = {
    clients: [
      { system_id: 'a', password: SECRETS.inlineClient },
      { system_id: 'b', password: '${CLIENT_B_PASSWORD}' },
      { system_id: 'h', password_hash_file: '/s/hash' },
    ],
    clusters: [
      {
        name: 'c',
        endpoints: [
          { address: 'smsc1:2775', system_id: 'id', password_file: '/s/endpoint' },
          { address: 'smsc2:2775', system_id: 'id', password: SECRETS.inlineEndpoint },
        ],
      },
    ],
    store: {
      backend: 'redis',
      redis: { url: `redis://default:${SECRETS.redisUrlPassword}@redis:6379/2`, password: SECRETS.redisPassword },
    },
    admin: { token_file: '/s/token' },
  };
  const result = await parseConfig(raw, { env: { CLIENT_B_PASSWORD: SECRETS.envClient }, readFile });
  if (!result.ok) throw new Error(result.problems.join('\n'));
  return result.config;
}

test('no secret survives redaction, wherever it came from', async () => {
  const config = await loadSecretConfig();
  const before = JSON.stringify(config);
  for (const secret of Object.values(SECRETS)) expect(before).toContain(secret); // the test can see leaks

  const shown = JSON.stringify(redactConfig(config));
  for (const secret of Object.values(SECRETS)) expect(shown).not.toContain(secret);
});

test('secrets read "***", everything else is kept, the original is untouched', async () => {
  const config = await loadSecretConfig();
  const expected = structuredClone(config);
  for (const client of expected.clients) client.password = '***';
  expected.clients[2]!.password_hash = '***';
  for (const endpoint of expected.clusters[0]!.endpoints) endpoint.password = '***';
  expected.admin.token = '***';
  expected.store.redis.url = 'redis://default:***@redis:6379/2';
  expected.store.redis.password = '***';

  expect(redactConfig(config)).toEqual(expected);
  expect(expected.admin.token_file).toBe('/s/token'); // paths are not secrets
  expect(config.clients[0]!.password).toBe(SECRETS.inlineClient);
});

test('redactUrl keeps a URL without a password, hides one it cannot parse', () => {
  expect(redactUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
  expect(redactUrl('rediss://:pw@redis.example:6380')).toBe('rediss://:***@redis.example:6380');
  expect(redactUrl('not a url with pw')).toBe('***');
});
