import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CommandId, Status, encodePdu } from '../smpp/index.js';
import type { AnyIncomingRequest } from './incoming.js';
import { boundWithRawPeer, sessionWithRawPeer, submitSm } from './testing.js';

function header(length: number, id: number, seq: number, status = 0): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt32BE(length, 0);
  b.writeUInt32BE(id, 4);
  b.writeUInt32BE(status, 8);
  b.writeUInt32BE(seq, 12);
  return b;
}

/** A submit_sm whose source_addr is 25 characters (SMPP 3.4 §4.4.1 allows 20). */
function submitSmWithLongSourceAddr(seq: number): Buffer {
  const ok = encodePdu({ ...submitSm({ source_addr: '' }), command_status: 0, sequence_number: seq });
  // Body: service_type '\0' at 16, ton 17, npi 18, source_addr at 19.
  const bad = Buffer.concat([ok.subarray(0, 19), Buffer.from('A'.repeat(25)), ok.subarray(19)]);
  bad.writeUInt32BE(bad.length, 0);
  return bad;
}

describe('bad bytes (SPEC §4)', () => {
  it('an unknown command_id gets generic_nack ESME_RINVCMDID with its sequence number', async () => {
    const { session, peer } = await boundWithRawPeer('smsc');
    peer.sendBytes(header(16, 0x00000099, 42));
    expect(await peer.next()).toEqual({ command: 'generic_nack', command_status: Status.ESME_RINVCMDID, sequence_number: 42 });
    peer.sendBytes(Buffer.concat([header(20, 0x80000099, 43), Buffer.alloc(4)]));
    expect(await peer.next()).toMatchObject({ command: 'generic_nack', command_status: Status.ESME_RINVCMDID, sequence_number: 43 });
    expect(session.state).toBe('bound_trx');
    await session.close();
  });

  it('a request whose body does not fit its command_length gets generic_nack ESME_RINVCMDLEN', async () => {
    const { session, peer } = await boundWithRawPeer('smsc');
    const delivered: AnyIncomingRequest[] = [];
    session.on('request', (req) => delivered.push(req));
    // submit_sm with only service_type: the body ends inside the mandatory fields.
    peer.sendBytes(Buffer.concat([header(17, CommandId.submit_sm, 7), Buffer.from([0])]));
    expect(await peer.next()).toEqual({ command: 'generic_nack', command_status: Status.ESME_RINVCMDLEN, sequence_number: 7 });
    expect(delivered).toEqual([]);
    // The stream is still in sync: the next PDU is handled normally.
    peer.send({ command: 'enquire_link', sequence_number: 8 });
    expect(await peer.next()).toMatchObject({ command: 'enquire_link_resp', command_status: 0, sequence_number: 8 });
    await session.close();
  });

  it('a known request with a bad field gets its own response with the field status (SMPP 3.4 §2.8)', async () => {
    const { session, peer } = await boundWithRawPeer('smsc');
    peer.sendBytes(submitSmWithLongSourceAddr(9));
    expect(await peer.next()).toEqual({
      command: 'submit_sm_resp',
      command_status: Status.ESME_RINVSRCADR,
      sequence_number: 9,
      message_id: '',
    });
    await session.close();
  });

  it('the bind state is checked before the body: a malformed submit_sm before bind gets ESME_RINVBNDSTS', async () => {
    const { session, peer } = sessionWithRawPeer('smsc');
    peer.sendBytes(submitSmWithLongSourceAddr(3));
    expect(await peer.next()).toMatchObject({ command: 'submit_sm_resp', command_status: Status.ESME_RINVBNDSTS });
    await session.close();
  });

  it.each([
    ['shorter than a header', 8],
    ['longer than 64 KiB', 70_000],
  ])('an impossible command_length (%s) closes the session', async (_name, length) => {
    const { session, peer } = await boundWithRawPeer('esme', { enquireLinkIntervalMs: 0 });
    const pending = session.request(submitSm());
    await peer.expect('submit_sm');
    peer.sendBytes(header(length, CommandId.enquire_link, 5));
    expect(await session.closed).toEqual({ reason: 'invalid_length' });
    await expect(pending).rejects.toMatchObject({ code: 'CLOSED', sent: true });
    expect(peer.received).toEqual([]);
  });

  it('random bytes never throw and leave the session open or closed', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ minLength: 0, maxLength: 64 }), { maxLength: 6 }), async (chunks) => {
        const { session, peer } = await boundWithRawPeer('smsc', { enquireLinkIntervalMs: 0 });
        session.on('request', (req) => req.respond());
        for (const c of chunks) peer.sendBytes(Buffer.from(c));
        peer.send({ command: 'enquire_link' });
        await new Promise((resolve) => setImmediate(resolve));
        expect(['bound_trx', 'closed']).toContain(session.state);
        await session.close();
      }),
      { numRuns: 60 },
    );
  });
});

