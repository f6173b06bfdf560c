#!/usr/bin/env node
// Runs the @livedash/react test suite against React 18 (the workspace itself uses React 19).
// React 18 is installed on its own under react18/ (exact versions, own lockfile), because npm cannot
// hold two majors of react + react-dom side by side in one tree; vitest.react18.config.ts aliases to it.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('..', import.meta.url));
const run = (command, args, options = {}) => {
  const result = spawnSync(command, args, { stdio: 'inherit', cwd: here, ...options });
  if (result.status !== 0) process.exit(result.status ?? 1);
};

if (!existsSync(`${here}/react18/node_modules/react-dom/package.json`)) {
  run('npm', ['ci', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: `${here}/react18` });
}
run('npx', ['vitest', 'run', '--config', 'vitest.react18.config.ts', ...process.argv.slice(2)], {
  env: { ...process.env, LIVEDASH_EXPECT_REACT: '18' },
});
