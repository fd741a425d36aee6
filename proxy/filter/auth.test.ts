import { describe, expect, it } from 'vitest';
import { ConfigSchema, type ClientConfig, type ClientConfigInput } from '../config/schema.js';
import { Status } from '../smpp/index.js';
import { BindOutcome, compileClients, type BindRequest } from './auth.js';
import { createAuthFailures, failureKey } from './auth-failures.js';
import { parseIp } from './cidr.js';
import { hashPassword } from './password-hash.js';

function clients(list: ClientConfigInput[]): ClientConfig[] {
  return ConfigSchema.parse({ clients: list }).clients;
}

const table = compileClients(
  clients([
    { system_id: 'acme', password: 'secret', allowed_ips: ['10.0.0.0/8'], bind_types: ['transmitter', 'transceiver'], max_binds: 2 },
    { system_id: 'open', password: 'pw' },
  ]),
);

function req(fields: Partial<BindRequest> & { ip?: string } = {}): BindRequest {
  const { ip = '10.1.1.1', ...rest } = fields;
  return { systemId: 'acme', password: 'secret', bindType: 'transceiver', remote: parseIp(ip), ...rest };
}

describe('decide bind (SPEC §4 outcomes)', () => {
  const none = () => 0;

  it('accepts a known client with its password from an allowed address', () => {
    const d = table.decide(req(), none);
    expect(d).toMatchObject({ status: Status.ESME_ROK, outcome: BindOutcome.OK });
    expect(d.client?.system_id).toBe('acme');
    expect(table.decide(req({ systemId: 'open', password: 'pw', ip: '::1', bindType: 'receiver' }), none).status).toBe(
      Status.ESME_ROK,
    );
  });

  it.each([
    ['unknown system_id', { systemId: 'nobody' }, Status.ESME_RINVSYSID, BindOutcome.UNKNOWN_SYSTEM_ID],
    ['system_id differing in case', { systemId: 'ACME' }, Status.ESME_RINVSYSID, BindOutcome.UNKNOWN_SYSTEM_ID],
    ['wrong password', { password: 'secreT' }, Status.ESME_RINVPASWD, BindOutcome.BAD_PASSWORD],
    ['password prefix', { password: 'secre' }, Status.ESME_RINVPASWD, BindOutcome.BAD_PASSWORD],
    ['empty password', { password: '' }, Status.ESME_RINVPASWD, BindOutcome.BAD_PASSWORD],
    ['address not allowed', { ip: '192.0.2.1' }, Status.ESME_RBINDFAIL, BindOutcome.IP_NOT_ALLOWED],
    ['no address', { remote: undefined }, Status.ESME_RBINDFAIL, BindOutcome.IP_NOT_ALLOWED],
    ['bind type not allowed', { bindType: 'receiver' as const }, Status.ESME_RBINDFAIL, BindOutcome.BIND_TYPE_NOT_ALLOWED],
  ])('%s', (_name, fields, status, outcome) => {
    expect(table.decide(req(fields), none)).toMatchObject({ status, outcome });
  });

  it('an address that may not bind learns nothing about the password', () => {
    expect(table.decide(req({ ip: '192.0.2.1', password: 'wrong' }), none).status).toBe(Status.ESME_RBINDFAIL);
  });

  it('max_binds counts the bound sessions; 0 means unlimited', () => {
    expect(table.decide(req(), () => 1).status).toBe(Status.ESME_ROK);
    expect(table.decide(req(), () => 2)).toMatchObject({ status: Status.ESME_RBINDFAIL, outcome: BindOutcome.MAX_BINDS });
    expect(table.decide(req({ systemId: 'open', password: 'pw' }), () => 10_000).status).toBe(Status.ESME_ROK);
  });

  it('without clients every bind is refused', () => {
    expect(compileClients([]).decide(req(), none).status).toBe(Status.ESME_RINVSYSID);
  });
});

describe('allowed_sources', () => {
  const t = compileClients(
    clients([
      { system_id: 'acme', password: 'x', allowed_sources: [{ exact: 'ACME' }, { prefix: '+25884' }, { regex: 'INFO[0-9]' }] },
      { system_id: 'open', password: 'x' },
    ]),
  );
  it('lets a client submit only from the sources listed; an empty list allows any; an unknown client none', () => {
    for (const ok of ['ACME', '258841234567', '+258841234567', 'INFO7']) expect(t.allowsSource('acme', ok), ok).toBe(true);
    // The regex must match the whole source (access control, not a route's search).
    for (const no of ['acme', 'ACME2', '25882123', 'INFO77', 'xINFO7', 'xINFO7x', '']) expect(t.allowsSource('acme', no), no).toBe(false);
    expect(t.allowsSource('open', 'ANYTHING')).toBe(true);
    expect(t.allowsSource('nobody', 'ACME')).toBe(false);
  });
});

describe('a disabled client (enabled: false)', () => {
  const t = compileClients(clients([{ system_id: 'acme', password: 'secret', enabled: false }]));
  it('is refused ESME_RBINDFAIL with its password, ESME_RINVPASWD without', () => {
    expect(t.decide(req(), () => 0)).toMatchObject({ status: Status.ESME_RBINDFAIL, outcome: BindOutcome.CLIENT_DISABLED });
    expect(t.decide(req({ password: 'wrong' }), () => 0)).toMatchObject({ status: Status.ESME_RINVPASWD, outcome: BindOutcome.BAD_PASSWORD });
  });
});

