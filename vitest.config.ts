import { defineConfig } from 'vitest/config';
import { workspaceAliases } from './vitest.shared.js';

export default defineConfig({
  resolve: { alias: workspaceAliases },
  test: {
    include: ['packages/*/test/**/*.test.{ts,tsx}', 'apps/*/test/**/*.test.{ts,tsx}'],
    // The shared Redis answers before any test starts, or the run stops saying what to run.
    globalSetup: ['packages/server/test/setup/shared-redis.ts'],
    environment: 'node',
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Integration tests start real servers and sockets; on a 2-core machine two workers keep them honest.
    maxWorkers: 2,
  },
});
