// setLimits(): a config reload changes a live session's window, incoming window and timers without
// re-binding it.

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Status, type PduOf } from '../smpp/index.js';
import { boundWithRawPeer, submitSm } from './testing.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

function answer(peer: { send(p: object): unknown }, req: PduOf<'submit_sm'>, message_id: string): void {
  peer.send({ command: 'submit_sm_resp', sequence_number: req.sequence_number, message_id });
}

describe('setLimits', () => {
  it('a larger window writes queued requests at once; a smaller one lets those in flight finish', async () => {
    const { session, peer } = await boundWithRawPeer('esme', { window: 1, windowMode: 'wait', enquireLinkIntervalMs: 0 });
    const rs = [session.request(submitSm()), session.request(submitSm()), session.request(submitSm())];
    const s1 = await peer.expect('submit_sm');
    expect(session.stats()).toMatchObject({ outstanding: 1, queued: 2 });

    session.setLimits({ window: 3 });
    const s2 = await peer.expect('submit_sm');
    const s3 = await peer.expect('submit_sm');
    expect(session.stats()).toMatchObject({ outstanding: 3, queued: 0 });

    session.setLimits({ window: 1 });
    expect(session.windowFull).toBe(true);
    const r4 = session.request(submitSm());
    answer(peer, s1, 'a');
    answer(peer, s2, 'b');
    expect(session.windowFull).toBe(true); // s3 still out: one slot in a window of one
    answer(peer, s3, 'c');
    expect((await Promise.all(rs)).map((r) => r.message_id)).toEqual(['a', 'b', 'c']);
    answer(peer, await peer.expect('submit_sm'), 'd');
    expect((await r4).message_id).toBe('d');
    await session.close();
  });

  it('a smaller incoming window answers ESME_RMSGQFUL beyond it', async () => {
    const { session, peer } = await boundWithRawPeer('smsc', { incomingWindow: 5, enquireLinkIntervalMs: 0 });
    session.on('request', () => {}); // never answered: they stay pending
    session.setLimits({ incomingWindow: 1 });
    peer.send(submitSm({ sequence_number: 10 }));
    peer.send(submitSm({ sequence_number: 11 }));
    const resp = await peer.expect('submit_sm_resp');
    expect(resp).toMatchObject({ sequence_number: 11, command_status: Status.ESME_RMSGQFUL });
    expect(session.incomingPending).toBe(1);
    await session.close();
  });

  it('a shorter idle timeout counts from the last PDU received', async () => {
    const { session, peer } = await boundWithRawPeer('smsc', { idleTimeoutMs: 60_000, enquireLinkIntervalMs: 0 });
    await vi.advanceTimersByTimeAsync(4000);
    session.setLimits({ idleTimeoutMs: 5000 });
    await vi.advanceTimersByTimeAsync(999);
    expect(session.state).toBe('bound_trx');
    await vi.advanceTimersByTimeAsync(1);
    const unbind = await peer.expect('unbind');
    peer.send({ command: 'unbind_resp', sequence_number: unbind.sequence_number });
    expect(await session.closed).toEqual({ reason: 'idle_timeout' });
  });
});
