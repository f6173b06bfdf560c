import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, test } from 'vitest';

const script = fileURLToPath(new URL('../scripts/bundle-size.mjs', import.meta.url));

test('the browser build of LiveClient with all transports is under 10 KB minified and gzipped', async () => {
  const { stdout } = await promisify(execFile)(process.execPath, [script], { timeout: 60_000 }).catch(
    (error: { stdout?: string; stderr?: string }) => {
      // The script exits 1 when over budget; its measurement is still on stdout.
      if (error.stdout) return { stdout: error.stdout };
      throw error;
    },
  );
  const sizes = JSON.parse(stdout) as {
    liveClient: { minified: number; gzipped: number; lazy: { gzipped: number } };
    worker: { gzipped: number };
  };
  expect(sizes.liveClient.minified).toBeGreaterThan(5_000); // it really bundled the client
  expect(sizes.liveClient.gzipped).toBeLessThan(10 * 1024);
  // Worker mode's page side is a chunk of its own, loaded only when a worker is used; the worker
  // script is a file of its own.
  expect(sizes.liveClient.lazy.gzipped).toBeGreaterThan(300);
  expect(sizes.worker.gzipped).toBeGreaterThan(5_000);
}, 60_000);
