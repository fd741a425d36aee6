// TLS listeners, with a CA and certificates made at test time by the `openssl` CLI (testing.ts).

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SessionError, createSession } from '../session/index.js';
import { ConfigSchema } from '../config/schema.js';
import { Status } from '../smpp/index.js';
import { SmppClient, makeTestCertificates, startListener, type Harness, type TestCertificates } from './testing.js';

let dir: string;
let certs: TestCertificates;
let ca: Buffer;
let h: Harness | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'smppd-tls-'));
  certs = await makeTestCertificates(dir);
  ca = await readFile(certs.caCert);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

afterEach(async () => {
  await h?.stop();
  h = undefined;
});

describe('TLS listener', () => {
  it('a node-smpp client binds and submits over TLS, verifying the server certificate', async () => {
    h = await startListener({ listener: { tls: { cert: certs.serverCert, key: certs.serverKey } } });
    const c = await h.client({ ca });
    expect(await c.bind('transceiver')).toBe(Status.ESME_ROK);
    const resp = await c.submit();
    expect(resp).toMatchObject({ command: 'submit_sm_resp', command_status: Status.ESME_ROK, message_id: 'm1' });
    expect(h.seen[0]!.client.remoteAddress).toBe('127.0.0.1');
  });

  it('a plain-TCP client gets no SMPP session', async () => {
    h = await startListener({ listener: { tls: { cert: certs.serverCert, key: certs.serverKey } } });
    const c = await SmppClient.connect(h.port);
    await expect(c.bind('transceiver')).rejects.toThrow(/closed/);
    expect(h.registry.size).toBe(0);
  });

  it('with client_ca, a client certificate signed by that CA is required', async () => {
    h = await startListener({
      listener: { tls: { cert: certs.serverCert, key: certs.serverKey, client_ca: certs.caCert } },
    });
    const [clientCert, clientKey] = await Promise.all([readFile(certs.clientCert), readFile(certs.clientKey)]);

    // Our own ESME session over a TLS socket that presents the client certificate.
    const socket = tlsConnect({ host: '127.0.0.1', port: h.port, ca, cert: clientCert, key: clientKey });
    const esme = createSession({ socket, role: 'esme' });
    await esme.bind({ type: 'transmitter', system_id: 'acme', password: 'secret' });
    expect(esme.state).toBe('bound_tx');
    await esme.unbind();

    // Without a certificate the server refuses the handshake (with TLS 1.3 the client learns it
    // just after its side finished): the bind never gets an answer, the session closes.
    const anonymous = createSession({ socket: tlsConnect({ host: '127.0.0.1', port: h.port, ca }), role: 'esme' });
    anonymous.on('error', () => {});
    const refused = await anonymous.bind({ type: 'transmitter', system_id: 'acme', password: 'secret' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(SessionError);
    expect((refused as SessionError).code).toBe('CLOSED');
    expect(['socket_error', 'peer_closed']).toContain((await anonymous.closed).reason);
    expect(h.registry.size).toBe(0);
  });

  it('start() rejects when a TLS file cannot be read', async () => {
    await expect(
      startListener({ listener: { tls: { cert: join(dir, 'missing.crt'), key: certs.serverKey } } }),
    ).rejects.toThrow(/ENOENT/);
  });

  it('new TLS files (config reload) serve new connections; a session already bound keeps going', async () => {
    h = await startListener({ listener: { tls: { cert: certs.serverCert, key: certs.serverKey } } });
    const before = await h.client({ ca });
    expect(await before.bind('transceiver')).toBe(Status.ESME_ROK);

    const otherDir = await mkdtemp(join(tmpdir(), 'smppd-tls-rotated-'));
    try {
      const rotated = await makeTestCertificates(otherDir);
      const rotatedCa = await readFile(rotated.caCert);
      const listener = ConfigSchema.parse({
        listeners: [{ name: 'test', address: '127.0.0.1:0', tls: { cert: rotated.serverCert, key: rotated.serverKey } }],
      }).listeners[0]!;
      const address = await h.listener.update(listener);
      expect(address?.port).toBe(h.port); // same socket: no re-open for new files

      const after = await h.client({ ca: rotatedCa });
      expect(await after.bind('transceiver')).toBe(Status.ESME_ROK);
      // The old CA no longer verifies the server.
      await expect(h.client({ ca })).rejects.toThrow();
      expect((await before.submit()).command_status).toBe(Status.ESME_ROK);
    } finally {
      await rm(otherDir, { recursive: true, force: true });
    }
  });
});
