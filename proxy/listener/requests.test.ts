// Traffic from bound clients: the forwarder hand-off, window, throughput and rate_limit, the
// exactly-one-response backstop, and deliveries to the client. Real TCP, node-smpp clients.

import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { createClientThroughput } from '../filter/index.js';
import { ConfigSchema } from '../config/schema.js';
import { SessionError } from '../session/index.js';
import { Status, responseFor, type Pdu } from '../smpp/index.js';
import { DEADLINE_GRACE_MS } from './listener.js';
import { startListener, type Harness } from './testing.js';
import type { ClientRequestPdu, HandleRequest } from './types.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

/** handleRequest that holds every request until the test releases it. */
function heldRequests(): { handle: HandleRequest; held: Array<{ pdu: ClientRequestPdu; release: () => void }> } {
  const held: Array<{ pdu: ClientRequestPdu; release: () => void }> = [];
  let n = 0;
  const handle: HandleRequest = (_client, pdu) =>
    new Promise<Pdu>((resolve) => {
      held.push({ pdu, release: () => resolve(responseFor(pdu, Status.ESME_ROK, { message_id: `h${++n}` } as never) as Pdu) });
    });
  return { handle, held };
}

describe('requests', () => {
  it('hands submit_sm to the forwarder with the client and a deadline, and sends its response back', async () => {
    h = await startListener({ listener: { limits: { request_timeout: '7s' } } });
    const c = await h.bound('transceiver');
    const before = Date.now();
    const resp = await c.submit({ destination_addr: '258841234567' });
    expect(resp).toMatchObject({ command: 'submit_sm_resp', command_status: Status.ESME_ROK, message_id: 'm1' });
    const [seen] = h.seen;
    expect(seen!.pdu).toMatchObject({ command: 'submit_sm', destination_addr: '258841234567' });
    expect(seen!.client).toMatchObject({ systemId: 'acme', bindType: 'transceiver', listener: 'test' });
    expect(seen!.ctx.deadline).toBeGreaterThanOrEqual(before + 7000);
    expect(seen!.ctx.deadline).toBeLessThanOrEqual(Date.now() + 7000);
  });

  it('passes query_sm, cancel_sm, replace_sm and data_sm through, keeping the client sequence numbers', async () => {
    h = await startListener({
      handleRequest: async (_client, pdu) =>
        pdu.command === 'query_sm'
          ? responseFor(pdu, Status.ESME_ROK, { message_state: 2, final_date: '' })
          : pdu.command === 'cancel_sm'
            ? // An upstream sequence number must not leak to the client.
              { command: 'cancel_sm_resp', command_status: Status.ESME_RCANCELFAIL, sequence_number: 999_999 }
            : (responseFor(pdu, Status.ESME_ROK, { message_id: 'x' } as never) as Pdu),
    });
    const c = await h.bound('transmitter');
    const q = await c.request('query_sm', { message_id: 'abc', source_addr: '1' });
    expect(q).toMatchObject({ command: 'query_sm_resp', message_id: 'abc', message_state: 2 });
    const cancel = await c.request('cancel_sm', { message_id: 'abc', source_addr: '1', destination_addr: '2' });
    expect(cancel).toMatchObject({ command: 'cancel_sm_resp', command_status: Status.ESME_RCANCELFAIL });
    const replace = await c.request('replace_sm', { message_id: 'abc', source_addr: '1', short_message: 'hi' });
    expect(replace.command).toBe('replace_sm_resp');
    const data = await c.request('data_sm', { source_addr: '1', destination_addr: '2' });
    expect(data).toMatchObject({ command: 'data_sm_resp', message_id: 'x' });
    expect(h.seen.map((s) => s.pdu.command)).toEqual(['query_sm', 'cancel_sm', 'replace_sm', 'data_sm']);
  });

  it('answers ESME_RSYSERR when the forwarder throws, rejects, or answers with the wrong response', async () => {
    let n = 0;
    h = await startListener({
      handleRequest: (_client, pdu) => {
        n++;
        if (n === 1) throw new Error('bug');
        if (n === 2) return Promise.reject(new Error('async bug'));
        return Promise.resolve(responseFor({ ...pdu, command: 'query_sm', message_id: '' } as never, 0) as Pdu);
      },
    });
    const c = await h.bound();
    for (let i = 0; i < 3; i++) expect((await c.submit()).command_status).toBe(Status.ESME_RSYSERR);
  });

  it('answers ESME_RSYSERR once the deadline has passed without an answer; a late answer is dropped', async () => {
    const { handle, held } = heldRequests();
    h = await startListener({ listener: { limits: { request_timeout: '100ms' } }, handleRequest: handle });
    const c = await h.bound();
    let responses = 0;
    c.session.on('pdu', (pdu: { command: string }) => {
      if (pdu.command === 'submit_sm_resp') responses++;
    });
    const started = Date.now();
    const resp = await c.submit();
    expect(resp.command_status).toBe(Status.ESME_RSYSERR);
    expect(Date.now() - started).toBeGreaterThanOrEqual(100 + DEADLINE_GRACE_MS - 5);
    held[0]!.release();
    // Exactly one response: the next request's answer is the next PDU the client sees.
    const next = c.submit();
    await expect.poll(() => held.length).toBe(2);
    held[1]!.release();
    expect(await next).toMatchObject({ command_status: Status.ESME_ROK, message_id: 'h2' });
    expect(responses).toBe(2);
  });

  it('a client over its window gets ESME_RMSGQFUL', async () => {
    const { handle, held } = heldRequests();
    h = await startListener({ listener: { limits: { window: 3 } }, handleRequest: handle });
    const c = await h.bound();
    const inWindow = [c.submit(), c.submit(), c.submit()];
    const over = await c.submit();
    expect(over.command_status).toBe(Status.ESME_RMSGQFUL);
    expect(held).toHaveLength(3);
    for (const r of held) r.release();
    expect((await Promise.all(inWindow)).map((r) => r.command_status)).toEqual([0, 0, 0]);
    // The window is free again.
    const again = c.submit();
    await expect.poll(() => held.length).toBe(4);
    held[3]!.release();
    expect((await again).command_status).toBe(Status.ESME_ROK);
  });

  it('a client over its throughput gets ESME_RTHROTTLED, counted over all its binds', async () => {
    const clients = ConfigSchema.parse({ clients: [{ system_id: 'acme', password: 'secret', throughput: 3 }] }).clients;
    h = await startListener({
      clients: [{ system_id: 'acme', password: 'secret', throughput: 3 }],
      deps: { throughput: createClientThroughput(clients, () => 0) },
    });
    const a = await h.bound('transmitter');
    const b = await h.bound('transceiver');
    const statuses = [];
    for (const c of [a, b, a, b]) statuses.push((await c.submit()).command_status);
    expect(statuses).toEqual([0, 0, 0, Status.ESME_RTHROTTLED]);
    expect((await a.request('query_sm', { message_id: 'm1' })).command_status).toBe(Status.ESME_ROK);
    expect(h.seen).toHaveLength(4);
  });

  it('the rate_limit filter throttles a system_id over its requests_per_second', async () => {
    h = await startListener({
      listener: { filters: [{ type: 'rate_limit', config: { requests_per_second: 0.001, burst: 2 } }] },
      clients: [
        { system_id: 'acme', password: 'secret' },
        { system_id: 'other', password: 'secret' },
      ],
    });
    const c = await h.bound();
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await c.submit()).command_status);
    expect(statuses).toEqual([0, 0, Status.ESME_RTHROTTLED]);
    const other = await h.bound('transceiver', 'other');
    expect((await other.submit()).command_status).toBe(Status.ESME_ROK);
  });
});

