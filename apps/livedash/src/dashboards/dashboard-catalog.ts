import {
  type DashboardConfig,
  type DashboardDocument,
  type DashboardIndex,
  type DashboardSummary,
  defaultDashboard,
} from '@livedash/dashboard-config';
import type { DashboardFolder, FolderDashboard } from './dashboard-folder.js';

/**
 * Every dashboard a server shows, under its name: the one `--dashboard <file>` sets (`default`), the
 * files of the dashboards folder, and the built-in host dashboard (`host`), which is always there.
 * `GET /api/dashboard` keeps serving one of them — `default` when set, else `host` — for pages that
 * know only one dashboard.
 */
export class DashboardCatalog {
  readonly #configured: DashboardConfig | undefined;
  readonly #folder: DashboardFolder | undefined;

  constructor(options: { dashboard?: DashboardConfig | undefined; folder?: DashboardFolder | undefined }) {
    this.#configured = options.dashboard;
    this.#folder = options.folder;
  }

  /** What `GET /api/dashboard` serves. */
  get defaultConfig(): DashboardConfig {
    return this.#configured ?? defaultDashboard;
  }

  /** `GET /api/dashboards`: the configured dashboard first, then the folder's by name, then `host`. */
  index(): DashboardIndex {
    const dashboards: DashboardSummary[] = [];
    if (this.#configured) dashboards.push(builtinSummary('default', this.#configured));
    for (const dashboard of this.#folder?.list() ?? []) dashboards.push(folderSummary(dashboard));
    dashboards.push(builtinSummary('host', defaultDashboard));
    return {
      revision: this.#folder?.revision ?? 0,
      default: this.#configured ? 'default' : 'host',
      home: this.#folder ? 'index' : 'dashboard',
      dashboards,
      skipped: [...(this.#folder?.skipped ?? [])],
    };
  }

  /** `GET /api/dashboards/<name>`; undefined for a name no dashboard has. */
  document(name: string): DashboardDocument | undefined {
    if (name === 'host') return builtinDocument('host', defaultDashboard);
    if (name === 'default') return this.#configured && builtinDocument('default', this.#configured);
    const dashboard = this.#folder?.get(name);
    if (!dashboard) return undefined;
    const { panels: _panels, ...summary } = folderSummary(dashboard);
    return { ...summary, config: dashboard.config ?? null };
  }
}

function builtinSummary(name: string, config: DashboardConfig): DashboardSummary {
  return {
    name,
    title: config.title,
    path: `/d/${name}`,
    builtin: true,
    panels: config.panels.length,
    revision: 0,
  };
}

function builtinDocument(name: string, config: DashboardConfig): DashboardDocument {
  return { name, title: config.title, path: `/d/${name}`, builtin: true, revision: 0, config };
}

function folderSummary(dashboard: FolderDashboard): DashboardSummary {
  return {
    name: dashboard.name,
    title: dashboard.config?.title ?? dashboard.file,
    path: `/d/${dashboard.name}`,
    builtin: false,
    file: dashboard.file,
    panels: dashboard.config?.panels.length ?? 0,
    revision: dashboard.revision,
    ...(dashboard.error && { error: dashboard.error }),
  };
}
