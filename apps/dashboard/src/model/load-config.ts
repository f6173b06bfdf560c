import type { DashboardConfig } from '@livedash/dashboard-config';

export type ConfigState =
  | { status: 'loading' }
  | { status: 'ready'; config: DashboardConfig }
  | { status: 'error'; message: string };

/**
 * Fetches the dashboard config the server validated (`GET /api/dashboard`). The server checks the
 * schema; this checks only that the answer has the shape the app relies on, so an old or foreign
 * server gives a clear message instead of a blank page.
 */
export async function loadConfig(fetchImpl: typeof fetch = fetch): Promise<ConfigState> {
  try {
    const response = await fetchImpl('/api/dashboard', { headers: { accept: 'application/json' } });
    if (!response.ok) return { status: 'error', message: `GET /api/dashboard answered ${response.status}` };
    const config = (await response.json()) as DashboardConfig | null;
    if (typeof config !== 'object' || config === null || !Array.isArray(config.panels)) {
      return {
        status: 'error',
        message: 'GET /api/dashboard did not return a dashboard config ({title, panels})',
      };
    }
    return { status: 'ready', config };
  } catch (error) {
    return { status: 'error', message: `Could not load the dashboard config: ${(error as Error).message}` };
  }
}
