import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['proxy/**/*.test.ts', 'operator/**/*.test.ts', 'e2e/**/*.test.ts', 'bench/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // 2-core CI machine: e2e tests open real sockets and child processes; keep parallelism modest.
    maxWorkers: 2,
  },
});
