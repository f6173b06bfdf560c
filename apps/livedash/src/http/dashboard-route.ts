import type { DashboardConfig } from '@livedash/dashboard-config';
import type { FastifyInstance } from 'fastify';

/** `GET /api/dashboard`: the dashboard config the dashboard app renders (docs/dashboard.md). */
export function registerDashboardRoute(app: FastifyInstance, dashboard: DashboardConfig): void {
  app.get('/api/dashboard', async (_request, reply) => reply.send(dashboard));
}
