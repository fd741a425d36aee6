// Issue 5, one prefix, one ttl (store/redis-keys.ts, "One layout, one ttl per prefix"): a replica
// started with another store.ttl on the key prefix of running replicas would look for receipts'
// messages in other time buckets. It stays not ready, says why in its log and answers submits with
// a retriable status; the replicas already running serve on, undisturbed.

import { expect, it } from 'vitest';
import { Status } from '../proxy/smpp/index.js';
import { connectClient, submitSm } from './helpers/receipts-client.js';
import { eventually } from './helpers/receipts-proxy.js';
import { admin, replicaSuite, startReplicas } from './helpers/replicas.js';

const suite = replicaSuite();
const cleanup = suite.cleanup;

it('a replica with another store.ttl on the key prefix stays not ready and says why; the others serve on', async () => {
  const { sim, replicas } = await suite.simulatorWithReplicas({ seed: 5 }, { count: 1 });
  const [running] = replicas.list;
  await eventually('the first replica ready', async () => (await admin(running!, '/readyz')).status === 200);

  const others = cleanup.add(
    await startReplicas({ redisUrl: suite.redis().url, simPorts: [sim.port], count: 1, keyPrefix: replicas.keyPrefix, storeTtl: '2h' }),
  );
  const [refused] = others.list;
  await eventually('the log says why', () =>
    refused!.process.warnings().some((line) => line.includes('store unavailable (redis)') && line.includes('store.ttl 3600000 ms by running replicas, this replica has 7200000 ms')),
  );
  const readiness = await admin(refused!, '/readyz');
  expect(readiness.status).toBe(503);
  expect(JSON.parse(readiness.text)).toMatchObject({ storeProblem: expect.stringContaining('store.ttl 3600000 ms by running replicas, this replica has 7200000 ms') });

  const onRefused = cleanup.add(await connectClient({ port: refused!.smppPort, bindType: 'transceiver' }));
  expect((await onRefused.session.request(submitSm('258840000001'))).command_status).toBe(Status.ESME_RMSGQFUL);
  const onRunning = cleanup.add(await connectClient({ port: running!.smppPort, bindType: 'transceiver' }));
  expect((await onRunning.session.request(submitSm('258840000002'))).command_status).toBe(Status.ESME_ROK);
  expect((await admin(running!, '/readyz')).status).toBe(200);
});
