import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CommandId, Status, type PduOf } from '../smpp/index.js';
import { SessionError, toEsmeStatus } from './errors.js';
import { createSequence, MAX_SEQUENCE } from './sequence.js';
import { boundWithRawPeer, submitSm, track } from './testing.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

function answer(peer: { send(p: object): unknown }, req: PduOf<'submit_sm'>, message_id: string): void {
  peer.send({ command: 'submit_sm_resp', sequence_number: req.sequence_number, message_id });
}

describe('outgoing window, reject mode', () => {
  it('rejects with WINDOW_FULL when full, matches out-of-order responses, and frees slots', async () => {
    const { session, peer } = await boundWithRawPeer('esme', { window: 2, enquireLinkIntervalMs: 0 });
    const r1 = session.request(submitSm({ short_message: Buffer.from('one') }));
    const r2 = session.request(submitSm({ short_message: Buffer.from('two') }));
    expect(session.windowFull).toBe(true);
    const err = (await session.request(submitSm()).catch((e) => e)) as SessionError;
    expect(err).toBeInstanceOf(SessionError);
    expect(err).toMatchObject({ code: 'WINDOW_FULL', sent: false });
    expect(toEsmeStatus(err)).toBe(Status.ESME_RMSGQFUL);

    const s1 = await peer.expect('submit_sm');
    const s2 = await peer.expect('submit_sm');
    expect(s1.short_message.toString()).toBe('one');
    answer(peer, s2, 'id-2');
    answer(peer, s1, 'id-1');
    expect(await r1).toMatchObject({ command: 'submit_sm_resp', message_id: 'id-1', command_status: 0 });
    expect(await r2).toMatchObject({ message_id: 'id-2' });
    expect(session.outstanding).toBe(0);

    const r3 = session.request(submitSm());
    answer(peer, await peer.expect('submit_sm'), 'id-3');
    expect((await r3).message_id).toBe('id-3');
    expect(session.stats()).toMatchObject({ outstanding: 0, timeouts: 0, droppedResponses: 0 });
    await session.close();
  });

  it('resolves with the response whatever its command_status (the owner relays it)', async () => {
    const { session, peer } = await boundWithRawPeer('esme', { enquireLinkIntervalMs: 0 });
    const r = session.request(submitSm());
    const s = await peer.expect('submit_sm');
    peer.send({
      command: 'submit_sm_resp',
      sequence_number: s.sequence_number,
      command_status: Status.ESME_RTHROTTLED,
      message_id: '',
    });
    expect(await r).toMatchObject({ command_status: Status.ESME_RTHROTTLED, message_id: '' });
    await session.close();
  });
});

describe('requestWith (a request that settles itself, no promise)', () => {
  function call(pdu: object) {
    const settled: { response?: unknown; error?: unknown } = {};
    const c = {
      pdu: pdu as never,
      seq: 0,
      responseId: 0,
      deadline: 0,
      resolve: (r: unknown) => (settled.response = r),
      reject: (e: unknown) => (settled.error = e),
    };
    return { c, settled };
  }

  it('settles once with the response, and refuses at once with what request() would reject with', async () => {
    const { session, peer } = await boundWithRawPeer('esme', { window: 1, enquireLinkIntervalMs: 0 });
    const first = call(submitSm({ short_message: Buffer.from('one') }));
    session.requestWith(first.c);
    expect(first.c.pdu).toBeUndefined(); // written: the window keeps no body
    const full = call(submitSm());
    session.requestWith(full.c);
    expect(full.settled.error).toMatchObject({ code: 'WINDOW_FULL', sent: false });
    const s = await peer.expect('submit_sm');
    expect(s.short_message.toString()).toBe('one');
    answer(peer, s, 'id-1');
    await vi.waitFor(() => expect(first.settled.response).toMatchObject({ command: 'submit_sm_resp', message_id: 'id-1' }));
    expect(first.settled.error).toBeUndefined();
    const notData = call({ command: 'enquire_link' });
    session.requestWith(notData.c);
    expect(notData.settled.error).toMatchObject({ code: 'INVALID_COMMAND' });
    await session.close();
    const closed = call(submitSm());
    session.requestWith(closed.c);
    expect(closed.settled.error).toMatchObject({ code: 'CLOSED' });
  });
});

