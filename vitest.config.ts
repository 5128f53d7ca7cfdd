import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts', 'test/replay/**/*.test.ts'],
          environment: 'node',
          setupFiles: ['test/setup-logging.ts'],
          // Much of the tier waits on Temporal's time-skipping server (a JVM per workflow file), so
          // two files at a time pay even on two cores, where vitest's default would be one.
          maxWorkers: Math.max(2, availableParallelism() - 1),
          // Files share a worker process's modules instead of importing Temporal's SDK, Express
          // and the cloud clients afresh each (about a minute of the tier's time on two cores).
          // Safe while no unit file mocks modules (vi.mock), fakes timers or changes globals
          // without restoring them: each file still gets its own test server, API and catalog.
          isolate: false,
        },
      },
      {
        test: {
          name: 'integration',
          // test/browser: the dashboard (web/dist) in headless Chromium against the real API,
          // worker and observer, on the same Temporal server and fleet.
          include: ['test/integration/**/*.test.ts', 'test/browser/**/*.test.ts'],
          environment: 'node',
          // leak-setup: every secret stored and token issued is a canary of the leak scan (test/leak-scan/).
          setupFiles: ['test/setup-logging.ts', 'test/support/leak-setup.ts'],
          globalSetup: ['test/integration/global-setup.ts'],
          testTimeout: 300_000,
          hookTimeout: 300_000,
          // The real servers are shared; the fleet is sized for two cores.
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'faults',
          include: ['test/faults/**/*.test.ts'],
          environment: 'node',
          setupFiles: ['test/setup-logging.ts'],
          // Its own Temporal server (it restarts it) and its own fleet behind Toxiproxy.
          testTimeout: 1_800_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
