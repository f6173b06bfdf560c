import { defineConfig } from 'vitest/config';
import { workspaceAliases } from './vitest.shared.js';

export default defineConfig({
  resolve: { alias: workspaceAliases },
  test: {
    include: ['e2e/**/*.test.ts'],
    // Every run starts here: Chromium (browser tests) and nginx (the load-balancer test) are installed
    // (as root) or the run stops saying what to run.
    globalSetup: ['e2e/setup/chromium.ts', 'e2e/setup/nginx.ts'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // One browser at a time: these tests measure what a user sees, not how many tabs fit on 2 cores.
    fileParallelism: false,
  },
});
