import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import { ErrorCodes } from '@livedash/protocol';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { BUILTIN_PAGE } from './builtin-page.js';
import { sendError } from './http-errors.js';

/** Paths that belong to the API and transports: never answered with the dashboard's index.html. */
const API_PREFIXES = ['/api/', '/api', '/ws', '/sse', '/healthz', '/metrics'];

function isApiPath(url: string): boolean {
  const path = url.split('?', 1)[0] ?? '';
  return API_PREFIXES.some(
    (prefix) =>
      path === prefix || path.startsWith(`${prefix}/`) || (prefix.endsWith('/') && path.startsWith(prefix)),
  );
}

/**
 * Serves `staticDir` at `/` with an SPA fallback (unknown non-API GETs get index.html, so client-side
 * routes survive a reload), or the built-in live page when there is no dashboard build.
 */
export async function registerStatic(app: FastifyInstance, staticDir: string | undefined): Promise<void> {
  const hasIndex = staticDir !== undefined && existsSync(join(staticDir, 'index.html'));
  if (staticDir !== undefined && hasIndex) {
    await app.register(fastifyStatic, { root: staticDir, wildcard: true, index: ['index.html'] });
  } else {
    app.get('/', async (_request, reply) => reply.type('text/html; charset=utf-8').send(BUILTIN_PAGE));
  }
  app.setNotFoundHandler((request: FastifyRequest, reply) => {
    const wantsPage = request.method === 'GET' && !isApiPath(request.url) && hasIndex;
    if (wantsPage) return reply.sendFile('index.html');
    return sendError(
      reply,
      404,
      ErrorCodes.NOT_FOUND,
      `no route ${request.method} ${request.url.slice(0, 128)}`,
    );
  });
}
