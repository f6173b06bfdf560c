import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { validateDashboardConfig } from '@livedash/dashboard-config';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import {
  dashboardFileSchema,
  dashboardJsonSchema,
} from '../../../packages/dashboard-config/schemas/dashboard-schema.js';
import { configFileJsonSchema } from '../schemas/config-json-schema.js';
import { validateConfig } from '../src/config-file.js';
import { configFileSchema } from '../src/config-file-schema.js';

/**
 * The JSON Schemas editors use for `livedash.config.json` and dashboard files: committed files equal
 * what `scripts/json-schemas.mjs` generates from the zod schemas, and every config and dashboard file
 * in the repository names its schema with `$schema` and passes it, the zod schema and the server's
 * own check.
 */

const root = fileURLToPath(new URL('../../../', import.meta.url));
const CONFIG_SCHEMA = join(root, 'apps/livedash/schemas/livedash.config.schema.json');
const DASHBOARD_SCHEMA = join(root, 'packages/dashboard-config/schemas/dashboard.schema.json');
const readJson = (path: string): unknown => JSON.parse(readFileSync(path, 'utf8'));

const ajv = new Ajv2020({ allErrors: true, strict: true });
const checkConfig = ajv.compile(readJson(CONFIG_SCHEMA) as object);
const checkDashboard = ajv.compile(readJson(DASHBOARD_SCHEMA) as object);

/** Every JSON file of the repository that is a config file or a dashboard, outside dependencies and builds. */
function repositoryFiles(): { path: string; kind: 'config' | 'dashboard' }[] {
  const found: { path: string; kind: 'config' | 'dashboard' }[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (['node_modules', 'dist', '.git', 'schemas'].includes(entry.name)) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.json')) {
        if (/^livedash\.config.*\.json$/.test(entry.name)) found.push({ path, kind: 'config' });
        else if (readFileSync(path, 'utf8').includes('"panels"')) found.push({ path, kind: 'dashboard' });
      }
    }
  };
  walk(root);
  return found;
}

describe('the committed JSON Schemas', () => {
  it('equal what scripts/json-schemas.mjs generates from the zod schemas (run it after changing an option)', () => {
    expect(readJson(CONFIG_SCHEMA), 'run node scripts/json-schemas.mjs').toEqual(configFileJsonSchema());
    expect(readJson(DASHBOARD_SCHEMA), 'run node scripts/json-schemas.mjs').toEqual(dashboardJsonSchema());
  });

  it('refuse what the server refuses, so an editor underlines it', () => {
    expect(checkConfig({ limits: { maxHeaders: 1 } })).toBe(false);
    expect(checkConfig({ prot: 8080 })).toBe(false);
    expect(checkConfig({ publishToken: 'secret' })).toBe(false);
    expect(checkConfig({ history: [{ pattern: '*', maxAge: 'five minutes' }] })).toBe(false);
    expect(checkConfig({ $schema: './x.json', port: 8080, limits: { maxHeaders: 8 } })).toBe(true);
    const panel = { type: 'stat', channel: 'shop', field: 'open' };
    expect(checkDashboard({ panels: [panel] })).toBe(true);
    expect(checkDashboard({ panels: [{ ...panel, width: 5 }] })).toBe(false);
    expect(checkDashboard({ panels: [{ ...panel, type: 'pie' }] })).toBe(false);
    expect(checkDashboard({ panels: [{ ...panel, field: 'disk..use' }] })).toBe(false);
    expect(checkDashboard({ panels: [{ ...panel, limit: 5 }] })).toBe(false);
  });
});

describe('every config and dashboard file in the repository', () => {
  const files = repositoryFiles();

  it('finds the example config and the example dashboards', () => {
    const names = files.map(({ path }) => relative(root, path));
    expect(names).toContain('livedash.config.example.json');
    expect(names).toContain('examples/service-health/dashboard.json');
    expect(names.filter((name) => name.startsWith('examples/scrape-node-app/')).length).toBeGreaterThan(0);
  });

  for (const { path, kind } of files) {
    const name = relative(root, path);
    it(`${name} names its JSON Schema and passes it, the zod schema and the server's check`, () => {
      const json = readJson(path) as Record<string, unknown>;
      expect(typeof json.$schema, `${name} has no $schema`).toBe('string');
      const schemaPath = resolve(dirname(path), json.$schema as string);
      if (kind === 'config') {
        expect(schemaPath).toBe(CONFIG_SCHEMA);
        expect(checkConfig(json), JSON.stringify(checkConfig.errors)).toBe(true);
        expect(configFileSchema.safeParse(json).success).toBe(true);
        // Files the config names are the user's; the check of everything else is the server's.
        expect(validateConfig(json, dirname(path))).toMatchObject({ ok: true });
      } else {
        expect(schemaPath).toBe(DASHBOARD_SCHEMA);
        expect(checkDashboard(json), JSON.stringify(checkDashboard.errors)).toBe(true);
        expect(dashboardFileSchema.safeParse(json).success).toBe(true);
        expect(validateDashboardConfig(json)).toMatchObject({ ok: true });
      }
    });
  }
});
