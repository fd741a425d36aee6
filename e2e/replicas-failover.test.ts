// Issue 5 acceptance, a replica killed (kill -9) in the middle of a run: three smppd processes on one
// private redis-server, a simulator sending each receipt on a random replica's upstream session.
// Every receipt still reaches the client. Duplicates may only come from what was in flight at the
// kill, and each is accounted for: either the simulator sent the receipt again (its deliver_sm to the
// dead replica failed: receiptsFailed) or a replica handed out a kept delivery that had been claimed
// before (smppd_deliveries_redelivered_total: the dead replica's claims, after their lease), or a held
// receipt the dead replica had taken for its message (smppd_dlr_orphan_reclaimed_total). The replica
// killed is, in turn, a bystander, the one the client's receiver is bound to, and the one its
// transmitter submits through.

import { expect, it } from 'vitest';
import { Status } from '../proxy/smpp/index.js';
import type { Simulator } from './sim/index.js';
import { connectClient, destinations, receiptIds, submitSm, tally, type EsmeClient } from './helpers/receipts-client.js';
import { eventually } from './helpers/receipts-proxy.js';
import { metric, replicaSuite, type Replica, type Replicas } from './helpers/replicas.js';

const COUNT = 20_000;
/** Kill when this many receipts reached the client: mid-run. */
const KILL_AFTER = 6_000;

const suite = replicaSuite();
const cleanup = suite.cleanup;

function setUp(): Promise<{ sim: Simulator; replicas: Replicas }> {
  return suite.simulatorWithReplicas({ seed: 7, dlrSession: 'random', dlrDelayMs: 5 });
}

function receiptIdsOf(clients: readonly EsmeClient[]): string[] {
  return clients.flatMap((c) => c.deliveries.map((d) => receiptIds(d).tlv ?? receiptIds(d).text ?? '?'));
}

async function killNine(r: Replica): Promise<void> {
  const exited = new Promise((resolve) => r.process.child.once('exit', resolve));
  r.process.child.kill('SIGKILL');
  await exited;
}

/** Waits until the clients together have a receipt for every id; returns the extra copies. */
async function expectEveryReceipt(
  sim: Simulator,
  clients: readonly EsmeClient[],
  given: readonly string[],
  timeoutMs: number,
  alive: readonly Replica[],
): Promise<number> {
  const want = new Set(given);
  const missing = (): string[] => {
    const seen = new Set(receiptIdsOf(clients));
    return [...want].filter((id) => !seen.has(id));
  };
  try {
    await eventually('a receipt for every message', () => missing().length === 0, {
      timeoutMs,
      intervalMs: 100,
      // On a timeout: which ids, and whether the simulator gave up on receipts (receiptAttempts).
      describe: () => {
        const { receiptsSent, receiptsAcked, receiptsFailed, receiptsDropped } = sim.stats();
        return {
          got: receiptIdsOf(clients).length,
          want: want.size,
          missing: missing().slice(0, 5),
          sim: { receiptsSent, receiptsAcked, receiptsFailed, receiptsDropped },
        };
      },
    });
  } catch (err) {
    // Where the missing receipts may be: kept, held or reclaimed on a live replica, or in its log.
    const replicas = await Promise.all(
      alive.map(async (r) => ({
        replica: r.index,
        pending: await metric(r, 'smppd_pending_deliveries'),
        orphansHeld: await metric(r, 'smppd_dlr_orphan_held_total'),
        orphansReclaimed: await metric(r, 'smppd_dlr_orphan_reclaimed_total'),
        redelivered: await metric(r, 'smppd_deliveries_redelivered_total'),
        warnings: r.process.warnings().slice(-5),
      })),
    );
    (err as Error).message += `\nreplicas: ${JSON.stringify(replicas)}`;
    throw err;
  }
  const ids = receiptIdsOf(clients);
  expect(new Set(ids)).toEqual(want); // nothing the client was not given
  return ids.length - want.size;
}

/** What the replicas sent again after another's claim ran out: kept deliveries and held receipts. */
async function redelivered(replicas: readonly Replica[]): Promise<number> {
  let sum = 0;
  for (const r of replicas) {
    sum += await metric(r, 'smppd_deliveries_redelivered_total');
    sum += await metric(r, 'smppd_dlr_orphan_reclaimed_total');
  }
  return sum;
}

it(
  'kill -9 of a third replica mid-run: every receipt delivered, duplicates only from what was in flight at the kill',
  async () => {
    const { sim, replicas } = await setUp();
    const [r1, r2, r3] = replicas.list as [Replica, Replica, Replica];
    const receiver = cleanup.add(await connectClient({ port: r2.smppPort, bindType: 'receiver' }));
    const transmitter = cleanup.add(await connectClient({ port: r1.smppPort, bindType: 'transmitter', window: 200 }));

    const submitted = transmitter.submitMany(destinations(COUNT));
    await receiver.waitDeliveries(KILL_AFTER, 60_000);
    const failedBefore = sim.stats().receiptsFailed;
    await killNine(r3);
    expect(r1.process.alive() && r2.process.alive()).toBe(true);

    const responses = await submitted;
    expect(tally(responses.map((r) => r.command_status))).toEqual(new Map([[Status.ESME_ROK, COUNT]]));
    const extra = await expectEveryReceipt(sim, [receiver], responses.map((r) => r.message_id), 60_000, [r1, r2]);

    const resent = sim.stats().receiptsFailed - failedBefore;
    const reclaimed = await redelivered([r1, r2]);
    console.info(`replicas (c, bystander): ${extra} duplicate(s); simulator resent ${resent}, smppd re-delivered ${reclaimed}`);
    expect(extra).toBeLessThanOrEqual(resent + reclaimed);
  },
  180_000,
);

