import { readFileSync } from 'node:fs';
import {
  type DashboardConfig,
  type DashboardProblem,
  validateDashboardConfig,
} from '@livedash/dashboard-config';
import type { Result } from '@livedash/protocol';

/** A dashboard file larger than this is surely not one; it is refused rather than read. */
export const MAX_DASHBOARD_FILE_BYTES = 1024 * 1024;

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
  const parsed = parseDashboardText(source);
  if (parsed.ok) return parsed;
  const [first] = parsed.error;
  if (first?.key === '' && parsed.error.length === 1) return { ok: false, error: `${path}: ${first.reason}` };
  const lines = parsed.error.map(({ key, reason }) => `  ${key}: ${reason}`);
  return { ok: false, error: `${path}: invalid dashboard config\n${lines.join('\n')}` };
}

/** JSON text → a validated config, or every problem with its key ('' for the text as a whole). */
export function parseDashboardText(source: string): Result<DashboardConfig, DashboardProblem[]> {
  let json: unknown;
  try {
    // A byte-order mark is legal in a UTF-8 file but not in JSON; editors on Windows write one.
    json = JSON.parse(source.replace(/^\uFEFF/, ''));
  } catch (error) {
    return { ok: false, error: [{ key: '', reason: `not valid JSON (${(error as Error).message})` }] };
  }
  const result = validateDashboardConfig(json);
  if (result.ok) return result;
  return {
    ok: false,
    error: result.error.split('\n').map((line) => {
      const colon = line.indexOf(': ');
      return colon < 0
        ? { key: '', reason: line }
        : { key: line.slice(0, colon), reason: line.slice(colon + 2) };
    }),
  };
}
