import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { runBench } from '../e2e/bench/index.js';
import { startNode, type NodeChild } from '../e2e/bench/processes.js';
import { startSimulator, type Simulator } from '../e2e/sim/index.js';

// The relay runs built (npm test builds first), as `npm run bench` runs it.
const RELAY_MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../dist/bench/relay.js');

let sim: Simulator | undefined;
let relay: NodeChild | undefined;

afterEach(async () => {
  await relay?.stop();
  await sim?.close();
  relay = sim = undefined;
});

describe('the reference relay of npm run bench', () => {
  it('relays every submit_sm to the simulator over its upstream sessions and every response back', async () => {
    sim = await startSimulator({ seed: 3 });
    relay = startNode(RELAY_MAIN, ['0', `127.0.0.1:${sim.port}`, '3']);
    const port = Number((await relay.waitForLine(/relay listening on \S+:(\d+)/, 10_000))[1]);

    const r = await runBench({ port, count: 3000, binds: 2, window: 50 });

    expect(r).toMatchObject({ sent: 3000, responses: 3000, ok: 3000, failures: {} });
    expect(sim.stats()).toMatchObject({ submitSm: 3000, binds: 3 });
  });
});
