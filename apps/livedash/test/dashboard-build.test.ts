import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import { builtDashboardDir } from '../src/dashboard-build.js';

test('finds the dashboard build through the @livedash/dashboard package when it is built, else nothing', () => {
  const dist = fileURLToPath(new URL('../../dashboard/dist', import.meta.url));
  const built = existsSync(`${dist}/index.html`);
  expect(builtDashboardDir()).toBe(built ? dist : undefined);
});
