import {
  type DashboardConfig,
  type DashboardDocument,
  type DashboardIndex,
  defaultDashboard,
} from '@livedash/dashboard-config';
import type { Route } from './route.js';

export type ConfigState =
  | { status: 'loading' }
  | {
      status: 'ready';
      index: DashboardIndex;
      /** The dashboard the route shows; undefined on the index page. */
      name: string | undefined;
      /** null when the server has no dashboard of that name. */
      document: DashboardDocument | null | undefined;
    }
  | { status: 'error'; message: string };

async function getJson(fetchImpl: typeof fetch, path: string): Promise<{ status: number; body: unknown }> {
  const response = await fetchImpl(path, { headers: { accept: 'application/json' }, cache: 'no-store' });
  return { status: response.status, body: response.ok ? await response.json() : undefined };
}

function isConfig(value: unknown): value is DashboardConfig {
  return typeof value === 'object' && value !== null && Array.isArray((value as DashboardConfig).panels);
}

/**
 * Fetches what a route shows: the index of dashboards (`GET /api/dashboards`) and, for a dashboard page
 * (or `/` when the server's home is a dashboard), that dashboard (`GET /api/dashboards/<name>`). The
 * server validates; this checks only the shape the app relies on, so an old or foreign server gives a
 * clear message instead of a blank page. A server without `/api/dashboards` (older than many
 * dashboards) still shows its one dashboard from `GET /api/dashboard`.
 */
export async function loadConfig(route: Route, fetchImpl: typeof fetch = fetch): Promise<ConfigState> {
  try {
    const index = await getJson(fetchImpl, '/api/dashboards');
    if (index.status === 404) return await loadSingle(fetchImpl);
    if (index.status !== 200)
      return { status: 'error', message: `GET /api/dashboards answered ${index.status}` };
    const body = index.body as DashboardIndex;
    if (typeof body !== 'object' || body === null || !Array.isArray(body.dashboards))
      return { status: 'error', message: 'GET /api/dashboards did not return an index of dashboards' };
    const name =
      route.kind === 'dashboard'
        ? route.name
        : route.kind === 'home' && body.home === 'dashboard'
          ? body.default
          : undefined;
    if (name === undefined) return { status: 'ready', index: body, name, document: undefined };
    const path = `/api/dashboards/${encodeURIComponent(name)}`;
    const answer = await getJson(fetchImpl, path);
    if (answer.status === 404) return { status: 'ready', index: body, name, document: null };
    if (answer.status !== 200) return { status: 'error', message: `GET ${path} answered ${answer.status}` };
    const document = answer.body as DashboardDocument;
    if (document.config !== null && !isConfig(document.config))
      return { status: 'error', message: `GET ${path} did not return a dashboard config ({title, panels})` };
    return { status: 'ready', index: body, name, document };
  } catch (error) {
    return { status: 'error', message: `Could not load the dashboard config: ${(error as Error).message}` };
  }
}

async function loadSingle(fetchImpl: typeof fetch): Promise<ConfigState> {
  const answer = await getJson(fetchImpl, '/api/dashboard');
  if (answer.status !== 200)
    return { status: 'error', message: `GET /api/dashboard answered ${answer.status}` };
  if (!isConfig(answer.body))
    return {
      status: 'error',
      message: 'GET /api/dashboard did not return a dashboard config ({title, panels})',
    };
  const config = answer.body;
  const summary = { name: 'default', title: config.title, path: '/', builtin: true, revision: 0 };
  return {
    status: 'ready',
    index: {
      revision: 0,
      default: 'default',
      home: 'dashboard',
      dashboards: [{ ...summary, panels: config.panels.length }],
      skipped: [],
    },
    name: 'default',
    document: { ...summary, config: config ?? defaultDashboard },
  };
}
