// Issue 3 acceptance: "At least one client that is not Node ... binds, submits and gets its receipt".
// Perl Net::SMPP (Debian's libnet-smpp-perl) runs e2e/perl/submit-and-wait-receipt.pl as a child
// process against smppd, whose upstream is smppd-sim; the script prints `key=value` lines. A
// second script sends a message in parts tied by SAR TLVs (e2e/perl/submit-sar-parts.pl).

import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, expect, it } from 'vitest';
import { Status } from '../proxy/smpp/index.js';
import { startSimulator } from './sim/index.js';
import { cleanupList, eventually, simProxyConfig, startProxy } from './helpers/receipts-proxy.js';
import type { PduOf } from '../proxy/smpp/index.js';
import type { SubmitEvent } from './sim/index.js';

const run = promisify(execFile);
const SCRIPT = fileURLToPath(new URL('./perl/submit-and-wait-receipt.pl', import.meta.url));
const SAR_SCRIPT = fileURLToPath(new URL('./perl/submit-sar-parts.pl', import.meta.url));

const cleanup = cleanupList();
afterEach(() => cleanup.run());

function parseLines(stdout: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

it('Perl Net::SMPP binds as a transceiver, submits and gets its receipt carrying the id smppd gave it', async () => {
  const sim = cleanup.add(await startSimulator({ seed: 13, ids: 'hex', receipts: 'both', dlrDelayMs: 20 }));
  const upstreamIds: string[] = [];
  sim.on('submit', (e) => upstreamIds.push(e.messageId));
  const { port } = cleanup.add(await startProxy(simProxyConfig(sim.port, { clients: [{ system_id: 'perlclient', password: 'perlpw' }] })));

  const { stdout } = await run('perl', [SCRIPT, '127.0.0.1', String(port), 'perlclient', 'perlpw', '258841234567'], {
    timeout: 25_000,
  });
  const r = parseLines(stdout);

  expect(r).toMatchObject({ bind_status: '0', submit_status: String(Status.ESME_ROK), unbind_status: '0', done: '1' });
  const id = r.message_id!;
  expect(id).toMatch(/^\S{1,64}$/);
  expect(upstreamIds).toHaveLength(1);
  expect(id).not.toBe(upstreamIds[0]); // smppd's id, not the SMSC's

  expect(Number(r.receipt_esm_class) & 0x3c).toBe(0x04);
  expect(r.receipt_text).toMatch(new RegExp(`^id:${id} sub:001 dlvrd:001 submit date:\\d{10} done date:\\d{10} stat:DELIVRD err:000 text:hello from perl`));
  expect(r.receipt_tlv_id).toBe(id);
  expect(r).not.toHaveProperty('skipped_cmd');
});

it('Perl Net::SMPP sends a message in three parts tied by SAR TLVs: all three go to one of two upstream sessions, TLVs intact', async () => {
  const sim = cleanup.add(await startSimulator({ seed: 14, ids: 'hex' }));
  const submits: SubmitEvent[] = [];
  sim.on('submit', (e) => submits.push(e));
  const { port } = cleanup.add(await startProxy(simProxyConfig(sim.port, { clients: [{ system_id: 'perlclient', password: 'perlpw' }] })));
  // Both upstream sessions (simProxyConfig's binds: 2) bound, so that the parts could be spread.
  await eventually('smppd has two sessions to the SMSC', () => sim.stats().bound === 2);

  const { stdout } = await run('perl', [SAR_SCRIPT, '127.0.0.1', String(port), 'perlclient', 'perlpw', '258841234567', '4242'], {
    timeout: 25_000,
  });
  const lines = stdout.trim().split('\n');
  expect(lines.filter((l) => l.startsWith('part_status='))).toEqual(['part_status=0', 'part_status=0', 'part_status=0']);
  expect(new Set(lines.filter((l) => l.startsWith('part_id='))).size).toBe(3);
  expect(parseLines(stdout)).toMatchObject({ bind_status: '0', unbind_status: '0', done: '1' });

  expect(submits).toHaveLength(3);
  expect(new Set(submits.map((e) => e.sessionId)).size).toBe(1);
  const parts = submits.map((e) => e.pdu as PduOf<'submit_sm'>);
  expect(parts.map((p) => [p.tlvs?.sar_msg_ref_num, p.tlvs?.sar_total_segments, p.tlvs?.sar_segment_seqnum])).toEqual([
    [4242, 3, 1],
    [4242, 3, 2],
    [4242, 3, 3],
  ]);
  expect(parts.map((p) => p.short_message.toString('latin1')).join('')).toBe('part one of three, part two of three, part three of three.');
});