describe('clients with password_hash', () => {
  const none = () => 0;
  const hashed = async () =>
    compileClients(clients([{ system_id: 'acme', password_hash: await hashPassword('s3cret', { ln: 10, r: 8, p: 1 }) }]));

  it('the first bind needs a scrypt check; once it passed, the same password binds without one', async () => {
    const t = await hashed();
    expect(t.decide(req({ password: 's3cret' }), none)).toMatchObject({ outcome: BindOutcome.BAD_PASSWORD, needsVerify: true });
    expect(await t.verify('acme', 's3cret')).toBe(true);
    expect(t.decide(req({ password: 's3cret' }), none)).toMatchObject({ status: Status.ESME_ROK, outcome: BindOutcome.OK, needsVerify: false });
  });

  it('a wrong password fails the check and is never remembered; the empty password is no way in', async () => {
    const t = await hashed();
    for (const wrong of ['s3cre', '', 'secret']) {
      expect(await t.verify('acme', wrong)).toBe(false);
      expect(t.decide(req({ password: wrong }), none)).toMatchObject({ status: Status.ESME_RINVPASWD, needsVerify: true });
    }
    // After the right one passed, a wrong one is still refused (and may still be checked).
    expect(await t.verify('acme', 's3cret')).toBe(true);
    expect(t.decide(req({ password: 'wrong' }), none)).toMatchObject({ status: Status.ESME_RINVPASWD });
    expect(await t.verify('acme', 'wrong')).toBe(false);
  });

  it('the other checks come first: an unknown system_id or a refused address needs no scrypt', async () => {
    const t = compileClients(
      clients([{ system_id: 'acme', password_hash: await hashPassword('s3cret', { ln: 10, r: 8, p: 1 }), allowed_ips: ['10.0.0.0/8'] }]),
    );
    expect(t.decide(req({ systemId: 'nobody' }), none)).toMatchObject({ outcome: BindOutcome.UNKNOWN_SYSTEM_ID, needsVerify: false });
    expect(t.decide(req({ ip: '192.0.2.1' }), none)).toMatchObject({ outcome: BindOutcome.IP_NOT_ALLOWED, needsVerify: false });
    expect(await t.verify('nobody', 's3cret')).toBe(false);
  });

  it('binds that check the same password at once share one scrypt check', async () => {
    const t = await hashed();
    const [first, second] = [t.verify('acme', 's3cret'), t.verify('acme', 's3cret')];
    expect(second).toBe(first);
    expect(t.verify('acme', 'other')).not.toBe(first);
    expect(await first).toBe(true);
  });

  it('clients with a plain password never need the check', () => {
    expect(table.decide(req({ password: 'wrong' }), none)).toMatchObject({ outcome: BindOutcome.BAD_PASSWORD, needsVerify: false });
  });
});

describe('auth failure slowdown', () => {
  it('holds back each further failure from one address longer, up to the maximum', () => {
    const t = 0;
    const f = createAuthFailures({ now: () => t, baseDelayMs: 100, maxDelayMs: 1000 });
    const delays = [1, 2, 3, 4, 5, 6].map(() => f.record('10.0.0.1'));
    expect(delays).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(f.record('10.0.0.2')).toBe(100);
    expect(f.record('::ffff:10.0.0.2')).toBe(200); // the same client, however the socket reports it
  });

  it('forgives with time: the score halves every half-life', () => {
    let t = 0;
    const f = createAuthFailures({ now: () => t, baseDelayMs: 100, halfLifeMs: 1000 });
    f.record('10.0.0.1');
    f.record('10.0.0.1');
    expect(f.score('10.0.0.1')).toBeCloseTo(2);
    t = 1000;
    expect(f.score('10.0.0.1')).toBeCloseTo(1);
    t = 60_000;
    expect(f.record('10.0.0.1')).toBeCloseTo(100, 0);
  });

  it('remembers a bounded number of addresses, forgetting the longest-quiet first', () => {
    let t = 0;
    const f = createAuthFailures({ now: () => t, maxEntries: 3 });
    for (const ip of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) {
      t++;
      f.record(ip);
    }
    t++;
    f.record('10.0.0.1'); // refreshed: now the newest
    f.record('10.0.0.4');
    expect(f.size).toBe(3);
    expect(f.score('10.0.0.2')).toBe(0);
    expect(f.score('10.0.0.1')).toBeGreaterThan(1);
  });

  it('drops entries whose score has decayed away', () => {
    let t = 0;
    const f = createAuthFailures({ now: () => t, halfLifeMs: 10 });
    f.record('10.0.0.1');
    t = 1000;
    f.record('10.0.0.2');
    expect(f.size).toBe(1);
  });

  it('counts an IPv6 /64 as one address', () => {
    expect(failureKey('2001:db8:1:2::1')).toBe(failureKey('2001:db8:1:2:ffff::9'));
    expect(failureKey('2001:db8:1:3::1')).not.toBe(failureKey('2001:db8:1:2::1'));
    const f = createAuthFailures({ now: () => 0, baseDelayMs: 10 });
    f.record('2001:db8:1:2::1');
    expect(f.record('2001:db8:1:2::2')).toBe(20);
  });
});
