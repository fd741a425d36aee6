// Interop of the session engine with an independent SMPP implementation: node-smpp 0.5.1 (npm
// `smpp`, CommonJS). (a) our ESME-side session against smpp.createServer; (b) node-smpp's client
// against a net.Server whose connections are our SMSC-side sessions. Real TCP on 127.0.0.1:0.

import { once, type EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createSession, type AnyIncomingRequest, type Session } from '../proxy/session/index.js';
import { Status, type PduOf } from '../proxy/smpp/index.js';

// node-smpp ships no type declarations; this is the part of its API used here (see its README).
interface NodePdu {
  command: string;
  command_status: number;
  sequence_number: number;
  [field: string]: unknown;
  response(options?: Record<string, unknown>): NodePdu;
}
interface NodeSession extends EventEmitter {
  send(pdu: NodePdu, onResponse?: (resp: NodePdu) => void): boolean;
  close(callback?: () => void): void;
  destroy(callback?: () => void): void;
}
interface NodeSmpp {
  createServer(listener: (session: NodeSession) => void): net.Server;
  connect(url: string): NodeSession;
  PDU: new (command: string, options?: Record<string, unknown>) => NodePdu;
}
const smpp = createRequire(import.meta.url)('smpp') as NodeSmpp;

/** Sends a node-smpp request and resolves with its response. */
function nodeRequest(session: NodeSession, command: string, options: Record<string, unknown> = {}): Promise<NodePdu> {
  return new Promise((resolve) => session.send(new smpp.PDU(command, options), resolve));
}

async function listen(server: net.Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as net.AddressInfo).port;
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function closeServer(server: net.Server): () => Promise<void> {
  return async () => {
    server.close();
    if (server.listening) await once(server, 'close');
  };
}

