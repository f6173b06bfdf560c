// Builds the workspaces in dependency order: the libraries and the livedash app with tsc, then the
// dashboard with Vite. Each step runs only when one of its inputs is newer than its output, so a build
// with nothing to do takes milliseconds (`npm start` and the `livedash` command run this every time).
//
//   node scripts/build.mjs            everything `npm start` serves
//   node scripts/build.mjs --cli      only what the `livedash` command needs (no dashboard)
//   --quiet                           one line on stderr when something is built, the whole output of a
//                                     step only when it fails
//
// Builds of one checkout take turns through a lock, so two at once (two test files, a test and
// `npm start`) never write the same dist/ files together.
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = new Set(process.argv.slice(2));
const quiet = args.has('--quiet');
const cliOnly = args.has('--cli');

/** tsc projects, each after the ones it imports: protocol ← dashboard-config, client, server ← react, app. */
const tscProjects = [
  'packages/protocol',
  'packages/dashboard-config',
  'packages/client',
  'packages/server',
  'packages/react',
  'apps/livedash',
];
/** What the `livedash` command imports at run time. */
const cliProjects = new Set([
  'packages/protocol',
  'packages/dashboard-config',
  'packages/client',
  'packages/server',
  'apps/livedash',
]);

let announced = false;

function run(what, command, commandArgs) {
  if (quiet && !announced) {
    // A first build takes a while; a silent terminal would look stuck.
    process.stderr.write(
      'livedash: building the workspace (its first run, or sources changed since the last build)…\n',
    );
    announced = true;
  }
  const result = spawnSync(command, commandArgs, {
    cwd: root,
    stdio: quiet ? ['ignore', 'pipe', 'pipe'] : 'inherit',
    encoding: 'utf8',
  });
  if (result.status === 0) return;
  if (quiet) process.stderr.write(`${result.stdout ?? ''}${result.stderr ?? ''}`);
  console.error(`build failed: ${what} (${command} ${commandArgs.join(' ')})`);
  release();
  process.exit(result.status ?? 1);
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

/** A project's own inputs: its sources and the files that configure its build. */
const inputsOf = (project) => [
  join(root, project, 'src'),
  join(root, project, 'package.json'),
  join(root, project, 'tsconfig.build.json'),
  join(root, 'tsconfig.base.json'),
];

// ── the lock ────────────────────────────────────────────────────────────────────
const lockDir = join(root, 'node_modules', '.cache', 'livedash-build.lock');
let locked = false;

function isRunning(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

function acquire() {
  mkdirSync(dirname(lockDir), { recursive: true });
  const deadline = Date.now() + 10 * 60_000;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      mkdirSync(lockDir);
      writeFileSync(join(lockDir, 'pid'), String(process.pid));
      locked = true;
      return;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
    }
    // A build that died without releasing leaves its pid behind: take the lock over.
    let holder = Number.NaN;
    try {
      holder = Number(readFileSync(join(lockDir, 'pid'), 'utf8'));
    } catch {}
    if (Number.isInteger(holder) && !isRunning(holder)) {
      rmSync(lockDir, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) {
      console.error(`build: another build has held ${lockDir} for 10 minutes; remove it if none runs`);
      process.exit(1);
    }
    Atomics.wait(pause, 0, 0, 100);
  }
}

function release() {
  if (locked) rmSync(lockDir, { recursive: true, force: true });
  locked = false;
}

// ── the build ───────────────────────────────────────────────────────────────────
acquire();
try {
  let upstream = 0;
  for (const project of tscProjects) {
    // A project is rebuilt when its inputs, or those of any project built before it, are newer than
    // its last build; tsc's own incremental build then redoes only what changed.
    upstream = Math.max(upstream, ...inputsOf(project).map(newestMtime));
    if (cliOnly && !cliProjects.has(project)) continue;
    const built = join(root, project, 'dist', '.tsbuildinfo');
    if (existsSync(built) && statSync(built).mtimeMs >= upstream) continue;
    run(project, 'npx', ['tsc', '-p', `${project}/tsconfig.build.json`]);
    // tsc leaves its build info alone when nothing changed; touch it so the next check is a stat again.
    if (existsSync(built)) utimesSync(built, new Date(), new Date());
  }

  const dashboardInputs = [
    'apps/dashboard',
    'packages/react/src',
    'packages/client/src',
    'packages/protocol/src',
    'packages/dashboard-config/src',
  ].map((path) => join(root, path));
  const dashboardOutput = join(root, 'apps/dashboard/dist/index.html');
  if (!cliOnly && existsSync(join(root, 'apps/dashboard/index.html'))) {
    const stale =
      !existsSync(dashboardOutput) ||
      Math.max(...dashboardInputs.map(newestMtime)) > statSync(dashboardOutput).mtimeMs;
    if (stale) run('apps/dashboard', 'npm', ['run', 'build', '--silent', '-w', '@livedash/dashboard']);
  }
} finally {
  release();
}