describe('incoming requests', () => {
  it('are delivered with respond(); the response echoes the sequence number and body', async () => {
    const { session, peer } = await boundWithRawPeer('smsc');
    session.on('request', (req) => {
      if (req.command === 'submit_sm') {
        expect(req.pdu.destination_addr).toBe('25884000001');
        expect(session.incomingPending).toBe(1);
        expect(req.respond(Status.ESME_ROK, { message_id: 'abc-1' })).toBe(true);
        expect(req.respond(Status.ESME_RSYSERR)).toBe(false); // exactly once
      }
    });
    const sent = peer.send(submitSm());
    expect(await peer.next()).toEqual({
      command: 'submit_sm_resp',
      command_status: 0,
      sequence_number: sent.sequence_number,
      message_id: 'abc-1',
    });
    peer.send({ command: 'enquire_link' });
    expect((await peer.next()).command).toBe('enquire_link_resp');
    expect(session.incomingPending).toBe(0);
    await session.close();
  });

  it('tracks the incoming window and answers ESME_RMSGQFUL beyond incomingWindow', async () => {
    const { session, peer } = await boundWithRawPeer('smsc', { incomingWindow: 2 });
    const held: AnyIncomingRequest[] = [];
    session.on('request', (req) => held.push(req));
    const s1 = peer.send(submitSm());
    peer.send(submitSm());
    const s3 = peer.send(submitSm());
    expect(await peer.next()).toMatchObject({
      command: 'submit_sm_resp',
      command_status: Status.ESME_RMSGQFUL,
      sequence_number: s3.sequence_number,
    });
    expect(held).toHaveLength(2);
    expect(session.incomingPending).toBe(2);
    held[0]!.respond(Status.ESME_ROK, { message_id: 'x' });
    expect(await peer.next()).toMatchObject({ sequence_number: s1.sequence_number, message_id: 'x' });
    expect(session.incomingPending).toBe(1);
    peer.send(submitSm());
    peer.send({ command: 'enquire_link' });
    await peer.expect('enquire_link_resp');
    expect(held).toHaveLength(3);
    await session.close();
  });

  it('without a request listener, or when it throws, the request is answered ESME_RSYSERR', async () => {
    const { session, peer } = await boundWithRawPeer('smsc');
    peer.send(submitSm());
    expect((await peer.expect('submit_sm_resp')).command_status).toBe(Status.ESME_RSYSERR);
    const errors: Error[] = [];
    session.on('error', (e) => errors.push(e));
    session.on('request', () => {
      throw new Error('owner bug');
    });
    peer.send(submitSm());
    expect((await peer.expect('submit_sm_resp')).command_status).toBe(Status.ESME_RSYSERR);
    expect(errors.map((e) => e.message)).toEqual(['owner bug']);
    expect(session.incomingPending).toBe(0);
    await session.close();
  });

  it('a response that cannot be encoded still answers (ESME_RSYSERR) and throws ENCODE_FAILED', async () => {
    const { session, peer } = await boundWithRawPeer('smsc');
    let thrown: unknown;
    session.on('request', (req) => {
      try {
        req.respond(Status.ESME_ROK, { message_id: 'x'.repeat(100) });
      } catch (err) {
        thrown = err;
      }
    });
    peer.send(submitSm());
    expect((await peer.expect('submit_sm_resp')).command_status).toBe(Status.ESME_RSYSERR);
    expect(thrown).toMatchObject({ code: 'ENCODE_FAILED' });
    expect(session.incomingPending).toBe(0);
    await session.close();
  });

  it('respondWith sends a whole response with the sequence number received, even if the PDU was renumbered', async () => {
    const { session, peer } = await boundWithRawPeer('smsc');
    session.on('request', (req) => {
      if (req.command !== 'submit_sm') return;
      req.pdu.sequence_number = 999; // the owner sent the PDU on, and another session numbered it
      const resp = { command: 'submit_sm_resp', command_status: 0, sequence_number: 0, message_id: 'm-7' } as const;
      expect(req.respondWith({ ...resp })).toBe(true);
      expect(req.respondWith({ ...resp })).toBe(false); // exactly once
    });
    const sent = peer.send(submitSm());
    expect(await peer.next()).toEqual({ command: 'submit_sm_resp', command_status: 0, sequence_number: sent.sequence_number, message_id: 'm-7' });
    expect(session.incomingPending).toBe(0);
    await session.close();
  });

  it('respondWith: a response that cannot be encoded still answers (ESME_RSYSERR) and throws ENCODE_FAILED', async () => {
    const { session, peer } = await boundWithRawPeer('smsc');
    let thrown: unknown;
    session.on('request', (req) => {
      if (req.command !== 'submit_sm') return;
      try {
        req.respondWith({ command: 'submit_sm_resp', command_status: 0, sequence_number: 0, message_id: 'x'.repeat(100) });
      } catch (err) {
        thrown = err;
      }
    });
    const sent = peer.send(submitSm());
    expect(await peer.expect('submit_sm_resp')).toMatchObject({ command_status: Status.ESME_RSYSERR, sequence_number: sent.sequence_number });
    expect(thrown).toMatchObject({ code: 'ENCODE_FAILED' });
    await session.close();
  });

  it('the owner can pause and resume reading', async () => {
    const { session, peer } = await boundWithRawPeer('smsc');
    session.pauseReading();
    expect(session.readingPaused).toBe(true);
    peer.send({ command: 'enquire_link' });
    await new Promise((resolve) => setImmediate(resolve));
    expect(peer.received).toEqual([]);
    session.resumeReading();
    await peer.expect('enquire_link_resp');
    await session.close();
  });
});
