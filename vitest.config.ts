// Two projects: pure unit tests, and integration tests against real Redis, SQLite and child processes.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          sequence: { groupOrder: 0 },
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
          // Some unit files run the stand-in trainer or PyYAML in a real Python: seconds each on 2 busy cores.
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'integration',
          sequence: { groupOrder: 1 },
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/helpers/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          // Integration files share one machine with 2 cores; keep parallelism modest.
          maxWorkers: 2,
          // No blanket retry: a test that fails is a failure. The few tests that measure a wall-clock bound of real
          // processes on these 2 shared cores carry their own `retry`, with the reason next to it.
        },
      },
    ],
  },
});
