// SPEC §4 bind outcomes over real TCP, with the independent node-smpp package as the client.

import { afterEach, describe, expect, it } from 'vitest';
import { ConfigSchema } from '../config/schema.js';
import { createAuthFailures } from '../filter/index.js';
import { hashPassword } from '../filter/password-hash.js';
import { Status } from '../smpp/index.js';
import { createLogger } from '../telemetry/logger.js';
import { createMetrics } from '../telemetry/metrics.js';
import { startListener, type Harness } from './testing.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

describe('binds (SPEC §4)', () => {
  it('binds with the right credentials; the response carries system_id smppd; the session is registered', async () => {
    h = await startListener();
    const c = await h.client();
    const resp = await c.request('bind_transceiver', { system_id: 'acme', password: 'secret' });
    expect(resp.command_status).toBe(Status.ESME_ROK);
    expect(resp.system_id).toBe('smppd');
    expect(h.registry.bindCount('acme')).toBe(1);
    expect(h.listener.stats()).toMatchObject({ connections: 1, boundSessions: 1 });
    const enq = await c.request('enquire_link');
    expect(enq).toMatchObject({ command: 'enquire_link_resp', command_status: Status.ESME_ROK });
  });

  it('unknown system_id -> ESME_RINVSYSID', async () => {
    h = await startListener();
    expect(await (await h.client()).bind('transmitter', 'nobody', 'secret')).toBe(Status.ESME_RINVSYSID);
  });

  it('wrong password -> ESME_RINVPASWD, and the session may bind again right', async () => {
    h = await startListener({ deps: { delay: async () => {} } });
    const c = await h.client();
    expect(await c.bind('transmitter', 'acme', 'wrong')).toBe(Status.ESME_RINVPASWD);
    expect(await c.bind('transmitter', 'acme', 'secret')).toBe(Status.ESME_ROK);
  });

  it('address not in allowed_ips -> ESME_RBINDFAIL', async () => {
    h = await startListener({ clients: [{ system_id: 'acme', password: 'secret', allowed_ips: ['10.0.0.0/8'] }] });
    expect(await (await h.client()).bind('transceiver')).toBe(Status.ESME_RBINDFAIL);
  });

  it('bind type not in bind_types -> ESME_RBINDFAIL', async () => {
    h = await startListener({ clients: [{ system_id: 'acme', password: 'secret', bind_types: ['transmitter'] }] });
    expect(await (await h.client()).bind('receiver')).toBe(Status.ESME_RBINDFAIL);
    expect(await (await h.client()).bind('transceiver')).toBe(Status.ESME_RBINDFAIL);
    expect(await (await h.client()).bind('transmitter')).toBe(Status.ESME_ROK);
  });

  it('max_binds reached -> ESME_RBINDFAIL; a closed session frees its slot', async () => {
    h = await startListener({ clients: [{ system_id: 'acme', password: 'secret', max_binds: 2 }] });
    const first = await h.bound('transmitter');
    await h.bound('receiver');
    expect(await (await h.client()).bind('transceiver')).toBe(Status.ESME_RBINDFAIL);
    await first.request('unbind');
    await first.closed;
    await expect.poll(() => h!.registry.bindCount('acme')).toBe(1);
    expect(await (await h.client()).bind('transceiver')).toBe(Status.ESME_ROK);
  });

  it('concurrent binds cannot overshoot max_binds', async () => {
    h = await startListener({ clients: [{ system_id: 'acme', password: 'secret', max_binds: 3 }] });
    const clients = await Promise.all(Array.from({ length: 8 }, () => h!.client()));
    const statuses = await Promise.all(clients.map((c) => c.bind('transceiver')));
    expect(statuses.filter((s) => s === Status.ESME_ROK)).toHaveLength(3);
    expect(statuses.filter((s) => s === Status.ESME_RBINDFAIL)).toHaveLength(5);
    expect(h.registry.bindCount('acme')).toBe(3);
  });

  it('a second bind on a bound session -> ESME_RALYBND', async () => {
    h = await startListener();
    const c = await h.bound('transmitter');
    expect(await c.bind('transceiver')).toBe(Status.ESME_RALYBND);
    expect(h.registry.bindCount('acme')).toBe(1);
  });

  it('any PDU before bind -> ESME_RINVBNDSTS', async () => {
    h = await startListener();
    const c = await h.client();
    const resp = await c.submit();
    expect(resp).toMatchObject({ command: 'submit_sm_resp', command_status: Status.ESME_RINVBNDSTS });
    expect((await c.request('enquire_link')).command_status).toBe(Status.ESME_RINVBNDSTS);
    expect(h.seen).toHaveLength(0);
  });

  it('updateClients applies a new clients list to later binds; bound sessions stay bound', async () => {
    h = await startListener({ deps: { delay: async () => {} } });
    const c = await h.bound('transmitter');
    h.listener.updateClients(ConfigSchema.parse({ clients: [{ system_id: 'acme', password: 'rotated' }] }).clients);
    expect(await (await h.client()).bind('transmitter', 'acme', 'secret')).toBe(Status.ESME_RINVPASWD);
    expect(await (await h.client()).bind('transmitter', 'acme', 'rotated')).toBe(Status.ESME_ROK);
    expect((await c.submit()).command_status).toBe(Status.ESME_ROK);
  });

  it('counts bind attempts by result and bound sessions by bind type', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    h = await startListener({ deps: { metrics, delay: async () => {} } });
    await (await h.client()).bind('transmitter', 'acme', 'wrong');
    const c = await h.bound('receiver');
    const text = await metrics.registry.metrics();
    expect(text).toContain('smppd_bind_attempts_total{listener="test",result="ok"} 1');
    expect(text).toContain('smppd_bind_attempts_total{listener="test",result="bad_password"} 1');
    expect(text).toContain('smppd_client_sessions{listener="test",bind_type="receiver"} 1');
    expect(text).toContain('smppd_connection_active{listener="test"} 2');
    await c.close();
    await expect.poll(async () => (await metrics.registry.metrics()).includes('bind_type="receiver"} 0')).toBe(true);
  });
});

