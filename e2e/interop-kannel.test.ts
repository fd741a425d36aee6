// Interop with Kannel (Debian's `kannel`: bearerbox + smsbox), the open-source gateway many SMS
// platforms run, as smppd's client: bearerbox binds to smppd as a transceiver, a message goes in
// through smsbox's HTTP sendsms, and its delivery receipt comes back to Kannel, which must match it
// to the message it sent by the id smppd gave it (its DLR store is keyed by the submit_sm_resp id),
// then call the message's dlr-url. The SMSC behind smppd is smppd-sim with hex ids, so a receipt
// only matches if smppd rewrote it. A second test sends a long message, which Kannel splits into
// concatenated parts (UDH), and a UCS-2 one; a third sends Kannel an MO message and its reply back.

import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { freePort } from './bench/processes.js';
import { startSimulator } from './sim/index.js';
import { cleanupList, eventually, simProxyConfig, startProxy, type RunningProxy } from './helpers/receipts-proxy.js';
import { Status, type PduOf } from '../proxy/smpp/index.js';
import type { SubmitEvent } from './sim/index.js';

const cleanup = cleanupList();
afterEach(() => cleanup.run());

/** A Kannel box as a child process; stop() ends it (SIGTERM, then SIGKILL). */
function startBox(binary: string, conf: string): { child: ChildProcess; stop(): Promise<void> } {
  const child = spawn(binary, [conf], { stdio: ['ignore', 'ignore', 'ignore'] });
  return {
    child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** The dlr-url callbacks Kannel makes, as their query parameters. */
async function dlrReceiver(): Promise<{ port: number; calls: URLSearchParams[]; close(): Promise<void> }> {
  const calls: URLSearchParams[] = [];
  const server: Server = createServer((req, res) => {
    calls.push(new URL(req.url ?? '/', 'http://x').searchParams);
    res.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { port: address.port, calls, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

interface Kannel {
  /** Sends a message through smsbox's sendsms (its params added to the user's and the numbers). */
  send(params: Record<string, string>): Promise<void>;
  /** What the boxes logged, for a timeout's message. */
  logs(): string;
}

/**
 * bearerbox bound to smppd as the client `kannel`, and smsbox with a sendsms user that may split a
 * long message into up to 5 parts (concatenated, with a UDH each).
 */
async function startKannel(smppd: RunningProxy): Promise<Kannel> {
  const dir = await mkdtemp(join(tmpdir(), 'smppd-kannel-'));
  cleanup.add({ close: () => rm(dir, { recursive: true, force: true }) });
  const [adminPort, boxPort, sendsmsPort] = [await freePort(), await freePort(), await freePort()];
  const conf = join(dir, 'kannel.conf');
  await writeFile(
    conf,
    [
      'group = core',
      `admin-port = ${adminPort}`,
      'admin-password = admin',
      'admin-interface = 127.0.0.1',
      `smsbox-port = ${boxPort}`,
      'box-allow-ip = 127.0.0.1',
      'dlr-storage = internal',
      `log-file = "${join(dir, 'bearerbox.log')}"`,
      'log-level = 0',
      '',
      'group = smsc',
      'smsc = smpp',
      'smsc-id = smppd',
      'host = 127.0.0.1',
      `port = ${smppd.port}`,
      'transceiver-mode = true',
      'smsc-username = kannel',
      'smsc-password = kpw',
      'system-type = kannel',
      '',
      'group = smsbox',
      'bearerbox-host = 127.0.0.1',
      `bearerbox-port = ${boxPort}`,
      `sendsms-port = ${sendsmsPort}`,
      'sendsms-interface = 127.0.0.1',
      `log-file = "${join(dir, 'smsbox.log')}"`,
      'log-level = 0',
      '',
      'group = sendsms-user',
      'username = tester',
      'password = tpw',
      'max-messages = 5',
      'concatenation = true',
      '',
      'group = sms-service',
      'keyword = default',
      'text = "ok"',
      '',
    ].join('\n'),
  );
  const logs = (): string => {
    const read = (name: string): string => {
      try {
        return readFileSync(join(dir, name), 'utf8').slice(-3000);
      } catch {
        return '(none)';
      }
    };
    return `--- bearerbox.log\n${read('bearerbox.log')}\n--- smsbox.log\n${read('smsbox.log')}`;
  };
  const bearerbox = cleanup.add(startBox('/usr/sbin/bearerbox', conf));
  // A box that cannot start (a config it refuses) exits at once: say why instead of waiting.
  const running = (box: { child: ChildProcess }, name: string): void => {
    if (box.child.exitCode !== null) throw new Error(`${name} exited with ${box.child.exitCode}\n${logs()}`);
  };
  await eventually('bearerbox bound to smppd', () => {
    running(bearerbox, 'bearerbox');
    return smppd.proxy.registry.sessions().some((s) => s.systemId === 'kannel');
  }, {
    timeoutMs: 15_000,
    describe: logs,
  });
  const smsbox = cleanup.add(startBox('/usr/sbin/smsbox', conf));

  return {
    logs,
    async send(params) {
      const url = new URL(`http://127.0.0.1:${sendsmsPort}/cgi-bin/sendsms`);
      for (const [k, v] of Object.entries({ username: 'tester', password: 'tpw', from: '258820000001', to: '258841234567', ...params })) {
        url.searchParams.set(k, v);
      }
      // smsbox answers 202 "Sent." once it passed the message to bearerbox; it may not listen yet.
      let answer = '';
      await eventually(
        'smsbox takes the message',
        async () => {
          running(smsbox, 'smsbox');
          const res = await fetch(url).catch(() => undefined);
          answer = res === undefined ? 'no answer' : `${res.status} ${await res.text()}`;
          return res !== undefined && res.status < 300;
        },
        { timeoutMs: 15_000, intervalMs: 200, describe: () => `${answer}\n${logs()}` },
      );
    },
  };
}

/** Kannel may bind as a transceiver, and MO to 258840005 is its (an sms-service answers them). */
function kannelProxyConfig(simPort: number): object {
  return simProxyConfig(simPort, {
    clients: [{ system_id: 'kannel', password: 'kpw', bind_types: ['transceiver'], mo_addresses: ['258840005'] }],
  });
}

it('Kannel binds as a transceiver, sends through smppd and matches the receipt smppd rewrote to its own id', async () => {
  const sim = cleanup.add(await startSimulator({ seed: 21, ids: 'hex', receipts: 'text', dlrDelayMs: 50 }));
  const upstreamIds: string[] = [];
  sim.on('submit', (e) => upstreamIds.push(e.messageId));
  const smppd = cleanup.add(await startProxy(kannelProxyConfig(sim.port)));
  const dlr = cleanup.add(await dlrReceiver());
  const kannel = await startKannel(smppd);

  // %d: the report type (8 accepted by the SMSC, 1 delivered); %F: the SMSC's id for the message,
  // here smppd's (what Kannel's DLR store is keyed by).
  await kannel.send({ text: 'hello from kannel', 'dlr-mask': '31', 'dlr-url': `http://127.0.0.1:${dlr.port}/dlr?type=%d&id=%F` });

  await eventually('the delivered report reaches the dlr-url', () => dlr.calls.some((c) => c.get('type') === '1'), {
    timeoutMs: 15_000,
    describe: () => ({ calls: dlr.calls.map(String), upstreamIds, logs: kannel.logs() }),
  });
  console.info(`kannel dlr-url calls: ${dlr.calls.map(String).join(' ')}; simulator id ${upstreamIds.join()}`);
  const accepted = dlr.calls.find((c) => c.get('type') === '8');
  const delivered = dlr.calls.find((c) => c.get('type') === '1');
  expect(upstreamIds).toHaveLength(1);
  const id = delivered?.get('id');
  expect(id).toMatch(/^[0-9a-z]{15,25}$/); // smppd's id (message-id.ts), not the simulator's hex id
  expect(id).not.toBe(upstreamIds[0]);
  expect(accepted?.get('id')).toBe(id);
}, 60_000);

it('a long message Kannel splits (UDH) reaches the SMSC whole, every part on one upstream session; UCS-2 text arrives intact', async () => {
  const sim = cleanup.add(await startSimulator({ seed: 22, ids: 'hex', receipts: 'text', dlrDelayMs: 50 }));
  const submits: SubmitEvent[] = [];
  sim.on('submit', (e) => submits.push(e));
  // Two upstream sessions (simProxyConfig's binds: 2): parts of one message must not be spread.
  const smppd = cleanup.add(await startProxy(kannelProxyConfig(sim.port)));
  const kannel = await startKannel(smppd);

  const long = Array.from({ length: 40 }, (_, i) => `word${i}`).join(' '); // 269 GSM characters: 2 parts
  await kannel.send({ text: long });
  await eventually('both parts reach the SMSC', () => submits.length >= 2, { timeoutMs: 15_000, describe: () => ({ submits: submits.length, logs: kannel.logs() }) });
  const parts = submits.map((e) => e.pdu as PduOf<'submit_sm'>);
  expect(parts).toHaveLength(2);
  expect(new Set(submits.map((e) => e.sessionId)).size).toBe(1);
  // Each part: UDHI set, a concatenation UDH (IEI 0x00: ref, total 2, its number), then its text.
  const pieces = parts.map((p) => {
    expect(p.esm_class & 0x40).toBe(0x40);
    const sm = p.short_message;
    expect([sm[0], sm[1], sm[2], sm[4]]).toEqual([5, 0, 3, 2]);
    return { ref: sm[3], seq: sm[5]!, text: sm.subarray(6).toString('latin1') };
  });
  expect(pieces[0]!.ref).toBe(pieces[1]!.ref);
  expect(pieces.sort((a, b) => a.seq - b.seq).map((p) => p.text).join('')).toBe(long);
  expect(submits.every((e) => e.status === Status.ESME_ROK)).toBe(true);

  // UCS-2: Kannel sends coding 2 as data_coding 8, UTF-16BE; smppd passes the bytes unchanged.
  const ucs2 = 'Olá, 你好 — ok';
  await kannel.send({ text: ucs2, coding: '2', charset: 'UTF-8' });
  await eventually('the UCS-2 message reaches the SMSC', () => submits.length >= 3, { timeoutMs: 15_000, describe: kannel.logs });
  const third = submits[2]!.pdu as PduOf<'submit_sm'>;
  expect(third.data_coding).toBe(8);
  expect(third.short_message.swap16().toString('utf16le')).toBe(ucs2);
}, 60_000);

it("an MO message reaches Kannel through smppd, and Kannel's sms-service reply comes back out to the SMSC", async () => {
  const sim = cleanup.add(await startSimulator({ seed: 23, ids: 'hex', receipts: 'text', dlrDelayMs: 50 }));
  const submits: SubmitEvent[] = [];
  sim.on('submit', (e) => submits.push(e));
  const smppd = cleanup.add(await startProxy(kannelProxyConfig(sim.port)));
  const kannel = await startKannel(smppd);
  // A message through sendsms first: smsbox is up and connected to bearerbox before the MO comes.
  await kannel.send({ text: 'warm-up' });
  await eventually('the warm-up message reaches the SMSC', () => submits.length === 1, { timeoutMs: 15_000, describe: kannel.logs });

  // The SMSC sends MO to 258840005 (smppd gives it to its client, Kannel); the sms-service
  // `default` answers it with the text "ok", back to the sender, through smppd.
  expect(await sim.sendMo({ source: '258821112222', destination: '258840005', text: 'hello kannel' })).toBe(Status.ESME_ROK);
  await eventually('the reply reaches the SMSC', () => submits.length === 2, { timeoutMs: 15_000, describe: kannel.logs });
  const reply = submits[1]!.pdu as PduOf<'submit_sm'>;
  expect(reply).toMatchObject({ destination_addr: '258821112222', source_addr: '258840005' });
  expect(reply.short_message.toString('latin1')).toBe('ok');
}, 60_000);
