// SPEC §4 "Bad bytes" against the real smppd process (dist/proxy/main.js, spawned): 1 MB of random
// bytes over client connections, plus random frames of sane length inside a bound session, while
// another client keeps submitting and a third binds mid-attack. The process stays up, still accepts
// binds, and the other clients get ESME_ROK for every submit throughout.

import { randomBytes, randomInt } from 'node:crypto';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SmppClient } from '../proxy/listener/testing.js';
import { Status } from '../proxy/smpp/index.js';
import { responseProblems, submitWindowed } from './helpers/dataplane-load.js';
import { buildIfStale, spawnSmppd, type SmppdProcess } from './helpers/dataplane-process.js';

let smppd: SmppdProcess;
let port: number;
const clients: SmppClient[] = [];

async function bound(systemId = 'acme'): Promise<SmppClient> {
  const c = await SmppClient.connect(port);
  clients.push(c);
  expect(await c.bind('transceiver', systemId, 'secret')).toBe(Status.ESME_ROK);
  return c;
}

/** Writes `data` on a fresh unbound connection, ends it, and waits until the connection is gone. */
async function spray(data: Buffer): Promise<void> {
  const socket = net.connect({ host: '127.0.0.1', port });
  socket.on('error', () => {}); // smppd may reset the connection mid-write: that is its right
  // Read (and drop) smppd's generic_nacks: a peer that never reads is pushed back on, and would then
  // never have its end of the connection read.
  socket.resume();
  const closed = new Promise((resolve) => socket.once('close', resolve));
  socket.end(data);
  await closed;
}

// Request command ids smppd knows (unbind left out: it would just end the attacker's session),
// given random bodies; the rest of the frames carry random command ids.
const KNOWN_IDS = [0x01, 0x02, 0x03, 0x04, 0x05, 0x07, 0x08, 0x09, 0x0b, 0x15, 0x21, 0x103, 0x80000000, 0x80000004];

/** `total` bytes of frames with a sane command_length (16..300) and random content. */
function randomFrames(total: number): Buffer {
  const frames: Buffer[] = [];
  let size = 0;
  while (size < total) {
    const length = randomInt(16, 301);
    const frame = randomBytes(length);
    frame.writeUInt32BE(length, 0);
    if (randomInt(2) === 0) frame.writeUInt32BE(KNOWN_IDS[randomInt(KNOWN_IDS.length)]!, 4);
    frames.push(frame);
    size += length;
  }
  return Buffer.concat(frames);
}

beforeAll(async () => {
  await buildIfStale();
  smppd = await spawnSmppd({
    listeners: [{ name: 'main', address: '127.0.0.1:0' }],
    clients: [
      { system_id: 'acme', password: 'secret' },
      { system_id: 'mallory', password: 'secret' },
    ],
    clusters: [{ name: 'mock', mock: { latency: '1ms', dlr: 'none' } }],
    routes: [{ name: 'all', cluster: 'mock' }],
    admin: { address: '127.0.0.1:0' },
    shutdown: { drain_timeout: '1s' },
  });
  port = smppd.ports.get('main')!;
}, 120_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await smppd?.stop();
});

describe('bad bytes against the smppd process', () => {
  it('1 MB of random bytes: the process stays up and a bound client keeps getting ESME_ROK', async () => {
    const victim = await bound('acme');
    const mallory = await bound('mallory');
    const pid = smppd.child.pid!;

    let attackDone = false;
    let midAttack: Promise<number[]> | undefined;
    const bindAndSubmit = async (n: number): Promise<number[]> => {
      const c = await bound('acme');
      const statuses: number[] = [];
      for (let i = 0; i < n; i++) statuses.push((await c.submit({ short_message: `mid-${i}` })).command_status);
      return statuses;
    };
    const traffic = submitWindowed(victim, { count: 200, window: 2, max: 100_000, until: () => attackDone });
    traffic.catch(() => {}); // awaited below; a failure must not surface as unhandled first

    const attack = (async () => {
      // 1 MB of raw random bytes, 64 KiB per connection (smppd closes a connection on an impossible
      // length, so the bytes are spread over connections rather than lost on a closed one).
      const junk = randomBytes(1 << 20);
      for (let offset = 0; offset < junk.length; offset += 64 << 10) {
        // Halfway through, a new client binds and submits while the junk keeps coming.
        if (offset === 512 << 10) midAttack = bindAndSubmit(20);
        await spray(junk.subarray(offset, offset + (64 << 10)));
      }
      // Frames that parse as frames but carry random ids and bodies, inside a bound session and
      // before any bind: generic_nack or an error status, never a crash.
      const frames = randomFrames(1 << 20);
      mallory.session.socket.write(frames);
      await spray(randomFrames(128 << 10));
      // An enquire_link answered after all of that: mallory's frames were all read.
      await mallory.request('enquire_link');
    })();
    try {
      await attack;
    } finally {
      attackDone = true;
    }
    const run = await traffic;
    expect(await midAttack).toEqual(new Array(20).fill(Status.ESME_ROK));

    expect(smppd.alive()).toBe(true);
    expect(() => process.kill(pid, 0)).not.toThrow();
    expect(run.sent).toBeGreaterThanOrEqual(200);
    expect(Object.fromEntries(run.statuses)).toEqual({ [Status.ESME_ROK]: run.sent });
    expect(responseProblems(run)).toEqual({ duplicated: [], unanswered: 0 });

    // Still accepting binds, and serving them.
    const late = await bound('acme');
    expect((await late.submit()).command_status).toBe(Status.ESME_ROK);
    expect(smppd.stderr()).not.toMatch(/Error|at .*\.js:\d+/);
  }, 60_000);
});
