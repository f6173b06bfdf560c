// Writes the JSON Schemas of livedash.config.json and of dashboard files, generated from their zod
// schemas, where the packages ship them and example files point (`$schema`). `--check` writes nothing
// and exits 1 when a committed file differs from what would be generated.
//
//   node scripts/json-schemas.mjs           # after changing an option or the dashboard schema
//   node scripts/json-schemas.mjs --check
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runnerImport } from 'vite';

const root = fileURLToPath(new URL('..', import.meta.url));
const bare = { configFile: false, root, logLevel: 'silent' };
// Workspace packages resolve to their sources, as in the tests: nothing needs building first.
const { module: shared } = await runnerImport(`${root}vitest.shared.ts`, bare);
const config = { ...bare, resolve: { alias: shared.workspaceAliases } };

export const SCHEMAS = [
  {
    file: 'apps/livedash/schemas/livedash.config.schema.json',
    source: 'apps/livedash/schemas/config-json-schema.ts',
    generate: 'configFileJsonSchema',
  },
  {
    file: 'packages/dashboard-config/schemas/dashboard.schema.json',
    source: 'packages/dashboard-config/schemas/dashboard-schema.ts',
    generate: 'dashboardJsonSchema',
  },
];

const check = process.argv.includes('--check');
let stale = 0;
for (const schema of SCHEMAS) {
  const { module } = await runnerImport(`${root}${schema.source}`, config);
  const generated = module[schema.generate]();
  const path = `${root}${schema.file}`;
  let committed;
  try {
    committed = JSON.parse(readFileSync(path, 'utf8'));
  } catch {}
  const same = JSON.stringify(committed) === JSON.stringify(generated);
  if (check) {
    if (!same) {
      console.error(`${schema.file} is out of date: run node scripts/json-schemas.mjs`);
      stale++;
    }
    continue;
  }
  writeFileSync(path, `${JSON.stringify(generated, null, 2)}\n`);
  execFileSync('npx', ['biome', 'format', '--write', path], { cwd: root, stdio: 'ignore' });
  console.log(`${same ? 'unchanged' : 'wrote'} ${schema.file}`);
}
process.exit(stale > 0 ? 1 : 0);
