import { defineConfig } from 'vitest/config';

// Integration tests in network namespaces (test/lab/harness/lab.ts). They need root, and they fail (never skip)
// when the lab cannot be built, so a green run proves the lab ran.
export default defineConfig({
  test: {
    include: ['test/lab/**/*.itg.test.ts'],
    // Bundles src/ into .lab-tmp/dist: the lab runs the CLI as users do, from the current source.
    globalSetup: ['test/lab/global-setup.ts'],
    // A black-hole case waits out real TCP retransmission timers; a lab takes ~0.4 s to build.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // One file at a time: labs are isolated from each other, but they share the machine's CPU, and timing
    // assertions (stall vs progress) get unreliable under contention.
    fileParallelism: false,
    // Child processes (servers inside namespaces) are cleaned up on process exit; forks give each file a process.
    pool: 'forks',
  },
});
