import { once } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { Status, encodePdu, type PduOf } from '../smpp/index.js';
import { SessionError } from './errors.js';
import type { BoundInfo } from './session-api.js';
import { bindPdu, deliverSm, sessionPair, sessionWithRawPeer, submitSm } from './testing.js';

describe('bind handshake, both roles', () => {
  it('an ESME session binds as transceiver to an SMSC session', async () => {
    const seen: Array<PduOf<'bind_transceiver'>> = [];
    const { esme, smsc } = sessionPair({
      smsc: {
        authenticate: (bind) => {
          seen.push(bind as PduOf<'bind_transceiver'>);
          return Status.ESME_ROK;
        },
      },
    });
    const smscBound = once(smsc, 'bound') as Promise<[BoundInfo]>;
    const esmeBound = once(esme, 'bound') as Promise<[BoundInfo]>;

    const resp = await esme.bind({ type: 'transceiver', system_id: 'acme', password: 'secret', system_type: 'VMA' });

    expect(resp).toMatchObject({ command: 'bind_transceiver_resp', command_status: 0, system_id: 'smppd' });
    expect(seen[0]).toMatchObject({
      system_id: 'acme',
      password: 'secret',
      system_type: 'VMA',
      interface_version: 0x34,
    });
    expect(esme.state).toBe('bound_trx');
    expect(await esmeBound).toEqual([{ bindType: 'transceiver', systemId: 'smppd' }]);
    expect(await smscBound).toEqual([{ bindType: 'transceiver', systemId: 'acme' }]);
    expect(smsc.state).toBe('bound_trx');
    expect(smsc.peerSystemId).toBe('acme');
    await esme.unbind();
    await smsc.closed;
  });

  it.each([
    ['transmitter', 'bound_tx'],
    ['receiver', 'bound_rx'],
  ] as const)('binds as %s', async (type, state) => {
    const { esme, smsc } = sessionPair();
    await esme.bind({ type, system_id: 'acme', password: 'secret' });
    expect(esme.state).toBe(state);
    expect(smsc.state).toBe(state);
    expect(esme.bindType).toBe(type);
    await esme.close();
  });

  it('a refused bind rejects with BIND_FAILED and the status; the session stays open for a retry', async () => {
    let attempts = 0;
    const { esme, smsc } = sessionPair({
      smsc: { authenticate: async () => (++attempts === 1 ? Status.ESME_RINVPASWD : Status.ESME_ROK) },
    });
    const err = (await esme.bind({ type: 'transceiver', system_id: 'acme', password: 'bad' }).catch((e) => e)) as SessionError;
    expect(err).toBeInstanceOf(SessionError);
    expect(err.code).toBe('BIND_FAILED');
    expect(err.status).toBe(Status.ESME_RINVPASWD);
    expect(esme.state).toBe('open');
    expect(smsc.state).toBe('open');

    await esme.bind({ type: 'transceiver', system_id: 'acme', password: 'secret' });
    expect(smsc.state).toBe('bound_trx');
    await esme.close();
  });

  it('refuses with ESME_RBINDFAIL when authenticate throws or is missing', async () => {
    for (const authenticate of [
      () => {
        throw new Error('db down');
      },
      () => Promise.reject(new Error('db down')),
      // A JavaScript caller returning no status.
      (() => undefined) as unknown as () => number,
      undefined,
    ]) {
      const { session, peer } = sessionWithRawPeer('smsc', { authenticate });
      peer.send(bindPdu('bind_transmitter'));
      const resp = await peer.expect('bind_transmitter_resp');
      expect(resp.command_status).toBe(Status.ESME_RBINDFAIL);
      expect(session.state).toBe('open');
      await session.close();
    }
  });

  it('PDUs pipelined behind a bind wait for the (async) decision', async () => {
    let release!: (status: number) => void;
    const { session, peer } = sessionWithRawPeer('smsc', {
      authenticate: () => new Promise<number>((resolve) => (release = resolve)),
    });
    session.on('request', (req) => req.respond(Status.ESME_ROK, { message_id: 'm1' }));
    // One write: bind, then a submit_sm before the bind response arrived.
    peer.sendBytes(
      Buffer.concat([
        encodePdu({ ...bindPdu('bind_transmitter'), command_status: 0, sequence_number: 1 } as PduOf<'bind_transmitter'>),
        encodePdu({ ...submitSm(), command_status: 0, sequence_number: 2 }),
      ]),
    );
    await new Promise((resolve) => setImmediate(resolve));
    expect(peer.received).toEqual([]);
    release(Status.ESME_ROK);
    expect(await peer.expect('bind_transmitter_resp')).toMatchObject({ command_status: 0, sequence_number: 1 });
    expect(await peer.expect('submit_sm_resp')).toMatchObject({ command_status: 0, sequence_number: 2, message_id: 'm1' });
    await session.close();
  });
});

