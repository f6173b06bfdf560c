// Builds the workspaces in dependency order: the libraries with tsc, then the dashboard with Vite.
// tsc builds are incremental; the dashboard is rebuilt only when one of its inputs is newer than its output.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const libraries = ['protocol', 'client', 'server', 'react'];

function run(command, args) {
  const result = spawnSync(command, args, { stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`build failed: ${command} ${args.join(' ')}`);
    process.exit(result.status ?? 1);
  }
}

function newestMtime(path) {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) {
    if (entry === 'node_modules' || entry === 'dist') continue;
    newest = Math.max(newest, newestMtime(join(path, entry)));
  }
  return newest;
}

for (const name of libraries) run('npx', ['tsc', '-p', `packages/${name}/tsconfig.build.json`]);

const dashboardInputs = [
  'apps/dashboard',
  'packages/react/src',
  'packages/client/src',
  'packages/protocol/src',
];
const dashboardOutput = 'apps/dashboard/dist/index.html';
if (existsSync('apps/dashboard/index.html')) {
  const stale =
    !existsSync(dashboardOutput) ||
    Math.max(...dashboardInputs.map(newestMtime)) > statSync(dashboardOutput).mtimeMs;
  if (stale) run('npm', ['run', 'build', '--silent', '-w', '@livedash/dashboard']);
}
