import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadDashboardConfig } from '../src/dashboard-file.js';

describe('loadDashboardConfig', () => {
  const dir = mkdtempSync(join(tmpdir(), 'livedash-dashboard-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loads a valid file', () => {
    const path = join(dir, 'ok.json');
    writeFileSync(
      path,
      JSON.stringify({ title: 'Sensors', panels: [{ type: 'stat', channel: 's', field: 't' }] }),
    );
    const result = loadDashboardConfig(path);
    expect(result.ok && result.value.title).toBe('Sensors');
  });

  it('names the file for unreadable, malformed and invalid configs', () => {
    const missing = loadDashboardConfig(join(dir, 'missing.json'));
    expect(!missing.ok && missing.error).toMatch(/missing\.json: cannot read the dashboard config/);
    const malformed = join(dir, 'bad.json');
    writeFileSync(malformed, '{"panels": [');
    const parsed = loadDashboardConfig(malformed);
    expect(!parsed.ok && parsed.error).toMatch(/bad\.json: not valid JSON/);
    const invalid = join(dir, 'invalid.json');
    writeFileSync(invalid, JSON.stringify({ panels: [{ type: 'pie' }] }));
    const checked = loadDashboardConfig(invalid);
    expect(!checked.ok && checked.error).toBe(
      `${invalid}: invalid dashboard config\n  panels[0].type: expected one of gauge, timeseries, stat, table, log, alerts, got "pie"`,
    );
  });

  it('validates the example configs shipped in examples/', () => {
    const path = new URL('../../../examples/service-health/dashboard.json', import.meta.url).pathname;
    const result = loadDashboardConfig(path);
    if (!result.ok) throw new Error(result.error);
    expect(result.value.panels.length).toBeGreaterThan(3);
  });
});
