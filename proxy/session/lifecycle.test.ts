import { once } from 'node:events';
import net from 'node:net';
import { duplexPair } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Status } from '../smpp/index.js';
import type { AnyIncomingRequest } from './incoming.js';
import type { CloseInfo } from './types.js';
import { createSession } from './session.js';
import { ManualTimers, boundWithRawPeer, deliverSm, sessionPair, submitSm, track } from './testing.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('enquire_link keepalive', () => {
  it('sends enquire_link after the idle interval and keeps doing so while answered', async () => {
    const { session, peer } = await boundWithRawPeer('esme', { enquireLinkIntervalMs: 1000 });
    await vi.advanceTimersByTimeAsync(999);
    expect(peer.received).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    const e1 = await peer.expect('enquire_link');
    peer.send({ command: 'enquire_link_resp', sequence_number: e1.sequence_number });
    await vi.advanceTimersByTimeAsync(1000);
    const e2 = await peer.expect('enquire_link');
    expect(e2.sequence_number).toBe(e1.sequence_number + 1);
    peer.send({ command: 'enquire_link_resp', sequence_number: e2.sequence_number });
    await vi.advanceTimersByTimeAsync(0);
    expect(session.state).toBe('bound_trx');
    await session.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('traffic from the peer postpones it', async () => {
    const { session, peer } = await boundWithRawPeer('esme', { enquireLinkIntervalMs: 1000 });
    await vi.advanceTimersByTimeAsync(800);
    peer.send({ command: 'enquire_link' });
    await peer.expect('enquire_link_resp');
    await vi.advanceTimersByTimeAsync(999);
    expect(peer.received).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    await peer.expect('enquire_link');
    await session.close();
  });

  it('closes the session when the enquire_link is not answered in time', async () => {
    const { session, peer } = await boundWithRawPeer('esme', {
      enquireLinkIntervalMs: 1000,
      enquireLinkTimeoutMs: 500,
      requestTimeoutMs: 60_000,
    });
    const closes: CloseInfo[] = [];
    session.on('close', (info) => closes.push(info));
    const pending = track(session.request(submitSm()));
    await peer.expect('submit_sm');
    await vi.advanceTimersByTimeAsync(1000);
    await peer.expect('enquire_link');
    await vi.advanceTimersByTimeAsync(499);
    expect(session.state).toBe('bound_trx');
    await vi.advanceTimersByTimeAsync(1);
    const info = await session.closed;
    expect(info).toMatchObject({ reason: 'enquire_link_timeout', error: { code: 'ENQUIRE_LINK_TIMEOUT' } });
    await expect(pending.promise).rejects.toMatchObject({
      code: 'CLOSED',
      sent: true,
      closeReason: 'enquire_link_timeout',
    });
    expect(closes).toEqual([info]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it.each(['transmitter', 'receiver', 'transceiver'] as const)(
    "answers the peer's enquire_link on a %s bind, both roles",
    async (type) => {
      const { esme, smsc } = sessionPair({
        esme: { enquireLinkIntervalMs: 0 },
        smsc: { enquireLinkIntervalMs: 0 },
      });
      await esme.bind({ type, system_id: 'acme', password: 'secret' });
      expect(await esme.enquireLink()).toMatchObject({ command: 'enquire_link_resp', command_status: 0 });
      expect(await smsc.enquireLink()).toMatchObject({ command: 'enquire_link_resp', command_status: 0 });
      await esme.close();
      await smsc.closed;
    },
  );

  it('answers enquire_link while unbinding', async () => {
    const { session, peer } = await boundWithRawPeer('esme', { enquireLinkIntervalMs: 0 });
    const closed = session.unbind();
    await peer.expect('unbind');
    expect(session.state).toBe('unbinding');
    const e = peer.send({ command: 'enquire_link' });
    expect(await peer.next()).toMatchObject({ command: 'enquire_link_resp', sequence_number: e.sequence_number, command_status: 0 });
    await vi.advanceTimersByTimeAsync(5000); // unbind_resp never comes: the unbind timeout closes
    expect(await closed).toEqual({ reason: 'unbind' });
  });

  it('unbinds and closes a session idle for idleTimeoutMs', async () => {
    const { session, peer } = await boundWithRawPeer('smsc', { idleTimeoutMs: 5000, enquireLinkIntervalMs: 0 });
    await vi.advanceTimersByTimeAsync(4999);
    expect(peer.received).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    const u = await peer.expect('unbind');
    peer.send({ command: 'unbind_resp', sequence_number: u.sequence_number });
    expect(await session.closed).toEqual({ reason: 'idle_timeout' });
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('injected timers', () => {
  it('keepalive and timeouts run on the injected clock; nothing is left after close', async () => {
    vi.useRealTimers();
    const timers = new ManualTimers();
    const { session, peer } = await boundWithRawPeer('esme', {
      timers,
      enquireLinkIntervalMs: 1000,
      enquireLinkTimeoutMs: 300,
    });
    const pending = track(session.request(submitSm()));
    await peer.expect('submit_sm');
    timers.advance(1000);
    const e = await peer.expect('enquire_link');
    peer.send({ command: 'enquire_link_resp', sequence_number: e.sequence_number });
    await new Promise((resolve) => setImmediate(resolve));
    timers.advance(1000);
    await peer.expect('enquire_link');
    timers.advance(300);
    expect((await session.closed).reason).toBe('enquire_link_timeout');
    await expect(pending.promise).rejects.toMatchObject({ code: 'CLOSED' });
    expect(timers.count).toBe(0);
  });
});

describe('unbind', () => {
  it('unbind() with requests in flight: queued ones fail at once, in-flight ones may still be answered, the rest fail UNBOUND', async () => {
    const { session, peer } = await boundWithRawPeer('esme', {
      window: 2,
      windowMode: 'wait',
      enquireLinkIntervalMs: 0,
    });
    const r1 = track(session.request(submitSm()));
    const r2 = track(session.request(submitSm()));
    const r3 = track(session.request(submitSm()));
    const s1 = await peer.expect('submit_sm');
    await peer.expect('submit_sm');

    const closed = session.unbind();
    await expect(r3.promise).rejects.toMatchObject({ code: 'UNBOUND', sent: false });
    await expect(session.request(submitSm())).rejects.toMatchObject({ code: 'UNBOUND', sent: false });
    const u = await peer.expect('unbind');
    peer.send({ command: 'submit_sm_resp', sequence_number: s1.sequence_number, message_id: 'before-unbind' });
    peer.send({ command: 'unbind_resp', sequence_number: u.sequence_number });

    expect(await closed).toEqual({ reason: 'unbind' });
    expect((await r1.promise).message_id).toBe('before-unbind');
    await expect(r2.promise).rejects.toMatchObject({ code: 'UNBOUND', sent: true });
    await peer.untilEnded();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('an incoming unbind is answered, in-flight requests fail UNBOUND, and the stream ends', async () => {
    const { session, peer } = await boundWithRawPeer('smsc', { enquireLinkIntervalMs: 0 });
    const held: AnyIncomingRequest[] = [];
    session.on('request', (req) => held.push(req));
    const unbindEvent = once(session, 'unbind');
    const d1 = track(session.request(deliverSm()));
    const d2 = track(session.request(deliverSm()));
    await peer.expect('deliver_sm');
    await peer.expect('deliver_sm');
    peer.send(submitSm());
    const u = peer.send({ command: 'unbind' });

    expect(await peer.next()).toMatchObject({ command: 'unbind_resp', command_status: 0, sequence_number: u.sequence_number });
    await unbindEvent;
    expect(await session.closed).toEqual({ reason: 'peer_unbind' });
    await expect(d1.promise).rejects.toMatchObject({ code: 'UNBOUND', sent: true });
    await expect(d2.promise).rejects.toMatchObject({ code: 'UNBOUND' });
    // The unanswered client request can no longer be answered.
    expect(held).toHaveLength(1);
    expect(held[0]!.respond(Status.ESME_ROK, { message_id: 'x' })).toBe(false);
    await peer.untilEnded();
    expect(peer.received).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('between two sessions: both close, with the reasons of each side', async () => {
    const { esme, smsc } = sessionPair();
    await esme.bind({ type: 'transceiver', system_id: 'acme', password: 'secret' });
    const smscUnbind = once(smsc, 'unbind');
    expect(await esme.unbind()).toEqual({ reason: 'unbind' });
    await smscUnbind;
    expect(await smsc.closed).toEqual({ reason: 'peer_unbind' });
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('close', () => {
  it('settles everything, clears every timer and emits close once', async () => {
    const { session, peer } = await boundWithRawPeer('smsc', {
      window: 1,
      windowMode: 'wait',
      enquireLinkIntervalMs: 1000,
      idleTimeoutMs: 60_000,
    });
    session.on('request', () => {});
    const closes: CloseInfo[] = [];
    session.on('close', (info) => closes.push(info));
    const inFlight = track(session.request(deliverSm()));
    const queued = track(session.request(deliverSm()));
    const ping = track(session.enquireLink());
    peer.send(submitSm()); // never answered by the owner
    await peer.expect('deliver_sm');
    await peer.expect('enquire_link');
    expect(vi.getTimerCount()).toBeGreaterThan(0);

    await session.close();
    await expect(inFlight.promise).rejects.toMatchObject({ code: 'CLOSED', sent: true });
    await expect(queued.promise).rejects.toMatchObject({ code: 'CLOSED', sent: false });
    await expect(ping.promise).rejects.toMatchObject({ code: 'CLOSED' });
    expect(session.incomingPending).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    expect(closes).toEqual([{ reason: 'local' }]);
    await expect(session.request(submitSm() as never)).rejects.toMatchObject({ code: 'CLOSED' });
    await session.close();
    expect(closes).toHaveLength(1);
  });

  it('a peer that never reads: the close timeout destroys the socket', async () => {
    const { session, peer } = await boundWithRawPeer('smsc', { closeTimeoutMs: 2000, enquireLinkIntervalMs: 0 });
    peer.socket.pause();
    const closed = track(session.close());
    await vi.advanceTimersByTimeAsync(1999);
    expect(closed.settled()).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await closed.promise).toEqual({ reason: 'local' });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a connection that fails closes the session and fails the bind', async () => {
    vi.useRealTimers();
    const server = net.createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as net.AddressInfo;
    server.close();
    await once(server, 'close');
    const session = createSession({ socket: net.connect(port, '127.0.0.1'), role: 'esme' });
    const bind = session.bind({ type: 'transceiver', system_id: 'a', password: 'b' });
    await expect(bind).rejects.toMatchObject({ code: 'CLOSED' });
    const info = await session.closed;
    expect(info.reason).toBe('socket_error');
    expect((info.error as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
  });

  it('the peer closing the connection closes the session', async () => {
    const { session, peer } = await boundWithRawPeer('esme', { enquireLinkIntervalMs: 0 });
    const pending = session.request(submitSm());
    peer.socket.end();
    expect(await session.closed).toEqual({ reason: 'peer_closed' });
    await expect(pending).rejects.toMatchObject({ code: 'CLOSED' });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a socket error never goes unhandled; it closes the session and is reported', async () => {
    const boom = new Error('ECONNRESET');
    const [a] = duplexPair();
    const quiet = createSession({ socket: a, role: 'esme' });
    a.destroy(boom);
    expect(await quiet.closed).toEqual({ reason: 'socket_error', error: boom });

    const [b] = duplexPair();
    const loud = createSession({ socket: b, role: 'smsc' });
    const errors: Error[] = [];
    loud.on('error', (e) => errors.push(e));
    b.destroy(boom);
    await loud.closed;
    expect(errors).toEqual([boom]);
    expect(vi.getTimerCount()).toBe(0);
  });
});