describe('session logs', () => {
  it('carry sessionId, listener, remote and, once bound, system_id; no password; nothing per PDU at info', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(JSON.parse(line)) } });
    h = await startListener({ deps: { logger, delay: async () => {} } });
    const bad = await h.client();
    await bad.bind('transmitter', 'acme', 'not-it');
    const c = await h.bound('transceiver');
    const bound = lines.find((l) => l.msg === 'client bound');
    expect(bound).toMatchObject({ listener: 'test', systemId: 'acme', bindType: 'transceiver', level: 'info' });
    expect(bound!.sessionId).toMatch(/^test-/);
    expect(bound!.remote).toMatch(/^127\.0\.0\.1:\d+$/);
    const refused = lines.find((l) => l.msg === 'bind refused');
    expect(refused).toMatchObject({ systemId: 'acme', outcome: 'bad_password', status: 'ESME_RINVPASWD' });
    expect(JSON.stringify(lines)).not.toContain('not-it');
    const before = lines.length;
    for (let i = 0; i < 5; i++) await c.submit();
    await c.request('enquire_link');
    expect(lines.length).toBe(before);
  });
});

describe('clients with password_hash', () => {
  /** A listener whose client acme has the password s3cret as a hash; failures are not slowed down in time. */
  async function hashedListener(): Promise<Harness> {
    const hash = await hashPassword('s3cret', { ln: 10, r: 8, p: 1 });
    const now = 0;
    return startListener({
      clients: [{ system_id: 'acme', password_hash: hash }],
      deps: { authFailures: createAuthFailures({ now: () => now }), delay: async () => {} },
    });
  }
  const guessThrice = async (c: Awaited<ReturnType<Harness['client']>>): Promise<void> => {
    for (const guess of ['a', 'b', 'c']) expect(await c.bind('transmitter', 'acme', guess)).toBe(Status.ESME_RINVPASWD);
  };

  it('the right password binds; once it passed, it binds even from an address that has been guessing', async () => {
    h = await hashedListener();
    const c = await h.client();
    expect(await c.bind('transmitter', 'acme', 's3cret')).toBe(Status.ESME_ROK);
    await c.request('unbind');
    const guesser = await h.client();
    await guessThrice(guesser);
    // Remembered: no check is needed.
    expect(await guesser.bind('transmitter', 'acme', 's3cret')).toBe(Status.ESME_ROK);
  });

  it('a guessing address cannot make scrypt run again: a password never checked before is refused unchecked', async () => {
    h = await hashedListener();
    const c = await h.client();
    await guessThrice(c);
    // Never checked before, so not remembered: with three recent failures it is not checked now either.
    expect(await c.bind('transmitter', 'acme', 's3cret')).toBe(Status.ESME_RINVPASWD);
  });
});

describe('slowdown of repeated bind failures', () => {
  it('holds back the failure response longer each time one address fails again', async () => {
    const delays: number[] = [];
    const now = 0;
    h = await startListener({
      deps: {
        authFailures: createAuthFailures({ now: () => now, baseDelayMs: 100, maxDelayMs: 10_000 }),
        delay: async (ms) => {
          delays.push(ms);
        },
      },
    });
    const c = await h.client();
    expect(await c.bind('transmitter', 'acme', 'bad1')).toBe(Status.ESME_RINVPASWD);
    expect(await c.bind('transmitter', 'acme', 'bad2')).toBe(Status.ESME_RINVPASWD);
    expect(await c.bind('transmitter', 'nobody', 'x')).toBe(Status.ESME_RINVSYSID);
    expect(delays).toEqual([100, 200, 400]);
    expect(delays[2]!).toBeGreaterThan(delays[0]!);

    // Success is never delayed; policy refusals (RBINDFAIL) are not credential guesses.
    expect(await c.bind('transmitter')).toBe(Status.ESME_ROK);
    expect(delays).toHaveLength(3);
  });

  it('holds back the response for real, and nothing else is read from that session meanwhile', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    h = await startListener({ deps: { delay: () => held } });
    const c = await h.client();
    let answered = false;
    const bind = c.bind('transmitter', 'acme', 'wrong').then((s) => {
      answered = true;
      return s;
    });
    const enquire = c.request('enquire_link');
    // enquire_link is pipelined behind the bind and waits with it; other clients are not held up.
    expect(await (await h.client()).bind('transmitter')).toBe(Status.ESME_ROK);
    expect(answered).toBe(false);
    release();
    expect(await bind).toBe(Status.ESME_RINVPASWD);
    expect((await enquire).command_status).toBe(Status.ESME_RINVBNDSTS);
  });
});
