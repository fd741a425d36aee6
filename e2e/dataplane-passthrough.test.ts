// A client's submit_sm reaches the SMSC byte for byte (SPEC §4: smppd forwards messages; only the
// sequence number is smppd's own): TLVs in the client's order, vendor TLVs included. Both ends are
// raw sockets here, so nothing between the bytes and the assertion re-encodes them.

import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawPeer, bindPdu, submitSm } from '../proxy/session/testing.js';
import { Status, encodePdu, responseFor, type RequestPdu } from '../proxy/smpp/index.js';
import { eventually, startProxy, type RunningProxy } from './helpers/receipts-proxy.js';

/** The SMSC's side of its one connection: accepts every bind and submit_sm. */
let smscPeer: RawPeer | undefined;
let smsc: net.Server;
let proxy: RunningProxy;

async function answerAll(peer: RawPeer): Promise<void> {
  let accepted = 0;
  for (;;) {
    const pdu = await peer.next().catch(() => undefined);
    if (pdu === undefined) return;
    if (pdu.command.endsWith('_resp') || pdu.command === 'generic_nack') continue;
    const body = pdu.command === 'submit_sm' ? { message_id: `UP${++accepted}` } : { system_id: 'raw-smsc' };
    peer.sendBytes(encodePdu(responseFor(pdu as RequestPdu, Status.ESME_ROK, body as never)));
  }
}

/** TLV bytes: tag, length, value. */
function tlv(tag: number, value: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt16BE(tag, 0);
  head.writeUInt16BE(value.length, 2);
  return Buffer.concat([head, value]);
}

/**
 * A submit_sm with a vendor TLV (0x1401) first, then source_port (0x020A) before
 * user_message_reference (0x0204): an order an encoder of the decoded fields need not keep.
 */
function clientSubmitFrame(seq: number): Buffer {
  const base = encodePdu({
    ...submitSm({ service_type: 'CMT', source_addr_ton: 5, source_addr: 'ACME', short_message: Buffer.from('byte for byte') }),
    command_status: 0,
    sequence_number: seq,
  });
  const u16 = (n: number): Buffer => Buffer.from([n >> 8, n & 0xff]);
  const frame = Buffer.concat([base, tlv(0x1401, Buffer.from('vendor')), tlv(0x020a, u16(9200)), tlv(0x0204, u16(77))]);
  frame.writeUInt32BE(frame.length, 0);
  return frame;
}

beforeAll(async () => {
  smsc = net.createServer((socket) => {
    smscPeer = new RawPeer(socket);
    void answerAll(smscPeer);
  });
  await new Promise<void>((resolve) => smsc.listen(0, '127.0.0.1', resolve));
  const { port } = smsc.address() as net.AddressInfo;
  proxy = await startProxy({
    listeners: [{ name: 'main', address: '127.0.0.1:0' }],
    clients: [{ system_id: 'acme', password: 'secret' }],
    clusters: [{ name: 'raw', endpoints: [{ address: `127.0.0.1:${port}`, system_id: 'smppd', password: 'pw' }] }],
    routes: [{ name: 'all', cluster: 'raw' }],
    shutdown: { drain_timeout: '1s' },
  });
  const cluster = proxy.proxy.clusters.get('raw')!;
  await eventually('the upstream is bound', () => cluster.health().endpoints.every((e) => e.state === 'bound'));
});

afterAll(async () => {
  await proxy?.stop();
  await new Promise((resolve) => smsc?.close(resolve));
});

describe('submit_sm through smppd', () => {
  it('reaches the SMSC as the client wrote it, only the sequence number changed', async () => {
    const socket = net.connect(proxy.port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    const client = new RawPeer(socket);
    client.send(bindPdu('bind_transmitter'));
    expect((await client.expect('bind_transmitter_resp')).command_status).toBe(Status.ESME_ROK);

    const sent = [clientSubmitFrame(2), clientSubmitFrame(3)];
    for (const frame of sent) client.sendBytes(frame);
    const responses = [await client.expect('submit_sm_resp'), await client.expect('submit_sm_resp')];
    expect(responses.map((r) => r.command_status)).toEqual([Status.ESME_ROK, Status.ESME_ROK]);
    // The client hears smppd's ids, not the SMSC's.
    for (const r of responses) expect(r.message_id).not.toMatch(/^UP/);

    const submits = smscPeer!.frames.filter((f) => f.readUInt32BE(4) === 0x00000004);
    expect(submits).toHaveLength(2);
    const withoutSeq = (frame: Buffer): Buffer => Buffer.concat([frame.subarray(0, 12), frame.subarray(16)]);
    for (let i = 0; i < 2; i++) expect(withoutSeq(submits[i]!).equals(withoutSeq(sent[i]!))).toBe(true);
    // smppd numbers its own requests on the upstream session.
    expect(new Set(submits.map((f) => f.readUInt32BE(12))).size).toBe(2);
    socket.destroy();
  });
});
