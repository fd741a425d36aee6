// query_sm and cancel_sm through the whole proxy (SPEC §4): the client names smppd's message ids;
// each request reaches the simulator that holds the message, carrying that simulator's own id (a
// simulator answers ESME_ROK only for ids it issued), and the responses carry smppd's id.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SmppClient } from '../proxy/listener/testing.js';
import { MESSAGE_STATE } from '../proxy/smpp/dlr.js';
import { Status } from '../proxy/smpp/index.js';
import { startSimulator, type Simulator } from './sim/index.js';
import { SimTally } from './helpers/dataplane-load.js';
import { eventually, startProxy, type RunningProxy } from './helpers/receipts-proxy.js';

let sims: [Simulator, Simulator];
let tallies: [SimTally, SimTally];
let proxy: RunningProxy;
let client: SmppClient;

interface Sent {
  smppdId: string;
  upstreamId: string;
  sim: number;
  destination: string;
}
const sent: Sent[] = [];

beforeAll(async () => {
  // Receipts far in the future: the messages stay pending upstream, so they can be cancelled.
  sims = [await startSimulator({ dlrDelayMs: 600_000 }), await startSimulator({ dlrDelayMs: 600_000, ids: 'decimal' })];
  tallies = [new SimTally(sims[0]), new SimTally(sims[1])];
  proxy = await startProxy({
    listeners: [{ name: 'main', address: '127.0.0.1:0' }],
    clients: [
      { system_id: 'acme', password: 'secret' },
      { system_id: 'other', password: 'secret' },
    ],
    clusters: [
      {
        name: 'pool',
        load_balancer: 'round_robin',
        endpoints: sims.map((s) => ({ address: `127.0.0.1:${s.port}`, system_id: 'smppd', password: 'pw' })),
      },
    ],
    routes: [{ name: 'all', cluster: 'pool' }],
    shutdown: { drain_timeout: '1s' },
  });
  const pool = proxy.proxy.clusters.get('pool')!;
  await eventually('both endpoints are bound', () => pool.health().endpoints.every((e) => e.state === 'bound'));
  client = await SmppClient.connect(proxy.port);
  expect(await client.bind('transceiver')).toBe(Status.ESME_ROK);

  // Four messages, two on each simulator (round robin).
  for (let i = 0; i < 4; i++) {
    const destination = `25884000000${i}`;
    const resp = await client.submit({ destination_addr: destination, short_message: `op-${i}` });
    expect(resp.command_status).toBe(Status.ESME_ROK);
    const simIndex = tallies.findIndex((t) => t.texts.has(`op-${i}`));
    const event = tallies[simIndex]!.accepted.find((e) => (e.pdu as { short_message: Buffer }).short_message.toString() === `op-${i}`)!;
    sent.push({ smppdId: resp.message_id!, upstreamId: event.messageId, sim: simIndex, destination });
  }
  expect(sent.map((s) => s.sim).sort()).toEqual([0, 0, 1, 1]);
});

afterAll(async () => {
  await client?.close();
  await proxy?.stop();
  await Promise.all(sims.map((s) => s.close()));
});

describe('query_sm and cancel_sm through smppd', () => {
  it('smppd gave the client its own ids, not the upstream ids', () => {
    for (const s of sent) expect(s.smppdId).not.toBe(s.upstreamId);
    expect(new Set(sent.map((s) => s.smppdId)).size).toBe(4);
  });

  it('query_sm with smppd ids reaches the simulator holding each message, with its id; the response carries smppd ids', async () => {
    const before = sims.map((s) => s.stats().queries);
    for (const s of sent) {
      const resp = await client.request('query_sm', { message_id: s.smppdId, source_addr: '12345' });
      expect(resp.command_status, s.smppdId).toBe(Status.ESME_ROK);
      expect(resp.message_id).toBe(s.smppdId);
      expect(resp.message_state).toBe(MESSAGE_STATE.ENROUTE);
    }
    // Each simulator answered the two queries for its own messages (an id it did not issue gets ESME_RQUERYFAIL).
    expect(sims.map((s, i) => s.stats().queries - before[i]!)).toEqual([2, 2]);
  });

  it('cancel_sm with smppd ids cancels the right upstream messages', async () => {
    const [first, second] = [sent.find((s) => s.sim === 0)!, sent.find((s) => s.sim === 1)!];
    for (const s of [first, second]) {
      const resp = await client.request('cancel_sm', {
        message_id: s.smppdId,
        source_addr: '12345',
        destination_addr: s.destination,
      });
      expect(resp.command_status, s.smppdId).toBe(Status.ESME_ROK);
    }
    expect(sims.map((s) => s.stats().cancels)).toEqual([1, 1]);
    // The simulators now report exactly those messages as deleted, the others still en route.
    for (const s of sent) {
      const resp = await client.request('query_sm', { message_id: s.smppdId, source_addr: '12345' });
      expect(resp.command_status).toBe(Status.ESME_ROK);
      const cancelled = s === first || s === second;
      expect(resp.message_state, s.smppdId).toBe(cancelled ? MESSAGE_STATE.DELETED : MESSAGE_STATE.ENROUTE);
    }
  });

  it('ids smppd did not give this client are refused without reaching upstream', async () => {
    const before = sims.map((s) => s.stats().queries + s.stats().cancels);
    const unknown = await client.request('query_sm', { message_id: 'no-such-id', source_addr: '12345' });
    expect(unknown.command_status).toBe(Status.ESME_RINVMSGID);
    // An upstream id is not an smppd id.
    const upstreamId = await client.request('cancel_sm', { message_id: sent[0]!.upstreamId, destination_addr: sent[0]!.destination });
    expect(upstreamId.command_status).toBe(Status.ESME_RINVMSGID);
    // Another client's message.
    const other = await SmppClient.connect(proxy.port);
    try {
      expect(await other.bind('transceiver', 'other', 'secret')).toBe(Status.ESME_ROK);
      const foreign = await other.request('query_sm', { message_id: sent[1]!.smppdId, source_addr: '12345' });
      expect(foreign.command_status).toBe(Status.ESME_RINVMSGID);
    } finally {
      await other.close();
    }
    expect(sims.map((s) => s.stats().queries + s.stats().cancels)).toEqual(before);
  });
});