it(
  "kill -9 of the receiver's replica mid-run: the client binds again on another replica and gets every receipt, the dead replica's claims after their lease",
  async () => {
    const { sim, replicas } = await setUp();
    const [r1, r2, r3] = replicas.list as [Replica, Replica, Replica];
    const first = cleanup.add(await connectClient({ port: r2.smppPort, bindType: 'receiver' }));
    const transmitter = cleanup.add(await connectClient({ port: r1.smppPort, bindType: 'transmitter', window: 200 }));

    const submitted = transmitter.submitMany(destinations(COUNT));
    await first.waitDeliveries(KILL_AFTER, 60_000);
    const failedBefore = sim.stats().receiptsFailed;
    await killNine(r2);
    const second = cleanup.add(await connectClient({ port: r3.smppPort, bindType: 'receiver' }));

    const responses = await submitted;
    expect(tally(responses.map((r) => r.command_status))).toEqual(new Map([[Status.ESME_ROK, COUNT]]));
    const started = performance.now();
    // The dead replica's claims come back when their lease (15 s) runs out, at the next sweep (5 s).
    const extra = await expectEveryReceipt(sim, [first, second], responses.map((r) => r.message_id), 60_000, [r1, r3]);
    const waited = (performance.now() - started) / 1000;

    const resent = sim.stats().receiptsFailed - failedBefore;
    const reclaimed = await redelivered([r1, r3]);
    console.info(
      `replicas (c, receiver's replica): ${extra} duplicate(s); simulator resent ${resent}, smppd re-delivered ${reclaimed}; ` +
        `last receipts ${waited.toFixed(1)} s after the last submit`,
    );
    expect(extra).toBeLessThanOrEqual(resent + reclaimed);
  },
  180_000,
);

it(
  'kill -9 of the submitting replica mid-run: every message it acknowledged gets its receipt; submits it never answered fail on the client',
  async () => {
    const { sim, replicas } = await setUp();
    const [r1, r2] = replicas.list as [Replica, Replica, Replica];
    const receiver = cleanup.add(await connectClient({ port: r2.smppPort, bindType: 'receiver' }));
    const transmitter = cleanup.add(await connectClient({ port: r1.smppPort, bindType: 'transmitter', window: 200 }));

    // Each submit on its own: the kill cuts the connection, and what was not answered by then fails.
    const acknowledged: string[] = [];
    for (const d of destinations(COUNT)) {
      transmitter.session.request(submitSm(d)).then(
        (r) => {
          if (r.command_status === Status.ESME_ROK) acknowledged.push(r.message_id);
        },
        () => undefined,
      );
    }
    await receiver.waitDeliveries(KILL_AFTER, 60_000);
    const closed = new Promise((resolve) => transmitter.session.once('close', resolve));
    await killNine(r1);
    await closed; // no answer can come after this
    const answered = acknowledged.length;
    expect(answered).toBeGreaterThanOrEqual(KILL_AFTER);
    expect(answered).toBeLessThan(COUNT); // the kill came mid-run

    // Every acknowledged message has its record in Redis: its receipt comes, whichever replica's
    // upstream session the simulator sends it on. Messages the SMSC accepted and r1 recorded but died
    // before answering get receipts too: ids the client never saw, at most its window's worth.
    // A receipt that came before its message's record was held; r1 took it for the message before
    // answering ESME_ROK, and may have died before it kept or delivered it: it comes back when its
    // lease (the store's, 60 s) runs out, at the next sweep (5 s).
    const want = new Set(acknowledged);
    const missing = (): string[] => {
      const got = new Set(receiptIdsOf([receiver]));
      return [...want].filter((id) => !got.has(id));
    };
    const started = performance.now();
    await eventually('a receipt for every acknowledged message', () => missing().length === 0, {
      timeoutMs: 90_000,
      intervalMs: 100,
      describe: () => ({
        missing: missing().slice(0, 5),
        sim: sim.stats(),
        warnings: replicas.list.slice(1).map((r) => r.process.warnings().slice(-5)),
      }),
    });
    const waited = (performance.now() - started) / 1000;
    const reclaimed = await redelivered(replicas.list.slice(1));
    const unknown = new Set(receiptIdsOf([receiver]).filter((id) => !want.has(id)));
    console.info(
      `replicas (c, submitting replica): ${answered} acknowledged, ${COUNT - answered} unanswered; ` +
        `receipts for ${unknown.size} id(s) the client never got; re-delivered ${reclaimed}; last receipts ${waited.toFixed(1)} s after the kill`,
    );
    expect(unknown.size).toBeLessThanOrEqual(200);
  },
  180_000,
);