describe('bind state errors (SMPP 3.4 §2.3)', () => {
  it('a second bind on a bound session gets ESME_RALYBND', async () => {
    const { session, peer } = sessionWithRawPeer('smsc');
    peer.send(bindPdu('bind_transceiver'));
    expect((await peer.expect('bind_transceiver_resp')).command_status).toBe(0);
    for (const command of ['bind_transmitter', 'bind_receiver', 'bind_transceiver'] as const) {
      const sent = peer.send(bindPdu(command));
      const resp = await peer.next();
      expect(resp).toMatchObject({
        command: `${command}_resp`,
        command_status: Status.ESME_RALYBND,
        sequence_number: sent.sequence_number,
      });
    }
    expect(session.state).toBe('bound_trx');
    await session.close();
  });

  it('any other PDU before bind gets ESME_RINVBNDSTS', async () => {
    const { session, peer } = sessionWithRawPeer('smsc');
    const requests = [
      submitSm(),
      { command: 'enquire_link' },
      { command: 'unbind' },
      { command: 'query_sm', message_id: 'x', source_addr_ton: 0, source_addr_npi: 0, source_addr: '' },
    ] as const;
    for (const pdu of requests) {
      const sent = peer.send(pdu);
      expect(await peer.next()).toMatchObject({
        command: `${pdu.command}_resp`,
        command_status: Status.ESME_RINVBNDSTS,
        sequence_number: sent.sequence_number,
      });
    }
    expect(session.state).toBe('open');
    await session.close();
  });

  it('submit_sm on a receiver bind and deliver_sm from an ESME get ESME_RINVBNDSTS', async () => {
    const { session, peer } = sessionWithRawPeer('smsc');
    let delivered = 0;
    session.on('request', (req) => {
      delivered++;
      req.respond();
    });
    peer.send(bindPdu('bind_receiver'));
    await peer.expect('bind_receiver_resp');
    peer.send(submitSm());
    expect((await peer.expect('submit_sm_resp')).command_status).toBe(Status.ESME_RINVBNDSTS);
    peer.send(deliverSm());
    expect((await peer.expect('deliver_sm_resp')).command_status).toBe(Status.ESME_RINVBNDSTS);
    expect(delivered).toBe(0);
    await session.close();
  });

  it('on the ESME side: deliver_sm before bind and submit_sm from the SMSC get ESME_RINVBNDSTS', async () => {
    const { session, peer } = sessionWithRawPeer('esme');
    peer.send(deliverSm());
    expect((await peer.expect('deliver_sm_resp')).command_status).toBe(Status.ESME_RINVBNDSTS);

    const bound = session.bind({ type: 'transceiver', system_id: 'me', password: 'pw' });
    const bind = await peer.expect('bind_transceiver');
    peer.send({ command: 'bind_transceiver_resp', sequence_number: bind.sequence_number, system_id: 'SMSC' });
    await bound;
    expect(session.peerSystemId).toBe('SMSC');
    peer.send(submitSm());
    expect((await peer.expect('submit_sm_resp')).command_status).toBe(Status.ESME_RINVBNDSTS);
    await session.close();
  });

  it('a deliver_sm right behind the bind response is accepted (state changes synchronously)', async () => {
    const { session, peer } = sessionWithRawPeer('esme');
    session.on('request', (req) => req.respond());
    const bound = session.bind({ type: 'receiver', system_id: 'me', password: 'pw' });
    const bind = await peer.expect('bind_receiver');
    peer.sendBytes(
      Buffer.concat([
        encodePdu({ command: 'bind_receiver_resp', command_status: 0, sequence_number: bind.sequence_number, system_id: 'S' }),
        encodePdu({ ...deliverSm(), command_status: 0, sequence_number: 77 }),
      ]),
    );
    await bound;
    expect(await peer.expect('deliver_sm_resp')).toMatchObject({ command_status: 0, sequence_number: 77 });
    await session.close();
  });

  it('refuses to send what the role and state do not allow (typed errors, nothing written)', async () => {
    const { esme, smsc } = sessionPair();
    await expect(esme.request(submitSm())).rejects.toMatchObject({ code: 'INVALID_STATE', sent: false });
    await expect(esme.enquireLink()).rejects.toMatchObject({ code: 'INVALID_STATE' });
    await expect(smsc.bind({ type: 'transmitter', system_id: 'x', password: 'y' })).rejects.toMatchObject({
      code: 'INVALID_STATE',
    });
    await esme.bind({ type: 'transmitter', system_id: 'acme', password: 'secret' });
    await expect(esme.bind({ type: 'transmitter', system_id: 'acme', password: 'secret' })).rejects.toMatchObject({
      code: 'INVALID_STATE',
    });
    // The SMSC may not send deliver_sm to a transmitter bind; request() only sends traffic.
    await expect(smsc.request(deliverSm())).rejects.toMatchObject({ code: 'INVALID_STATE' });
    await expect(esme.request({ command: 'unbind' } as never)).rejects.toMatchObject({ code: 'INVALID_COMMAND' });
    expect(() => esme.outbind({ system_id: 'a', password: 'b' })).toThrow(SessionError);
    expect(esme.stats()).toMatchObject({ requestsSent: 1, outstanding: 0 });
    await esme.close();
  });

  it('a bind that is not answered times out and closes the session', async () => {
    vi.useFakeTimers();
    try {
      const { session, peer } = sessionWithRawPeer('esme', { bindTimeoutMs: 2000 });
      const err = session.bind({ type: 'transceiver', system_id: 'me', password: 'pw' }).catch((e) => e);
      await peer.expect('bind_transceiver');
      await vi.advanceTimersByTimeAsync(1999);
      expect(session.state).toBe('open');
      await vi.advanceTimersByTimeAsync(1);
      expect(await err).toMatchObject({ code: 'TIMEOUT', sent: true });
      expect(await session.closed).toEqual({ reason: 'local' });
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('outbind (SMPP 3.4 §2.2.1)', () => {
  it('the SMSC sends outbind; the ESME gets an event and binds as receiver', async () => {
    const { esme, smsc } = sessionPair();
    const outbind = once(esme, 'outbind') as Promise<[PduOf<'outbind'>]>;
    smsc.outbind({ system_id: 'smsc1', password: 'pw' });
    const [pdu] = await outbind;
    expect(pdu).toMatchObject({ command: 'outbind', system_id: 'smsc1', password: 'pw' });
    await esme.bind({ type: 'receiver', system_id: 'acme', password: 'secret' });
    expect(smsc.state).toBe('bound_rx');
    await smsc.close();
    await esme.closed;
  });

  it('an outbind arriving at a bound session is not answered (it has no response) and changes nothing', async () => {
    const { session, peer } = sessionWithRawPeer('esme');
    const events: unknown[] = [];
    session.on('outbind', (p) => events.push(p));
    const bound = session.bind({ type: 'receiver', system_id: 'me', password: 'pw' });
    const bind = await peer.expect('bind_receiver');
    peer.send({ command: 'bind_receiver_resp', sequence_number: bind.sequence_number, system_id: 'S' });
    await bound;
    peer.send({ command: 'outbind', system_id: 'S', password: 'p' });
    peer.send({ command: 'enquire_link' });
    await peer.expect('enquire_link_resp');
    expect(events).toEqual([]);
    expect(session.state).toBe('bound_rx');
    await session.close();
  });
});
