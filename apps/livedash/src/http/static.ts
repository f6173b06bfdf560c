import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import { ErrorCodes } from '@livedash/protocol';
import { sendError } from '@livedash/server';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { BUILTIN_PAGE } from './builtin-page.js';

/** Paths that belong to the API and transports: never answered with the dashboard's index.html. */
const API_PREFIXES = ['/api/', '/api', '/ws', '/sse', '/healthz', '/metrics'];

function isApiPath(url: string): boolean {
  const path = url.split('?', 1)[0] ?? '';
  return API_PREFIXES.some(
    (prefix) =>
      path === prefix || path.startsWith(`${prefix}/`) || (prefix.endsWith('/') && path.startsWith(prefix)),
  );
}

/** The files at `/`: what `startLivedash` hands to the core's `routes` and `notFound` options. */
export interface StaticSite {
  /** Registers the files of `staticDir`, or the built-in page at `/`. */
  routes(app: FastifyInstance): Promise<void>;
  /** Unknown non-API GETs get index.html; everything else the JSON 404 every API error uses. */
  notFound(request: FastifyRequest, reply: FastifyReply): FastifyReply;
}

/**
 * Serves `staticDir` at `/` with an SPA fallback (unknown non-API GETs get index.html, so client-side
 * routes survive a reload), or the built-in live page when there is no dashboard build.
 *
 * @example
 * const site = staticSite('/srv/dashboard');
 * await createServer({ routes: site.routes, notFound: site.notFound });
 */
export function staticSite(staticDir: string | undefined): StaticSite {
  const hasIndex = staticDir !== undefined && existsSync(join(staticDir, 'index.html'));
  return {
    async routes(app) {
      if (staticDir !== undefined && hasIndex) {
        await app.register(fastifyStatic, { root: staticDir, wildcard: true, index: ['index.html'] });
      } else {
        app.get('/', async (_request, reply) => reply.type('text/html; charset=utf-8').send(BUILTIN_PAGE));
      }
    },
    notFound(request, reply) {
      const wantsPage = request.method === 'GET' && !isApiPath(request.url) && hasIndex;
      if (wantsPage) return reply.sendFile('index.html');
      return sendError(
        reply,
        404,
        ErrorCodes.NOT_FOUND,
        `no route ${request.method} ${request.url.slice(0, 128)}`,
      );
    },
  };
}