describe('deliveries to the client and the registry', () => {
  function deliverPdu(text: string) {
    return {
      command: 'deliver_sm' as const,
      command_status: 0,
      sequence_number: 0,
      service_type: '',
      source_addr_ton: 1,
      source_addr_npi: 1,
      source_addr: '258841234567',
      dest_addr_ton: 1,
      dest_addr_npi: 1,
      destination_addr: '12345',
      esm_class: 0x04,
      protocol_id: 0,
      priority_flag: 0,
      schedule_delivery_time: '',
      validity_period: '',
      registered_delivery: 0,
      replace_if_present_flag: 0,
      data_coding: 0,
      sm_default_msg_id: 0,
      short_message: Buffer.from(text),
    };
  }

  it('receiverFor picks receiver-capable sessions round robin; deliver resolves with the client status', async () => {
    h = await startListener();
    const bound: string[] = [];
    h.registry.onReceiverBound((id) => bound.push(id));
    await h.bound('transmitter');
    expect(h.registry.receiverFor('acme')).toBeUndefined();
    const rx = await h.bound('receiver');
    const trx = await h.bound('transceiver');
    expect(bound).toEqual(['acme', 'acme']);
    expect(h.registry.bindCount('acme')).toBe(3);

    const first = h.registry.receiverFor('acme')!;
    const second = h.registry.receiverFor('acme')!;
    expect(new Set([first.bindType, second.bindType])).toEqual(new Set(['receiver', 'transceiver']));
    expect(h.registry.receiverFor('acme')).toBe(first);

    trx.autoAnswer = Status.ESME_RX_T_APPN;
    const statuses = await Promise.all([first.deliver(deliverPdu('a'), 1000), second.deliver(deliverPdu('b'), 1000)]);
    expect(statuses.sort()).toEqual([Status.ESME_ROK, Status.ESME_RX_T_APPN].sort());
    expect(rx.delivered).toHaveLength(1);
    expect(trx.delivered).toHaveLength(1);

    await rx.close();
    await expect.poll(() => h!.registry.bindCount('acme')).toBe(2);
    expect(h.registry.receiverFor('acme')?.bindType).toBe('transceiver');
    expect(h.registry.receiverFor('acme')?.bindType).toBe('transceiver');
  });

  it('deliver rejects with TIMEOUT when the client does not answer, and with the session error on close', async () => {
    h = await startListener();
    const c = await h.bound('receiver');
    c.autoAnswer = undefined;
    const s = h.registry.receiverFor('acme')!;
    const err = (await s.deliver(deliverPdu('x'), 50).catch((e: unknown) => e)) as SessionError;
    expect(err).toBeInstanceOf(SessionError);
    expect(err.code).toBe('TIMEOUT');
    const pending = s.deliver(deliverPdu('y'), 5000).catch((e: unknown) => e);
    await c.waitDelivered(2);
    await c.close();
    const closedErr = (await pending) as SessionError;
    expect(closedErr).toBeInstanceOf(SessionError);
    expect(['CLOSED', 'UNBOUND']).toContain(closedErr.code);
    expect(s.canReceive()).toBe(false);
  });

  it('closeSessions unbinds every client and waits until they are closed', async () => {
    h = await startListener();
    const a = await h.bound('transmitter');
    const b = await h.bound('receiver');
    const raw = await h.client(); // not bound: just closed
    await h.listener.close();
    await h.listener.closeSessions(2000);
    await Promise.all([a.closed, b.closed, raw.closed]);
    expect(a.unbinds).toHaveLength(1);
    expect(b.unbinds).toHaveLength(1);
    expect(h.registry.size).toBe(0);
    expect(h.listener.stats().boundSessions).toBe(0);
  });

  it('closeSessions closes at once after its timeout a client that does not answer unbind', async () => {
    h = await startListener();
    const c = await h.bound('transmitter');
    c.session.removeAllListeners('unbind'); // never answers
    const unbindSeen = once(c.session, 'unbind');
    const started = Date.now();
    await h.listener.closeSessions(100);
    await unbindSeen;
    await c.closed;
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
