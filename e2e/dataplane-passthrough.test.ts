// A client's submit_sm reaches the SMSC byte for byte (SPEC §4: smppd forwards messages; only the
// sequence number is smppd's own): TLVs in the client's order, vendor TLVs included. Both ends are
// raw sockets here, so nothing between the bytes and the assertion re-encodes them.

import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FrameDecoder, Status, decodePdu, encodePdu, responseFor, type Pdu, type RequestPdu } from '../proxy/smpp/index.js';
import { eventually, startProxy, type RunningProxy } from './helpers/receipts-proxy.js';

/** A socket speaking PDUs: writes frames, hands out each decoded PDU with its frame. */
class RawPeer {
  readonly received: { pdu: Pdu; frame: Buffer }[] = [];
  private readonly decoder = new FrameDecoder();
  private waiters: (() => void)[] = [];

  constructor(readonly socket: net.Socket, onPdu?: (peer: RawPeer, pdu: Pdu, frame: Buffer) => void) {
    socket.on('data', (chunk) => {
      this.decoder.push(chunk);
      for (let r = this.decoder.next(); r.kind === 'frame'; r = this.decoder.next()) {
        const frame = Buffer.from(r.frame);
        const d = decodePdu(frame);
        if (!d.ok) throw new Error(`undecodable PDU: ${d.reason}`);
        this.received.push({ pdu: d.pdu, frame });
        onPdu?.(this, d.pdu, frame);
      }
      for (const w of this.waiters.splice(0)) w();
    });
  }

  write(frame: Buffer): void {
    this.socket.write(frame);
  }

  async next(command: string): Promise<Pdu> {
    for (;;) {
      const found = this.received.find((r) => r.pdu.command === command);
      if (found !== undefined) {
        this.received.splice(this.received.indexOf(found), 1);
        return found.pdu;
      }
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }
}

/** An SMSC that accepts every bind and submit_sm, and keeps the submit_sm frames it got. */
const smscFrames: Buffer[] = [];
let smsc: net.Server;
let proxy: RunningProxy;

function answer(peer: RawPeer, pdu: Pdu, frame: Buffer): void {
  if (pdu.command === 'submit_sm') smscFrames.push(frame);
  if (pdu.command.endsWith('_resp') || pdu.command === 'generic_nack') return;
  const body = pdu.command === 'submit_sm' ? { message_id: `UP${smscFrames.length}` } : { system_id: 'raw-smsc' };
  peer.write(encodePdu(responseFor(pdu as RequestPdu, Status.ESME_ROK, body as never)));
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
    command: 'submit_sm',
    command_status: 0,
    sequence_number: seq,
    service_type: 'CMT',
    source_addr_ton: 5,
    source_addr_npi: 0,
    source_addr: 'ACME',
    dest_addr_ton: 1,
    dest_addr_npi: 1,
    destination_addr: '258841234567',
    esm_class: 0,
    protocol_id: 0,
    priority_flag: 1,
    schedule_delivery_time: '',
    validity_period: '',
    registered_delivery: 1,
    replace_if_present_flag: 0,
    data_coding: 0,
    sm_default_msg_id: 0,
    short_message: Buffer.from('byte for byte'),
  });
  const u16 = (n: number): Buffer => Buffer.from([n >> 8, n & 0xff]);
  const frame = Buffer.concat([base, tlv(0x1401, Buffer.from('vendor')), tlv(0x020a, u16(9200)), tlv(0x0204, u16(77))]);
  frame.writeUInt32BE(frame.length, 0);
  return frame;
}

beforeAll(async () => {
  smsc = net.createServer((socket) => new RawPeer(socket, answer));
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
    client.write(
      encodePdu({
        command: 'bind_transmitter',
        command_status: 0,
        sequence_number: 1,
        system_id: 'acme',
        password: 'secret',
        system_type: '',
        interface_version: 0x34,
        addr_ton: 0,
        addr_npi: 0,
        address_range: '',
      }),
    );
    expect((await client.next('bind_transmitter_resp')).command_status).toBe(Status.ESME_ROK);

    const sent = [clientSubmitFrame(2), clientSubmitFrame(3)];
    for (const frame of sent) client.write(frame);
    const responses = [await client.next('submit_sm_resp'), await client.next('submit_sm_resp')];
    expect(responses.map((r) => r.command_status)).toEqual([Status.ESME_ROK, Status.ESME_ROK]);
    // The client hears smppd's ids, not the SMSC's.
    for (const r of responses) expect((r as { message_id: string }).message_id).not.toMatch(/^UP/);

    expect(smscFrames).toHaveLength(2);
    const withoutSeq = (frame: Buffer): Buffer => Buffer.concat([frame.subarray(0, 12), frame.subarray(16)]);
    for (let i = 0; i < 2; i++) expect(withoutSeq(smscFrames[i]!).equals(withoutSeq(sent[i]!))).toBe(true);
    // smppd numbers its own requests on the upstream session.
    expect(new Set(smscFrames.map((f) => f.readUInt32BE(12))).size).toBe(2);
    socket.destroy();
  });
});
