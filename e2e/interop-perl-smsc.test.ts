// smppd's upstream is an SMSC that is not Node: e2e/perl/smsc.pl, Net::SMPP's server side (Debian's
// libnet-smpp-perl), which writes its ids in lowercase hex and sends each receipt as TLVs only. A
// node-smpp client binds to smppd, submits, and gets every receipt carrying the id smppd gave it.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { SmppClient } from '../proxy/listener/testing.js';
import { Status } from '../proxy/smpp/index.js';
import { cleanupList, startProxy } from './helpers/receipts-proxy.js';

const SCRIPT = fileURLToPath(new URL('./perl/smsc.pl', import.meta.url));
const MESSAGES = 10;

const cleanup = cleanupList();
afterEach(() => cleanup.run());

/** The Perl SMSC as a child process: its port, and every `key=value` line it prints. */
async function startPerlSmsc(): Promise<{ port: number; lines: [string, string][]; exited: Promise<unknown>; close(): Promise<void> }> {
  const child = spawn('perl', [SCRIPT], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = once(child, 'exit');
  const lines: [string, string][] = [];
  const port = new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const eq = line.indexOf('=');
      if (eq < 0) return;
      const entry: [string, string] = [line.slice(0, eq), line.slice(eq + 1)];
      lines.push(entry);
      if (entry[0] === 'port') resolve(Number(entry[1]));
    });
    void exited.then(() => reject(new Error(`smsc.pl exited before listening: ${JSON.stringify(lines)}`)));
  });
  return {
    port: await port,
    lines,
    exited,
    async close() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill();
        await exited;
      }
    },
  };
}

it('carries submits and TLV-only receipts between a node-smpp client and a Net::SMPP SMSC (lowercase hex ids)', async () => {
  const smsc = cleanup.add(await startPerlSmsc());
  const proxy = cleanup.add(
    await startProxy({
      listeners: [{ name: 'interop', address: '127.0.0.1:0' }],
      clients: [{ system_id: 'acme', password: 'secret' }],
      clusters: [
        {
          name: 'perl',
          endpoints: [{ address: `127.0.0.1:${smsc.port}`, system_id: 'smppd', password: 'pw', binds: 1, window: 5 }],
          message_id: 'auto',
        },
      ],
      routes: [{ name: 'all', match: {}, cluster: 'perl' }],
    }),
  );
  const client = cleanup.add(await SmppClient.connect(proxy.port));
  expect(await client.bind('transceiver', 'acme', 'secret')).toBe(Status.ESME_ROK);

  const resps = await Promise.all(
    Array.from({ length: MESSAGES }, (_, i) => client.submit({ destination_addr: `2588410000${String(i).padStart(2, '0')}`, short_message: `perl ${i}` })),
  );
  const ids = resps.map((r) => {
    expect(r.command_status).toBe(Status.ESME_ROK);
    return r.message_id as string;
  });
  expect(new Set(ids).size).toBe(MESSAGES);

  // Every receipt carries, in receipted_message_id, the id smppd gave; its text stays empty.
  await client.waitDelivered(MESSAGES);
  expect(client.delivered.map((r) => r.receipted_message_id).sort()).toEqual([...ids].sort());
  for (const receipt of client.delivered) {
    expect(Number(receipt.esm_class) & 0x3c).toBe(0x04);
    expect(receipt.message_state).toBe(2);
  }
  // Each receipt went to the client that sent its message: the destination is its source.
  const destinationOf = new Map(resps.map((r, i) => [r.message_id as string, `2588410000${String(i).padStart(2, '0')}`]));
  for (const receipt of client.delivered) expect(receipt.source_addr).toBe(destinationOf.get(receipt.receipted_message_id as string));

  // Stopping smppd unbinds its upstream session: the SMSC saw everything in order and exits.
  await client.close();
  await proxy.stop();
  await smsc.exited;
  const facts = smsc.lines;
  expect(facts).toContainEqual(['bind_system_id', 'smppd']);
  expect(facts).toContainEqual(['bind_password', 'pw']);
  // `submit=<its id> <the text>`: each message reached it as the client wrote it.
  const submitted = facts.filter(([k]) => k === 'submit').map(([, v]) => v.slice(v.indexOf(' ') + 1));
  expect(submitted.sort()).toEqual(Array.from({ length: MESSAGES }, (_, i) => `perl ${i}`).sort());
  expect(facts.filter(([k]) => k === 'deliver_sm_resp')).toEqual(Array.from({ length: MESSAGES }, () => ['deliver_sm_resp', '0']));
  expect(facts).toContainEqual(['unbound', '1']);
  expect(facts.filter(([k]) => k === 'other_cmd' || k === 'error')).toEqual([]);
});
