import type { IncomingMessage } from 'node:http';
import { ErrorCodes, isValidChannel } from '@livedash/protocol';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { bodyStillArriving } from '../transports/body-refusal.js';
import { sendError } from '../transports/http-errors.js';
import { releaseAfterAnswer } from '../transports/upgrade-refusal.js';
import type { AccessControl } from './access-control.js';
import { canPublish, canSubscribe, type Principal, refusal } from './authenticator.js';

const principals = new WeakMap<IncomingMessage, Principal>();

/** The principal `registerHttpAccess` resolved for this request (anonymous for routes it does not guard). */
export function principalOf(request: FastifyRequest, access: AccessControl): Principal {
  return principals.get(request.raw) ?? access.authenticator.anonymous;
}

/** Answers after which the connection is closed and its socket released (see the onSend hook). */
const closingStatuses = new Set([429, 431, 503]);
/** Requests refused by the header checks (header count, `Host`), whatever their path. */
const refusedHeaders = new WeakSet<IncomingMessage>();

const CHANNEL_ROUTES = new Set(['/api/channels/:channel', '/api/channels/:channel/messages']);

/**
 * HTTP-side access control, as Fastify hooks that run before every route:
 * - header count (431) on every request;
 * - CORS for `/api/*` and `/sse` only for configured origins (off by default), with preflight answers;
 * - `/api/channels…` and `/sse`: credentials from `Authorization: Bearer` or `?token=` (401 when wrong
 *   or expired), then subscribe permission for reads (401/403) and publish permission for POST;
 * - `/sse`: origin (403) and streams per address (429), the slot freed when the response closes;
 * - history requests over `maxHistoryMessages` (400).
 *
 * @example
 * registerHttpAccess(app, access, options.maxHistoryMessages); // before the routes
 */
export function registerHttpAccess(
  app: FastifyInstance,
  access: AccessControl,
  maxHistoryMessages: number,
): void {
  // Under a Fastify prefix (the plugin registered at `/live`) routes and paths start with it.
  const prefix = app.prefix;
  app.addHook('onRequest', async (request, reply) => {
    const headers = access.checkHeaders(request.raw);
    if (headers) {
      refusedHeaders.add(request.raw);
      return sendError(reply, headers.status, headers.code, headers.message);
    }
    const path = request.url.split('?', 1)[0] ?? '';
    // `/sse` too: a dashboard on a listed origin reads streams as it reads the API (its EventSource is
    // a cross-origin GET); the stream's own headers take these over (see transports/sse.ts).
    if (path.startsWith(`${prefix}/api/`) || path === `${prefix}/sse`) applyCors(request, reply, access);
    const route = (request.routeOptions.url ?? '').slice(prefix.length);
    const guarded = route === '/sse' || route === '/api/channels' || CHANNEL_ROUTES.has(route);
    if (!guarded || request.method === 'OPTIONS') return;
    if (route === '/sse') {
      const admission = access.admitSse(request.raw);
      if (!admission.ok)
        return sendError(reply, admission.error.status, admission.error.code, admission.error.message);
      reply.raw.once('close', admission.value.release);
    }
    const query = request.query as Record<string, unknown> | undefined;
    const who = await access.authenticate(request.raw, query?.token);
    if (!who.ok) return sendError(reply, 401, who.error.code, who.error.message);
    principals.set(request.raw, who.value);
    if (!CHANNEL_ROUTES.has(route)) return;
    const channel = (request.params as { channel?: unknown }).channel;
    if (!isValidChannel(channel)) return; // the route answers 400 with its own message
    const publishing = request.method === 'POST';
    const allowed = publishing ? canPublish(who.value, channel) : canSubscribe(who.value, channel);
    if (!allowed) {
      const error = refusal(who.value, publishing ? 'publish to' : 'subscribe to', channel);
      access.metrics.authRefused(error.code === ErrorCodes.FORBIDDEN ? 'forbidden' : 'unauthorized');
      return sendError(reply, error.code === ErrorCodes.FORBIDDEN ? 403 : 401, error.code, error.message);
    }
    const limit = Number(query?.limit);
    if (route.endsWith('/messages') && Number.isFinite(limit) && limit > maxHistoryMessages) {
      access.metrics.limitHit('history_request');
      return sendError(reply, 400, ErrorCodes.TOO_LARGE, `"limit" may be at most ${maxHistoryMessages}`);
    }
  });

  // A refusal that is not part of a client's normal traffic — anything refused on /sse (an EventSource
  // reconnects on a new connection anyway), the header checks (431, Host), rate limits (429) and
  // "unavailable / shutting down" (503) — closes its connection, and the socket is released at most
  // REFUSAL_LINGER_MS after the answer whatever the peer does, instead of idling for the keep-alive
  // timeout. A refused body still arriving is left to the discard of body-refusal.ts.
  app.addHook('onSend', async (request, reply, payload) => {
    const status = reply.statusCode;
    if (status < 400) return payload;
    const route = (request.routeOptions.url ?? '').slice(prefix.length);
    if (route !== '/sse' && !closingStatuses.has(status) && !refusedHeaders.has(request.raw)) return payload;
    if (bodyStillArriving(request.raw)) return payload;
    reply.header('connection', 'close');
    releaseAfterAnswer(request.raw.socket);
    return payload;
  });

  // Limits enforced below Fastify (Node's header parser) or inside it (body limit) are counted here.
  app.addHook('onResponse', async (_request, reply) => {
    if (reply.statusCode === 413) access.metrics.limitHit('body_size');
  });
  app.server.on('clientError', (error: NodeJS.ErrnoException) => {
    if (error.code === 'HPE_HEADER_OVERFLOW') access.metrics.limitHit('header_size');
  });

  // Preflight for cross-origin API calls and streams (an EventSource resuming with `Last-Event-ID`
  // sends a header outside the CORS safelist); without a configured origin CORS stays off (403).
  const preflight = async (request: FastifyRequest, reply: FastifyReply) => {
    if (!access.origins.allowsCors(request.headers.origin)) {
      return sendError(
        reply,
        403,
        ErrorCodes.FORBIDDEN,
        'cross-origin requests are not allowed from this origin',
      );
    }
    return reply.code(204).send();
  };
  app.options('/api/*', preflight);
  app.options('/sse', preflight);
}

function applyCors(request: FastifyRequest, reply: FastifyReply, access: AccessControl): void {
  const origin = request.headers.origin;
  reply.header('vary', 'Origin');
  if (!access.origins.allowsCors(origin)) return;
  reply.header('access-control-allow-origin', origin as string);
  reply.header('access-control-allow-methods', 'GET, POST, OPTIONS');
  reply.header('access-control-allow-headers', 'authorization, content-type, last-event-id');
  reply.header('access-control-max-age', '600');
}
