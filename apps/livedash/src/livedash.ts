import { DASHBOARDS_CHANNEL } from '@livedash/dashboard-config';
import { checkCoreOptions, checkOptions, createServer, type LivedashServer } from '@livedash/server';
import { z } from 'zod';
import { type AppOptions, type LivedashOptions, resolveAppOptions } from './app-options.js';
import { DashboardCatalog } from './dashboards/dashboard-catalog.js';
import { DashboardFolder } from './dashboards/dashboard-folder.js';
import { registerDashboardRoutes } from './http/dashboard-route.js';
import { staticSite } from './http/static.js';
import { appOptionShapes } from './option-sources.js';
import { type RunningSources, startSources } from './sources/index.js';
import { consoleSourceLog, describeError } from './sources/source-hub.js';

/** A running livedash app: the server core's handle plus the app's own settings. */
export interface LivedashApp extends LivedashServer {
  /** The app's settings as resolved: host metrics, alert rules, files at `/`, dashboard config. */
  readonly appOptions: AppOptions;
  /**
   * Graceful shutdown: stops host metrics and alerts, then the core's shutdown (WebSockets closed with
   * 1012, SSE streams ended, within `shutdownTimeoutMs`). Safe to call more than once.
   */
  close(): Promise<void>;
}

/** The app's options that code passes as the config file writes them (alerts and scrape come resolved). */
const codeAppOptionsSchema = z
  .strictObject({
    metricsIntervalMs: appOptionShapes.metricsIntervalMs,
    staticDir: appOptionShapes.staticDir,
    dashboards: appOptionShapes.dashboards,
  })
  .partial();

/**
 * Starts the livedash app: the server core (`createServer` from `@livedash/server`: `/ws`, `/sse`,
 * `/api`, `/healthz`, `/metrics`) plus host metrics on `metrics` and `metrics.<node>`, alert rules
 * publishing on `alerts`, the dashboard config at `GET /api/dashboard`, and the dashboard build in
 * `staticDir` (or the built-in live page) at `/`. `livedash serve` runs this.
 *
 * Throws at the call when an option is out of its bounds (the bounds of the config file and the
 * flags: `invalid livedash options: metricsIntervalMs: expected 0 (off) or an integer from 100 to
 * 3600000, got 5`); rejects, leaving no port open, when a setting cannot work (a security setting
 * the core refuses, a dashboards folder that is not one).
 *
 * @example
 * import { startLivedash } from 'livedash';
 *
 * const app = await startLivedash({ port: 0, publishToken: 'secret', metricsIntervalMs: 1000 });
 * console.log(`${app.url}/`); // the built-in live page of this machine's CPU and memory
 * await app.close();
 */
export function startLivedash(options: LivedashOptions = {}): Promise<LivedashApp> {
  const { metricsIntervalMs, staticDir, dashboards, logger: _logger, ...rest } = options;
  const { alerts: _alerts, scrape: _scrape, dashboard: _dashboard, ...coreOptions } = rest;
  checkOptions(
    codeAppOptionsSchema,
    Object.fromEntries(
      Object.entries({ metricsIntervalMs, staticDir, dashboards }).filter(([, value]) => value !== undefined),
    ),
    'livedash options',
  );
  checkCoreOptions(coreOptions);
  return start(options);
}

async function start(options: LivedashOptions): Promise<LivedashApp> {
  const { metricsIntervalMs, alerts, scrape, staticDir, dashboard, dashboards, ...coreOptions } = options;
  const appOptions = resolveAppOptions({
    ...(metricsIntervalMs !== undefined && { metricsIntervalMs }),
    ...(alerts !== undefined && { alerts }),
    ...(scrape !== undefined && { scrape }),
    ...(staticDir !== undefined && { staticDir }),
    ...(dashboard !== undefined && { dashboard }),
    ...(dashboards !== undefined && { dashboards }),
  });
  // Read before the port opens: a folder that is not one stops the start; invalid files do not.
  const folder =
    appOptions.dashboards === undefined ? undefined : await DashboardFolder.open(appOptions.dashboards);
  const catalog = new DashboardCatalog({ dashboard: appOptions.dashboard, folder });
  const site = staticSite(appOptions.staticDir);
  let server: LivedashServer;
  try {
    server = await createServer({
      ...coreOptions,
      routes: async (app) => {
        registerDashboardRoutes(app, catalog);
        await site.routes(app);
      },
      notFound: site.notFound,
    });
  } catch (error) {
    await folder?.close();
    throw error;
  }
  // Open pages learn of an edited, added or removed dashboard file on livedash's own channel.
  folder?.watch((change) => {
    server.hub
      .publish(DASHBOARDS_CHANNEL, {
        revision: change.revision,
        changed: [...change.added, ...change.changed, ...change.removed],
      })
      .catch((error: unknown) =>
        consoleSourceLog(`dashboards: announcing a change failed: ${describeError(error)}`),
      );
  });

  let sources: RunningSources;
  try {
    sources = startSources(
      server.hub,
      {
        node: server.options.node,
        metricsIntervalMs: appOptions.metricsIntervalMs,
        alerts: appOptions.alerts,
        scrape: appOptions.scrape,
      },
      { metricsRegistry: server.metrics.registry },
    );
  } catch (error) {
    // An unusable option (a node name that cannot name `metrics.<node>`) must not leave a listening port.
    await folder?.close();
    await server.close();
    throw error;
  }

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      // Sources first: nothing is published into a server that is closing.
      await folder?.close();
      await sources.stop();
      await server.close();
    })();
    return closing;
  };
  const { url, port, hub, metrics, app } = server;
  return { url, port, hub, options: server.options, metrics, app, appOptions, close };
}