describe('outgoing window, wait mode', () => {
  it('queues when full, sends in order as slots free, and bounds the queue', async () => {
    const { session, peer } = await boundWithRawPeer('esme', {
      window: 1,
      windowMode: 'wait',
      maxQueue: 2,
      enquireLinkIntervalMs: 0,
    });
    const r1 = session.request(submitSm({ short_message: Buffer.from('1') }));
    const r2 = session.request(submitSm({ short_message: Buffer.from('2') }));
    const r3 = session.request(submitSm({ short_message: Buffer.from('3') }));
    await expect(session.request(submitSm())).rejects.toMatchObject({ code: 'WINDOW_FULL', sent: false });
    expect(session.stats()).toMatchObject({ outstanding: 1, queued: 2 });

    const s1 = await peer.expect('submit_sm');
    expect(peer.received).toEqual([]);
    answer(peer, s1, 'a');
    expect((await r1).message_id).toBe('a');
    const s2 = await peer.expect('submit_sm');
    expect(s2.short_message.toString()).toBe('2');
    answer(peer, s2, 'b');
    const s3 = await peer.expect('submit_sm');
    answer(peer, s3, 'c');
    expect((await r2).message_id).toBe('b');
    expect((await r3).message_id).toBe('c');
    expect(s3.sequence_number).toBe(s2.sequence_number + 1);
    await session.close();
  });

  it('a request that waits too long for a slot fails with QUEUE_TIMEOUT and is never sent', async () => {
    const { session, peer } = await boundWithRawPeer('esme', {
      window: 1,
      windowMode: 'wait',
      queueTimeoutMs: 1000,
      requestTimeoutMs: 5000,
      enquireLinkIntervalMs: 0,
    });
    const r1 = session.request(submitSm());
    const r2 = track(session.request(submitSm()));
    await peer.expect('submit_sm');
    await vi.advanceTimersByTimeAsync(999);
    expect(r2.settled()).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await expect(r2.promise).rejects.toMatchObject({ code: 'QUEUE_TIMEOUT', sent: false });
    expect(peer.received).toEqual([]);
    expect(session.queued).toBe(0);
    await session.close();
    await expect(r1).rejects.toMatchObject({ code: 'CLOSED', sent: true });
  });
});

