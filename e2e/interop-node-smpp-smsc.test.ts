// The whole data plane against an SMSC nobody here wrote: node-smpp 0.5.1's server (npm `smpp`)
// is smppd's upstream, and a node-smpp client binds to smppd. The SMSC writes its message ids in
// decimal, sends each receipt as Appendix B text with receipted_message_id and message_state
// TLVs, answers query_sm, sends one MO message, and takes data_sm, submit_multi (refusing one
// destination), cancel_sm and replace_sm. Real TCP on 127.0.0.1, smppd in this process.

import { once, type EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import type net from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { SmppClient, type NodeSmppPdu } from '../proxy/listener/testing.js';
import { Status } from '../proxy/smpp/index.js';
import { cleanupList, eventually, startProxy } from './helpers/receipts-proxy.js';

// node-smpp ships no type declarations; this is the part of its server API used here.
interface NodeSession extends EventEmitter {
  send(pdu: NodeSmppPdu, onResponse?: (resp: NodeSmppPdu) => void): boolean;
  close(callback?: () => void): void;
}
interface NodeSmpp {
  createServer(listener: (session: NodeSession) => void): net.Server;
  PDU: new (command: string, options?: Record<string, unknown>) => NodeSmppPdu;
}
const smpp = createRequire(import.meta.url)('smpp') as NodeSmpp;

const MESSAGES = 20;
/** The SMSC's ids: decimal, from here up. */
const FIRST_UPSTREAM_ID = 4_700_000_001;

/** What the node-smpp SMSC saw, and a way to make it send. */
interface NodeSmsc {
  port: number;
  binds: NodeSmppPdu[];
  submits: NodeSmppPdu[];
  queries: NodeSmppPdu[];
  /** data_sm, submit_multi, cancel_sm and replace_sm, in order. */
  others: NodeSmppPdu[];
  /** Answers to the receipts and the MO it sent (deliver_sm_resp). */
  deliverResps: NodeSmppPdu[];
  /** Sends a deliver_sm on the bound session; resolves with its response. */
  deliver(fields: Record<string, unknown>): Promise<NodeSmppPdu>;
  close(): Promise<void>;
}

/** node-smpp decodes a short_message as { message } (and udh when there is one). */
function textOf(pdu: NodeSmppPdu): string {
  return (pdu.short_message as { message: string }).message;
}

async function startNodeSmsc(): Promise<NodeSmsc> {
  const sessions: NodeSession[] = [];
  const server = smpp.createServer((s) => {
    sessions.push(s);
    s.on('error', () => {});
    s.on('bind_transceiver', (pdu: NodeSmppPdu) => {
      smsc.binds.push(pdu);
      s.send(pdu.response({ system_id: 'NODESMSC' }));
      smsc.deliver = (fields) =>
        new Promise((resolve) => {
          s.send(new smpp.PDU('deliver_sm', fields), (resp) => {
            smsc.deliverResps.push(resp);
            resolve(resp);
          });
        });
    });
    s.on('submit_sm', (pdu: NodeSmppPdu) => {
      const id = String(FIRST_UPSTREAM_ID + smsc.submits.length);
      smsc.submits.push(pdu);
      s.send(pdu.response({ message_id: id }));
      // The receipt, as this SMSC writes it: text and TLVs, the id in decimal.
      void smsc.deliver({
        source_addr: pdu.destination_addr,
        destination_addr: pdu.source_addr,
        esm_class: 0x04,
        short_message: `id:${id} sub:001 dlvrd:001 submit date:2511270900 done date:2511270901 stat:DELIVRD err:000 text:${textOf(pdu).slice(0, 20)}`,
        receipted_message_id: id,
        message_state: 2,
      });
    });
    // Ids for data_sm and submit_multi go on from the submits' (this SMSC answers them alike).
    const nextOtherId = (): string => String(FIRST_UPSTREAM_ID + 1_000 + smsc.others.length);
    s.on('data_sm', (pdu: NodeSmppPdu) => {
      const id = nextOtherId();
      smsc.others.push(pdu);
      s.send(pdu.response({ message_id: id }));
    });
    s.on('submit_multi', (pdu: NodeSmppPdu) => {
      const id = nextOtherId();
      smsc.others.push(pdu);
      // It refuses the second destination: ESME_RINVDSTADR (0x0B) in unsuccess_sme.
      const refused = (pdu.dest_address as { destination_addr: string }[])[1]!;
      s.send(pdu.response({ message_id: id, unsuccess_sme: [{ dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: refused.destination_addr, error_status_code: 0x0b }] }));
    });
    for (const command of ['cancel_sm', 'replace_sm']) {
      s.on(command, (pdu: NodeSmppPdu) => {
        smsc.others.push(pdu);
        s.send(pdu.response());
      });
    }
    s.on('query_sm', (pdu: NodeSmppPdu) => {
      smsc.queries.push(pdu);
      s.send(pdu.response({ message_id: pdu.message_id, final_date: '', message_state: 2, error_code: 0 }));
    });
    s.on('enquire_link', (pdu: NodeSmppPdu) => s.send(pdu.response()));
    s.on('unbind', (pdu: NodeSmppPdu) => {
      s.send(pdu.response());
      s.close();
    });
  });
  const smsc: NodeSmsc = {
    port: 0,
    binds: [],
    submits: [],
    queries: [],
    others: [],
    deliverResps: [],
    deliver: () => Promise.reject(new Error('the SMSC has no bound session')),
    async close() {
      for (const s of sessions) s.close();
      server.close();
      if (server.listening) await once(server, 'close');
    },
  };
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  smsc.port = (server.address() as net.AddressInfo).port;
  return smsc;
}

const cleanup = cleanupList();
afterEach(() => cleanup.run());

/** smppd with `smsc` as its one upstream endpoint, and a node-smpp client bound to it as acme. */
async function boundClient(smsc: NodeSmsc): Promise<SmppClient> {
  const { port } = cleanup.add(
    await startProxy({
      listeners: [{ name: 'interop', address: '127.0.0.1:0' }],
      clients: [{ system_id: 'acme', password: 'secret', mo_addresses: ['+258840001'] }],
      clusters: [
        {
          name: 'node',
          endpoints: [{ address: `127.0.0.1:${smsc.port}`, system_id: 'smppd', password: 'pw', binds: 1, window: 10 }],
          message_id: 'auto',
        },
      ],
      routes: [{ name: 'all', match: {}, cluster: 'node' }],
    }),
  );
  const client = cleanup.add(await SmppClient.connect(port));
  expect(await client.bind('transceiver', 'acme', 'secret')).toBe(Status.ESME_ROK);
  return client;
}

it('carries submits, receipts, query_sm and MO between a node-smpp client and a node-smpp SMSC, with ids rewritten both ways', async () => {
  const smsc = cleanup.add(await startNodeSmsc());
  const client = await boundClient(smsc);
  await eventually('smppd bound to the node-smpp SMSC', () => smsc.binds.length === 1);
  expect(smsc.binds[0]).toMatchObject({ system_id: 'smppd', password: 'pw' });

  // Submits: each answered with smppd's own id; the SMSC saw the client's message.
  const resps = await Promise.all(
    Array.from({ length: MESSAGES }, (_, i) => client.submit({ destination_addr: `25884100${String(i).padStart(4, '0')}`, short_message: `hello ${i}` })),
  );
  const ids = resps.map((r) => {
    expect(r.command_status).toBe(Status.ESME_ROK);
    return r.message_id as string;
  });
  expect(new Set(ids).size).toBe(MESSAGES);
  expect(smsc.submits).toHaveLength(MESSAGES);
  const upstreamIds = new Set(Array.from({ length: MESSAGES }, (_, i) => String(FIRST_UPSTREAM_ID + i)));
  for (const id of ids) expect(upstreamIds.has(id)).toBe(false);
  const bySubmittedText = new Map(smsc.submits.map((p, i) => [textOf(p), FIRST_UPSTREAM_ID + i]));
  expect([...bySubmittedText.keys()].sort()).toEqual(Array.from({ length: MESSAGES }, (_, i) => `hello ${i}`).sort());

  // Receipts: every one reaches the client carrying the id smppd gave for that message, in the
  // text and in receipted_message_id, and the SMSC has its deliver_sm_resp ESME_ROK.
  await client.waitDelivered(MESSAGES);
  const idOfText = new Map(resps.map((r, i) => [`hello ${i}`, r.message_id as string]));
  for (const receipt of client.delivered) {
    const text = textOf(receipt);
    const m = /^id:(\S+) sub:001 dlvrd:001 submit date:2511270900 done date:2511270901 stat:DELIVRD err:000 text:(.*)$/.exec(text);
    expect(m, text).not.toBeNull();
    expect(m![1]).toBe(idOfText.get(m![2]!));
    expect(receipt.receipted_message_id).toBe(m![1]);
    expect(receipt.message_state).toBe(2);
  }
  await eventually('the SMSC has its deliver_sm_resps', () => smsc.deliverResps.length === MESSAGES, {
    describe: () => smsc.deliverResps.length,
  });
  expect(smsc.deliverResps.every((r) => r.command_status === Status.ESME_ROK)).toBe(true);

  // query_sm with smppd's id reaches the SMSC with its own id, and the answer comes back with smppd's.
  const queried = await client.request('query_sm', { message_id: ids[3], source_addr: '12345' });
  expect(queried).toMatchObject({ command_status: Status.ESME_ROK, message_id: ids[3], message_state: 2 });
  expect(smsc.queries.map((q) => q.message_id)).toEqual([String(bySubmittedText.get('hello 3'))]);

  // MO to an address the client claims (`+258840001`, written without the '+' by the SMSC).
  const moResp = await smsc.deliver({ source_addr: '258821112222', destination_addr: '258840001', esm_class: 0, short_message: 'MO from node' });
  expect(moResp.command_status).toBe(Status.ESME_ROK);
  await client.waitDelivered(MESSAGES + 1);
  expect(client.delivered[MESSAGES]).toMatchObject({ source_addr: '258821112222', destination_addr: '258840001', esm_class: 0 });
  expect(textOf(client.delivered[MESSAGES]!)).toBe('MO from node');
});

it('data_sm, submit_multi, cancel_sm and replace_sm reach the node-smpp SMSC with its ids, and come back with smppd\'s', async () => {
  const smsc = cleanup.add(await startNodeSmsc());
  const client = await boundClient(smsc);

  const data = await client.request('data_sm', { source_addr: '12345', destination_addr: '258841230000', message_payload: 'payload text', registered_delivery: 0 });
  expect(data.command_status).toBe(Status.ESME_ROK);
  const dataId = data.message_id as string;

  const multi = await client.request('submit_multi', {
    source_addr: '12345',
    dest_address: ['258841230001', '258841230002', '258841230003'].map((destination_addr) => ({ dest_addr_ton: 1, dest_addr_npi: 1, destination_addr })),
    short_message: 'to three',
  });
  expect(multi.command_status).toBe(Status.ESME_ROK);
  expect(multi.unsuccess_sme).toEqual([{ dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: '258841230002', error_status_code: 0x0b }]);
  const multiId = multi.message_id as string;

  const submitted = await client.submit({ destination_addr: '258841230004', short_message: 'first text', registered_delivery: 0 });
  expect(submitted.command_status).toBe(Status.ESME_ROK);
  const submitId = submitted.message_id as string;
  for (const id of [dataId, multiId, submitId]) expect(id).not.toMatch(/^4700/); // smppd's ids, not the SMSC's

  expect((await client.request('cancel_sm', { message_id: dataId, source_addr: '12345', destination_addr: '258841230000' })).command_status).toBe(Status.ESME_ROK);
  expect((await client.request('replace_sm', { message_id: submitId, source_addr: '12345', short_message: 'second text' })).command_status).toBe(Status.ESME_ROK);

  const [dataSm, submitMulti, cancel, replace] = smsc.others;
  expect(dataSm).toMatchObject({ command: 'data_sm', destination_addr: '258841230000' });
  expect((dataSm!.message_payload as { message: string }).message).toBe('payload text');
  expect(submitMulti).toMatchObject({ command: 'submit_multi' });
  expect((submitMulti!.dest_address as { destination_addr: string }[]).map((d) => d.destination_addr)).toEqual(['258841230001', '258841230002', '258841230003']);
  // cancel_sm and replace_sm carry the SMSC's own ids for those messages.
  expect(cancel).toMatchObject({ command: 'cancel_sm', message_id: String(FIRST_UPSTREAM_ID + 1_000) });
  expect(replace).toMatchObject({ command: 'replace_sm', message_id: String(FIRST_UPSTREAM_ID) });
  // replace_sm has no data_coding: node-smpp leaves its short_message as bytes.
  expect((replace!.short_message as Buffer).toString('latin1')).toBe('second text');
});
