import type { DashboardConfig } from './types.js';

/**
 * The many-dashboards part of the `/api/dashboard` contract: the index at `GET /api/dashboards`, one
 * dashboard at `GET /api/dashboards/<name>`, the names they go by, and the channel on which the server
 * says that they changed. The app serves it; the dashboard renders it.
 */

/**
 * A dashboard's name: its file's name without `.json`, and the last part of its page `/d/<name>`.
 * Letters, digits, `_` and `-`, 1–64 characters, starting with a letter or digit — so a name is never a
 * path (`..`, `/`, `\`), never a hidden file and never needs escaping in a URL.
 */
export const DASHBOARD_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** `host` is the built-in host dashboard; `default` is the one `--dashboard <file>` sets. */
export const RESERVED_DASHBOARD_NAMES: readonly string[] = ['host', 'default'];

/**
 * The channel on which the server announces that the dashboards changed (a file was edited, added or
 * removed). Its messages only say *that* something changed; a page that gets one fetches the
 * dashboards again over HTTP, so whoever else publishes on it can cause a refetch and nothing more.
 */
export const DASHBOARDS_CHANNEL = 'livedash.dashboards';

/** The data of a message on `DASHBOARDS_CHANNEL`. */
export interface DashboardsChange {
  /** The index's revision after the change (compare with `DashboardIndex.revision`). */
  revision: number;
  /** Names whose config or error changed, were added or were removed. */
  changed: string[];
}

/** One problem that keeps a dashboard file from being shown: `key` is '' for the file as a whole. */
export interface DashboardProblem {
  key: string;
  reason: string;
}

/** Why a dashboard file's latest version is not shown (the last good one is, when there was one). */
export interface DashboardFileError {
  /** The file's name in the dashboards folder (never the server's full path). */
  file: string;
  problems: DashboardProblem[];
}

/** A row of the index. */
export interface DashboardSummary {
  name: string;
  /** The title of the version shown (the file name when no version was ever valid). */
  title: string;
  /** The page that shows it: `/d/<name>`. */
  path: string;
  /** The built-in host dashboard or the `--dashboard` file, as opposed to a file in the folder. */
  builtin: boolean;
  /** The file in the dashboards folder, for folder dashboards. */
  file?: string;
  panels: number;
  revision: number;
  /** Set while the file's latest version is invalid. */
  error?: DashboardFileError;
}

/** `GET /api/dashboards`. */
export interface DashboardIndex {
  /** Grows on every change; the same number the change messages carry. */
  revision: number;
  /** The dashboard `GET /api/dashboard` serves (`default` with `--dashboard`, else `host`). */
  default: string;
  /** Whether `/` shows this index (a dashboards folder is set) rather than the default dashboard. */
  home: 'index' | 'dashboard';
  dashboards: DashboardSummary[];
  /** `*.json` files in the folder that are not served, with the reason (a name outside the grammar…). */
  skipped: { file: string; reason: string }[];
}

/** `GET /api/dashboards/<name>`. */
export interface DashboardDocument extends Omit<DashboardSummary, 'panels'> {
  /** The last valid version, or null when the file was never valid since the server started. */
  config: DashboardConfig | null;
}

/** Whether `name` can name a dashboard (reserved names included). */
export function isValidDashboardName(name: string): boolean {
  return DASHBOARD_NAME_PATTERN.test(name);
}

/** `file: key: reason` lines, one per problem, as the log and the page show them. */
export function describeDashboardError(error: DashboardFileError): string[] {
  return error.problems.map(({ key, reason }) =>
    key === '' ? `${error.file}: ${reason}` : `${error.file}: ${key}: ${reason}`,
  );
}