describe('interop with node-smpp 0.5.1', () => {
  it('(a) our ESME session binds to a node-smpp server: submit_sm, deliver_sm, enquire_link both ways, unbind', async () => {
    const serverSeen: NodePdu[] = [];
    let serverSession!: NodeSession;
    let serverEnquireResp!: Promise<NodePdu>;
    let unbound!: () => void;
    const serverUnbound = new Promise<void>((resolve) => (unbound = resolve));
    const server = smpp.createServer((s) => {
      serverSession = s;
      s.on('error', () => {});
      s.on('bind_transceiver', (pdu: NodePdu) => {
        serverSeen.push(pdu);
        s.send(pdu.response({ system_id: 'NODESMSC' }));
      });
      s.on('submit_sm', (pdu: NodePdu) => {
        serverSeen.push(pdu);
        s.send(pdu.response({ message_id: 'node-msg-1' }));
        // Then a delivery receipt for it, as an SMSC would.
        void nodeRequest(s, 'deliver_sm', {
          source_addr: '25884000001',
          destination_addr: 'ACME',
          esm_class: 0x04,
          data_coding: 3,
          short_message: 'id:node-msg-1 sub:001 dlvrd:001 submit date:2501011200 done date:2501011201 stat:DELIVRD err:000 text:Olá',
          receipted_message_id: 'node-msg-1',
          message_state: 2,
        }).then((resp) => serverSeen.push(resp));
      });
      s.on('enquire_link', (pdu: NodePdu) => {
        serverSeen.push(pdu);
        s.send(pdu.response());
        serverEnquireResp = nodeRequest(s, 'enquire_link');
      });
      s.on('unbind', (pdu: NodePdu) => {
        s.send(pdu.response());
        s.close();
        unbound();
      });
    });
    const port = await listen(server);
    cleanups.push(closeServer(server));

    const session = createSession({ socket: net.connect(port, '127.0.0.1'), role: 'esme', enquireLinkIntervalMs: 0 });
    cleanups.push(() => void session.close());
    const deliveries: AnyIncomingRequest[] = [];
    let delivered!: () => void;
    const gotDelivery = new Promise<void>((resolve) => (delivered = resolve));
    session.on('request', (req) => {
      deliveries.push(req);
      req.respond(Status.ESME_ROK);
      delivered();
    });

    const bindResp = await session.bind({
      type: 'transceiver',
      system_id: 'acme',
      password: 'secret',
      system_type: 'VMA',
      addr_ton: 1,
      addr_npi: 1,
    });
    expect(bindResp).toMatchObject({ command: 'bind_transceiver_resp', command_status: 0, system_id: 'NODESMSC' });
    expect(serverSeen[0]).toMatchObject({
      command: 'bind_transceiver',
      system_id: 'acme',
      password: 'secret',
      system_type: 'VMA',
      interface_version: 0x34,
      addr_ton: 1,
      addr_npi: 1,
      address_range: '',
    });

    const submitResp = await session.request({
      command: 'submit_sm',
      service_type: '',
      source_addr_ton: 5,
      source_addr_npi: 0,
      source_addr: 'ACME',
      dest_addr_ton: 1,
      dest_addr_npi: 1,
      destination_addr: '25884000001',
      esm_class: 0,
      protocol_id: 0,
      priority_flag: 1,
      schedule_delivery_time: '',
      validity_period: '',
      registered_delivery: 1,
      replace_if_present_flag: 0,
      data_coding: 3,
      sm_default_msg_id: 0,
      short_message: Buffer.from('Olá from smppd', 'latin1'),
      tlvs: { user_message_reference: 42 },
    });
    expect(submitResp).toMatchObject({ command: 'submit_sm_resp', command_status: 0, message_id: 'node-msg-1' });
    expect(serverSeen[1]).toMatchObject({
      command: 'submit_sm',
      source_addr_ton: 5,
      source_addr: 'ACME',
      dest_addr_ton: 1,
      destination_addr: '25884000001',
      priority_flag: 1,
      registered_delivery: 1,
      data_coding: 3,
      short_message: { message: 'Olá from smppd' },
      user_message_reference: 42,
    });

    await gotDelivery;
    const dlr = deliveries[0]!;
    if (dlr.command !== 'deliver_sm') throw new Error(`expected deliver_sm, got ${dlr.command}`);
    expect(dlr.pdu).toMatchObject({
      source_addr: '25884000001',
      destination_addr: 'ACME',
      esm_class: 0x04,
      data_coding: 3,
      tlvs: { receipted_message_id: 'node-msg-1', message_state: 2 },
    });
    expect(dlr.pdu.short_message.toString('latin1')).toMatch(/^id:node-msg-1 .* stat:DELIVRD err:000 text:Olá$/);

    // enquire_link: ours answered by node-smpp, then node-smpp's answered by us.
    expect(await session.enquireLink()).toMatchObject({ command: 'enquire_link_resp', command_status: 0 });
    expect(await serverEnquireResp).toMatchObject({ command: 'enquire_link_resp', command_status: 0 });
    expect(serverSeen.find((p) => p.command === 'deliver_sm_resp')).toMatchObject({ command_status: 0 });

    expect(await session.unbind()).toEqual({ reason: 'unbind' });
    await serverUnbound;
    expect(serverSession).toBeDefined();
  });

  it("(b) node-smpp's client binds to our SMSC sessions: submit_sm, deliver_sm, enquire_link, unbind", async () => {
    const sessions: Session[] = [];
    const submitted: Array<PduOf<'submit_sm'>> = [];
    const server = net.createServer((sock) => {
      const session = createSession({
        socket: sock,
        role: 'smsc',
        systemId: 'smppd',
        enquireLinkIntervalMs: 0,
        authenticate: async (bind) =>
          bind.system_id !== 'acme'
            ? Status.ESME_RINVSYSID
            : bind.password !== 'secret'
              ? Status.ESME_RINVPASWD
              : Status.ESME_ROK,
      });
      sessions.push(session);
      session.on('request', (req) => {
        if (req.command !== 'submit_sm') {
          req.respond(Status.ESME_RINVCMDID);
          return;
        }
        submitted.push(req.pdu);
        req.respond(Status.ESME_ROK, { message_id: 'smppd-0001' });
      });
    });
    const port = await listen(server);
    cleanups.push(closeServer(server));

    const client = smpp.connect(`smpp://127.0.0.1:${port}`);
    client.on('error', () => {});
    cleanups.push(() => client.destroy());
    const clientClosed = once(client, 'close');
    await once(client, 'connect');

    const refused = await nodeRequest(client, 'bind_transceiver', { system_id: 'acme', password: 'wrong' });
    expect(refused.command_status).toBe(Status.ESME_RINVPASWD);
    const bound = await nodeRequest(client, 'bind_transceiver', { system_id: 'acme', password: 'secret' });
    expect(bound).toMatchObject({ command: 'bind_transceiver_resp', command_status: 0, system_id: 'smppd' });
    const session = sessions[0]!;
    expect(session.state).toBe('bound_trx');
    expect(session.peerSystemId).toBe('acme');

    const submitResp = await nodeRequest(client, 'submit_sm', {
      source_addr: 'ACME',
      destination_addr: '25884000001',
      dest_addr_ton: 1,
      dest_addr_npi: 1,
      registered_delivery: 1,
      data_coding: 3,
      short_message: 'Olá smppd',
      user_message_reference: 7,
    });
    expect(submitResp).toMatchObject({ command: 'submit_sm_resp', command_status: 0, message_id: 'smppd-0001' });
    expect(submitted[0]).toMatchObject({
      source_addr: 'ACME',
      destination_addr: '25884000001',
      dest_addr_ton: 1,
      dest_addr_npi: 1,
      registered_delivery: 1,
      data_coding: 3,
      tlvs: { user_message_reference: 7 },
    });
    expect(submitted[0]!.short_message.toString('latin1')).toBe('Olá smppd');

    // deliver_sm from us to the client, answered by the client.
    const clientDeliveries: NodePdu[] = [];
    client.on('deliver_sm', (pdu: NodePdu) => {
      clientDeliveries.push(pdu);
      client.send(pdu.response());
    });
    client.on('enquire_link', (pdu: NodePdu) => client.send(pdu.response()));
    const deliverResp = await session.request({
      command: 'deliver_sm',
      service_type: '',
      source_addr_ton: 1,
      source_addr_npi: 1,
      source_addr: '25884000001',
      dest_addr_ton: 5,
      dest_addr_npi: 0,
      destination_addr: 'ACME',
      esm_class: 0x04,
      protocol_id: 0,
      priority_flag: 0,
      schedule_delivery_time: '',
      validity_period: '',
      registered_delivery: 0,
      replace_if_present_flag: 0,
      data_coding: 3,
      sm_default_msg_id: 0,
      short_message: Buffer.from('id:smppd-0001 stat:DELIVRD', 'latin1'),
      tlvs: { receipted_message_id: 'smppd-0001', message_state: 2 },
    });
    expect(deliverResp).toMatchObject({ command: 'deliver_sm_resp', command_status: 0 });
    expect(clientDeliveries[0]).toMatchObject({
      command: 'deliver_sm',
      source_addr: '25884000001',
      destination_addr: 'ACME',
      esm_class: 0x04,
      short_message: { message: 'id:smppd-0001 stat:DELIVRD' },
      receipted_message_id: 'smppd-0001',
      message_state: 2,
    });

    // enquire_link both ways.
    expect(await nodeRequest(client, 'enquire_link')).toMatchObject({ command: 'enquire_link_resp', command_status: 0 });
    expect(await session.enquireLink()).toMatchObject({ command: 'enquire_link_resp', command_status: 0 });

    // The client unbinds: we answer and close.
    const unbindResp = await nodeRequest(client, 'unbind');
    expect(unbindResp).toMatchObject({ command: 'unbind_resp', command_status: 0 });
    expect(await session.closed).toEqual({ reason: 'peer_unbind' });
    await clientClosed;
  });
});
