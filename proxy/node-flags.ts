// The V8 flags smppd runs with. The bin's shebang (main.ts) and `npm start` (package.json) pass
// them, and so does the benchmark (bench/run.ts); node-flags.test.ts keeps the three in step.
//
// --max-semi-space-size=12 (MiB; Node 24's default grows to 32): the young generation is what a
// scavenge scans, and what survives it is mostly the store's newest records, which stay for `ttl`.
// The bigger the young generation, the more records each scavenge copies, and the process stops
// for it. Measured, `npm run bench` scenario (d) (p99 at 10,000 msg/s offered, 10 s, this 2-core
// machine): 3.4-5.7 ms (median 4.4, ten runs) at 12 MiB, 3.1-7.3 ms (median 4.4, thirteen runs)
// at 8, 3.7-11.3 ms (median 5.5, eight runs) at 16, 4.0-10.4 ms (median 5.7, five runs) with the
// default; closed-loop throughput within run-to-run noise. 4 MiB was worse (5.7-8.7 ms): scavenges came so often that
// messages in flight were promoted.
export const SMPPD_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=12'];
