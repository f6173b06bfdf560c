import { ErrorCodes } from '@livedash/protocol';
import { sendError } from '@livedash/server';
import type { FastifyInstance } from 'fastify';
import type { DashboardCatalog } from '../dashboards/dashboard-catalog.js';

/**
 * The dashboard configs the dashboard app renders (docs/dashboard.md):
 * - `GET /api/dashboard` — the default one, as it always was (`--dashboard`, else the host dashboard);
 * - `GET /api/dashboards` — the index of every dashboard, with the errors of invalid files;
 * - `GET /api/dashboards/<name>` — one dashboard: its last valid config and its current error.
 * Answers are never cached: a dashboard file can change at any moment.
 */
export function registerDashboardRoutes(app: FastifyInstance, catalog: DashboardCatalog): void {
  app.get('/api/dashboard', async (_request, reply) =>
    reply.header('cache-control', 'no-store').send(catalog.defaultConfig),
  );
  app.get('/api/dashboards', async (_request, reply) =>
    reply.header('cache-control', 'no-store').send(catalog.index()),
  );
  app.get<{ Params: { name: string } }>('/api/dashboards/:name', async (request, reply) => {
    // The name is only ever looked up, never joined to a path, so `..` or `%2F` reach no file.
    const document = catalog.document(request.params.name);
    if (!document) {
      return sendError(
        reply,
        404,
        ErrorCodes.NOT_FOUND,
        `no dashboard named ${JSON.stringify(request.params.name.slice(0, 80))}`,
      );
    }
    return reply.header('cache-control', 'no-store').send(document);
  });
}
