import { defineConfig } from 'vitest/config';

// Integration tests share one MariaDB on a 2-core machine: each file gets its own database,
// files run in parallel processes, a test may take seconds (real servers, real HTTP).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    globalSetup: ['test/helpers/global-setup.ts'],
  },
});
