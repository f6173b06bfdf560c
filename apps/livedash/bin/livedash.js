#!/usr/bin/env node
// The `livedash` command. An installed package runs its built CLI (dist/cli.js). In a clone of the
// livedash repository dist/ is not committed, so the command first builds whatever is missing or out of
// date with the repository's scripts/build.mjs (quietly: only a failure prints), and `npx livedash`
// works right after `npm install`.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const workspaceRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** True when this file is apps/livedash/bin of a livedash checkout (not a package installed elsewhere). */
function inLivedashCheckout() {
  try {
    const manifest = JSON.parse(readFileSync(`${workspaceRoot}package.json`, 'utf8'));
    return manifest.name === 'livedash-workspace' && existsSync(`${workspaceRoot}scripts/build.mjs`);
  } catch {
    return false;
  }
}

if (inLivedashCheckout()) {
  // `serve` shows the dashboard, so it needs the dashboard's build too; the other commands do not.
  const target = process.argv[2] === 'serve' ? [] : ['--cli'];
  const build = spawnSync(process.execPath, [`${workspaceRoot}scripts/build.mjs`, '--quiet', ...target], {
    cwd: workspaceRoot,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (build.status !== 0) {
    console.error('livedash: building the workspace failed (above); `npm run build` shows it again');
    process.exit(1);
  }
}

await import('../dist/cli.js');
