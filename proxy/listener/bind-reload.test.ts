// A reload while a bind's password_hash check runs (listener.ts authenticate): the bind is decided
// against the clients as they are once the check ends, not as they were when it started. The scrypt
// check is replaced by one the test ends, so the reload lands inside it every time.

import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigSchema, type ClientConfig, type ClientConfigInput } from '../config/schema.js';
import { Status } from '../smpp/index.js';
import { startListener, type Harness } from './testing.js';

/** The pending checks, in the order binds started them: ok(true) ends one as a match. */
const checks: { ok: (match: boolean) => void }[] = [];
let checkStarted: () => void = () => {};

vi.mock(import('../filter/password-hash.js'), async (importOriginal) => {
  const original = await importOriginal();
  return {
    ...original,
    verifyPassword: () =>
      new Promise<boolean>((resolve) => {
        checks.push({ ok: resolve });
        checkStarted();
      }),
  };
});

// Any well-formed hash: the mocked check never reads it.
const HASH = '$scrypt$ln=10,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g';

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
  checks.length = 0;
});

/** Clients as the config loader gives them. */
function parsed(...inputs: ClientConfigInput[]): ClientConfig[] {
  return ConfigSchema.parse({ clients: inputs }).clients;
}

function nextCheck(): Promise<void> {
  return new Promise((resolve) => (checkStarted = resolve));
}

describe('a reload while a bind waits for its password check', () => {
  /**
   * Binds acme while its check runs, reloads to `reloaded` inside the check, then ends the checks
   * (the one begun before the reload, and the one the bind then needs against the new clients, which
   * have not checked this password yet: a reload forgets what passed). The bind's status.
   */
  async function bindAcrossReload(h: Harness, reloaded: ClientConfig[]): Promise<number> {
    const c = await h.client();
    let started = nextCheck();
    const answer = c.bind('transmitter', 'acme', 's3cret');
    await started;
    await h.listener.updateClients(reloaded);
    started = nextCheck();
    checks[0]!.ok(true);
    await started;
    checks[1]!.ok(true);
    return answer;
  }

  it('refuses the bind when the reload disabled the client', async () => {
    const acme: ClientConfigInput = { system_id: 'acme', password_hash: HASH };
    h = await startListener({ clients: [acme] });
    expect(await bindAcrossReload(h, parsed({ ...acme, enabled: false }))).toBe(Status.ESME_RBINDFAIL);
    expect(h.registry.bindCount('acme')).toBe(0);
    expect(checks).toHaveLength(2);
  });

  it('binds when the reload enabled the client', async () => {
    const acme: ClientConfigInput = { system_id: 'acme', password_hash: HASH };
    h = await startListener({ clients: [{ ...acme, enabled: false }] });
    expect(await bindAcrossReload(h, parsed(acme))).toBe(Status.ESME_ROK);
    expect(h.registry.bindCount('acme')).toBe(1);
  });

  it('answers ESME_RINVSYSID when the reload removed the client', async () => {
    const inputs: ClientConfigInput[] = [
      { system_id: 'acme', password_hash: HASH },
      { system_id: 'beta', password: 'secret' },
    ];
    const [, other] = parsed(...inputs) as [ClientConfig, ClientConfig];
    h = await startListener({ clients: inputs });
    const c = await h.client();
    const started = nextCheck();
    const answer = c.bind('transmitter', 'acme', 's3cret');
    await started;
    await h.listener.updateClients([other]);
    checks[0]!.ok(true);
    // No second check: there is no such client any more.
    expect(await answer).toBe(Status.ESME_RINVSYSID);
    expect(checks).toHaveLength(1);
  });
});
