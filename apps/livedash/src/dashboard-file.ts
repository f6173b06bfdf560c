import { readFileSync } from 'node:fs';
import { type DashboardConfig, validateDashboardConfig } from '@livedash/dashboard-config';
import type { Result } from '@livedash/protocol';

/**
 * Reads and validates a dashboard config file. Errors start with the file's path.
 *
 * @example
 * const loaded = loadDashboardConfig('examples/service-health/dashboard.json');
 * if (!loaded.ok) { console.error(loaded.error); process.exit(1); }
 */
export function loadDashboardConfig(path: string): Result<DashboardConfig, string> {
  let source: string;
  try {
    source = readFileSync(path, 'utf8');
  } catch (error) {
    return { ok: false, error: `${path}: cannot read the dashboard config (${(error as Error).message})` };
  }
  let json: unknown;
  try {
    json = JSON.parse(source);
  } catch (error) {
    return { ok: false, error: `${path}: not valid JSON (${(error as Error).message})` };
  }
  const result = validateDashboardConfig(json);
  if (result.ok) return result;
  return { ok: false, error: `${path}: invalid dashboard config\n${result.error.replace(/^/gm, '  ')}` };
}
