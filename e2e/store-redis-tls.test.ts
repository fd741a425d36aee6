// Issue 5, Redis connection settings: smppd's store on a Redis that takes TLS only and wants a
// password, configured as SPEC §3 `store.redis` gives it: a rediss:// URL, `password_file`, and
// `tls.ca` for a private CA (certificates made by the openssl CLI at test time). A message goes
// through and its receipt finds it; a replica with the wrong password stays not ready, says why, and
// never writes the password in its log.

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { makeTestCertificates, type TestCertificates } from '../proxy/listener/testing.js';
import { Status } from '../proxy/smpp/index.js';
import { buildIfStale } from './helpers/dataplane-process.js';
import { connectClient, receiptIds, submitSm } from './helpers/receipts-client.js';
import { cleanupList, eventually } from './helpers/receipts-proxy.js';
import { startRedisServer, type RedisServer } from './helpers/redis-server.js';
import { admin, startReplicas } from './helpers/replicas.js';
import { startSimulator } from './sim/index.js';

const PASSWORD = 'tls-test-secret-8d41';

const cleanup = cleanupList();
let dir: string;
let certs: TestCertificates;
let redis: RedisServer;

beforeAll(async () => {
  await buildIfStale();
  dir = await mkdtemp(join(tmpdir(), 'smppd-redis-tls-'));
  certs = await makeTestCertificates(dir);
  redis = await startRedisServer({ tls: { cert: certs.serverCert, key: certs.serverKey, ca: certs.caCert }, password: PASSWORD });
}, 180_000);
afterEach(() => cleanup.run());
afterAll(async () => {
  await redis?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

async function passwordFile(name: string, password: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, `${password}\n`);
  return file;
}

it('the store on a TLS-only Redis with a password: a message and its receipt go through', async () => {
  expect(redis.url.startsWith('rediss://')).toBe(true);
  const sim = cleanup.add(await startSimulator({ seed: 21, dlrDelayMs: 5 }));
  const replicas = cleanup.add(
    await startReplicas({
      redisUrl: redis.url,
      simPorts: [sim.port],
      count: 1,
      redis: { password_file: await passwordFile('password', PASSWORD), tls: { ca: certs.caCert } },
    }),
  );
  const [replica] = replicas.list;
  await eventually('ready on the TLS Redis', async () => (await admin(replica!, '/readyz')).status === 200);

  const client = cleanup.add(await connectClient({ port: replica!.smppPort, bindType: 'transceiver' }));
  const resp = await client.session.request(submitSm('258840000001'));
  expect(resp.command_status).toBe(Status.ESME_ROK);
  await client.waitDeliveries(1, 20_000);
  const ids = receiptIds(client.deliveries[0]!);
  expect(ids.tlv ?? ids.text).toBe(resp.message_id);

  // The record is in that Redis, read over TLS with the same CA and password.
  const direct = new Redis(redis.url, { password: PASSWORD, tls: { ca: await readFile(certs.caCert, 'utf8') } });
  try {
    expect(await direct.dbsize()).toBeGreaterThan(0);
  } finally {
    direct.disconnect();
  }
});

it('a replica with the wrong password stays not ready, says why, and never logs the password', async () => {
  const sim = cleanup.add(await startSimulator({ seed: 22 }));
  const wrong = 'not-the-password-77c2';
  const replicas = cleanup.add(
    await startReplicas({
      redisUrl: redis.url,
      simPorts: [sim.port],
      count: 1,
      redis: { password_file: await passwordFile('wrong', wrong), tls: { ca: certs.caCert }, connect_timeout: '1s' },
    }),
  );
  const [replica] = replicas.list;
  await eventually('the readiness says why', async () => {
    const readiness = await admin(replica!, '/readyz');
    return readiness.status === 503 && /WRONGPASS|NOAUTH|invalid username-password/i.test(readiness.text);
  });
  const client = cleanup.add(await connectClient({ port: replica!.smppPort, bindType: 'transceiver' }));
  // Retriable: the client tries again later, when the password is mended.
  expect((await client.session.request(submitSm('258840000002'))).command_status).toBe(Status.ESME_RMSGQFUL);
  const logged = [...replica!.process.warnings(), replica!.process.stderr()].join('\n');
  expect(logged).not.toContain(wrong);
  expect(logged).not.toContain(PASSWORD);
});

