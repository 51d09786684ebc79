import { fileURLToPath } from 'node:url';

import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: fileURLToPath(new URL('..', import.meta.url)),
    include: ['test/**/*.test.ts'],
    // Deadlines for tests that wait on real servers, not speed limits: a
    // test that hangs fails here instead of blocking CI.
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
