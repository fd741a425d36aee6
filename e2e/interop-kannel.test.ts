// Interop with Kannel (Debian's `kannel`: bearerbox + smsbox), the open-source gateway many SMS
// platforms run, as smppd's client: bearerbox binds to smppd as a transceiver, a message goes in
// through smsbox's HTTP sendsms, and its delivery receipt comes back to Kannel, which must match it
// to the message it sent by the id smppd gave it (its DLR store is keyed by the submit_sm_resp id),
// then call the message's dlr-url. The SMSC behind smppd is smppd-sim with hex ids, so a receipt
// only matches if smppd rewrote it.

import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { freePort } from './bench/processes.js';
import { startSimulator } from './sim/index.js';
import { cleanupList, eventually, simProxyConfig, startProxy } from './helpers/receipts-proxy.js';

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

it('Kannel binds as a transceiver, sends through smppd and matches the receipt smppd rewrote to its own id', async () => {
  const sim = cleanup.add(await startSimulator({ seed: 21, ids: 'hex', receipts: 'text', dlrDelayMs: 50 }));
  const upstreamIds: string[] = [];
  sim.on('submit', (e) => upstreamIds.push(e.messageId));
  const smppd = cleanup.add(
    await startProxy(simProxyConfig(sim.port, { clients: [{ system_id: 'kannel', password: 'kpw', bind_types: ['transceiver'] }] })),
  );
  const dlr = cleanup.add(await dlrReceiver());

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
      '',
      'group = sms-service',
      'keyword = default',
      'text = "ok"',
      '',
    ].join('\n'),
  );
  // For a timeout's message: what the boxes logged.
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

  // %d: the report type (8 accepted by the SMSC, 1 delivered); %F: the SMSC's id for the message,
  // here smppd's (what Kannel's DLR store is keyed by).
  const dlrUrl = `http://127.0.0.1:${dlr.port}/dlr?type=%d&id=%F`;
  const send = new URL(`http://127.0.0.1:${sendsmsPort}/cgi-bin/sendsms`);
  for (const [k, v] of Object.entries({ username: 'tester', password: 'tpw', from: '258820000001', to: '258841234567' })) send.searchParams.set(k, v);
  send.searchParams.set('text', 'hello from kannel');
  send.searchParams.set('dlr-mask', '31');
  send.searchParams.set('dlr-url', dlrUrl);
  // smsbox answers 202 "Sent." once it passed the message to bearerbox; it may not listen yet.
  let answer = '';
  await eventually(
    'smsbox takes the message',
    async () => {
      running(smsbox, 'smsbox');
      const res = await fetch(send).catch(() => undefined);
      answer = res === undefined ? 'no answer' : `${res.status} ${await res.text()}`;
      return res !== undefined && res.status < 300;
    },
    { timeoutMs: 15_000, intervalMs: 200, describe: () => `${answer}\n${logs()}` },
  );

  await eventually('the delivered report reaches the dlr-url', () => dlr.calls.some((c) => c.get('type') === '1'), {
    timeoutMs: 15_000,
    describe: () => ({ calls: dlr.calls.map(String), upstreamIds, logs: logs() }),
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