describe('response timeout', () => {
  it('fails each request after requestTimeoutMs; a late response is dropped and counted', async () => {
    const { session, peer } = await boundWithRawPeer('esme', { requestTimeoutMs: 1000, enquireLinkIntervalMs: 0 });
    const r1 = track(session.request(submitSm()));
    const s1 = await peer.expect('submit_sm');
    await vi.advanceTimersByTimeAsync(500);
    const r2 = track(session.request(submitSm()));
    await peer.expect('submit_sm');
    await vi.advanceTimersByTimeAsync(500);
    await expect(r1.promise).rejects.toMatchObject({ code: 'TIMEOUT', sent: true });
    expect(r2.settled()).toBe(false);
    expect(session.outstanding).toBe(1);
    await vi.advanceTimersByTimeAsync(500);
    await expect(r2.promise).rejects.toMatchObject({ code: 'TIMEOUT' });

    answer(peer, s1, 'late');
    peer.send({ command: 'enquire_link' });
    await peer.expect('enquire_link_resp'); // the late response was processed before this
    expect(session.stats()).toMatchObject({ timeouts: 2, droppedResponses: 1, outstanding: 0 });
    await session.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('times out in send order, across the sequence wrap, skipping answered requests', async () => {
    // The bind takes 0x7FFFFFFE.
    const { session, peer } = await boundWithRawPeer('esme', {
      firstSequence: MAX_SEQUENCE - 1,
      requestTimeoutMs: 1000,
      enquireLinkIntervalMs: 0,
    });
    // Requests are numbered in send order; `failed` lists them in the order they were rejected.
    const failed: number[] = [];
    const send = (n: number): Promise<void> =>
      session.request(submitSm()).then(
        () => {},
        (e: SessionError) => {
          expect(e.code).toBe('TIMEOUT');
          failed.push(n);
        },
      );
    const early = [send(0), send(1), send(2)];
    const sent = [await peer.expect('submit_sm'), await peer.expect('submit_sm'), await peer.expect('submit_sm')];
    expect(sent.map((x) => x.sequence_number)).toEqual([MAX_SEQUENCE, 1, 2]);
    await vi.advanceTimersByTimeAsync(400);
    const late = [send(3), send(4)];
    await peer.expect('submit_sm');
    const fourth = await peer.expect('submit_sm');
    answer(peer, sent[1]!, 'ok');
    await vi.advanceTimersByTimeAsync(600);
    expect(failed).toEqual([0, 2]);
    expect(session.outstanding).toBe(2);
    answer(peer, fourth, 'ok');
    await vi.advanceTimersByTimeAsync(400);
    expect(failed).toEqual([0, 2, 3]);
    expect(session.stats()).toMatchObject({ timeouts: 3, outstanding: 0 });
    await Promise.all([...early, ...late]);
    await session.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('uses one timer for the whole window, not one per request', async () => {
    const { session, peer } = await boundWithRawPeer('esme', { window: 100, enquireLinkIntervalMs: 0 });
    const before = vi.getTimerCount();
    const all = Array.from({ length: 100 }, () => session.request(submitSm()));
    expect(vi.getTimerCount()).toBe(before + 1);
    for (let i = 0; i < 100; i++) answer(peer, await peer.expect('submit_sm'), `m${i}`);
    expect((await Promise.all(all)).map((r) => r.message_id)).toEqual(all.map((_, i) => `m${i}`));
    await session.close();
  });
});

describe('responses that fail a request', () => {
  it('generic_nack settles the matching request with GENERIC_NACK and its status', async () => {
    const { session, peer } = await boundWithRawPeer('esme', { enquireLinkIntervalMs: 0 });
    const r = session.request(submitSm());
    const s = await peer.expect('submit_sm');
    peer.send({ command: 'generic_nack', sequence_number: s.sequence_number, command_status: Status.ESME_RINVCMDID });
    const err = (await r.catch((e) => e)) as SessionError;
    expect(err).toMatchObject({ code: 'GENERIC_NACK', status: Status.ESME_RINVCMDID, sent: true });
    expect(toEsmeStatus(err)).toBe(Status.ESME_RINVCMDID);
    await session.close();
  });

  it('a response of the wrong command or one that does not decode gives BAD_RESPONSE', async () => {
    const { session, peer } = await boundWithRawPeer('esme', { enquireLinkIntervalMs: 0 });
    const r1 = session.request(submitSm());
    const r2 = session.request(submitSm());
    const s1 = await peer.expect('submit_sm');
    const s2 = await peer.expect('submit_sm');
    peer.send({ command: 'deliver_sm_resp', sequence_number: s1.sequence_number, message_id: '' });
    // submit_sm_resp whose message_id has no terminating NUL within command_length.
    const bad = Buffer.alloc(19);
    bad.writeUInt32BE(19, 0);
    bad.writeUInt32BE(CommandId.submit_sm_resp, 4);
    bad.writeUInt32BE(0, 8);
    bad.writeUInt32BE(s2.sequence_number, 12);
    bad.write('abc', 16, 'latin1');
    peer.sendBytes(bad);
    await expect(r1).rejects.toMatchObject({ code: 'BAD_RESPONSE', sent: true });
    await expect(r2).rejects.toMatchObject({ code: 'BAD_RESPONSE', status: Status.ESME_RINVCMDLEN });
    // Responses are never answered.
    peer.send({ command: 'enquire_link' });
    expect((await peer.next()).command).toBe('enquire_link_resp');
    await session.close();
  });
});

describe('sequence numbers (SMPP 3.4 §3.2)', () => {
  it('wrap from 0x7FFFFFFF to 1, never 0', () => {
    const seq = createSequence(MAX_SEQUENCE - 1);
    expect([seq.next(), seq.next(), seq.next(), seq.next()]).toEqual([MAX_SEQUENCE - 1, MAX_SEQUENCE, 1, 2]);
    expect(() => createSequence(0)).toThrow(RangeError);
    expect(() => createSequence(MAX_SEQUENCE + 1)).toThrow(RangeError);
  });

  it('belong to the session: two sessions count independently', async () => {
    const a = await boundWithRawPeer('esme', { enquireLinkIntervalMs: 0 });
    const b = await boundWithRawPeer('esme', { enquireLinkIntervalMs: 0 });
    void a.session.request(submitSm()).catch(() => {});
    void b.session.request(submitSm()).catch(() => {});
    expect((await a.peer.expect('submit_sm')).sequence_number).toBe(2);
    expect((await b.peer.expect('submit_sm')).sequence_number).toBe(2);
    await a.session.close();
    await b.session.close();
  });

  it('a session wraps on the wire and still matches responses', async () => {
    // The bind takes 0x7FFFFFFE.
    const { session, peer } = await boundWithRawPeer('esme', {
      firstSequence: MAX_SEQUENCE - 1,
      enquireLinkIntervalMs: 0,
    });
    const rs = [session.request(submitSm()), session.request(submitSm()), session.request(submitSm())];
    const sent = [await peer.expect('submit_sm'), await peer.expect('submit_sm'), await peer.expect('submit_sm')];
    expect(sent.map((s) => s.sequence_number)).toEqual([MAX_SEQUENCE, 1, 2]);
    for (const s of sent.reverse()) answer(peer, s, `id${s.sequence_number}`);
    expect((await Promise.all(rs)).map((r) => r.message_id)).toEqual([`id${MAX_SEQUENCE}`, 'id1', 'id2']);
    await session.close();
  });
});
