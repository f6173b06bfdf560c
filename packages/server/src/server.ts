import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { redactToken } from './auth/bearer-token.js';
import type { Hub } from './hub.js';
import { type BrokerOptions, checkCoreOptions, openCore, registerLiveRoutes } from './live-core.js';
import type { ServerOptions } from './options.js';
import type { ServerMetrics } from './server-metrics.js';
import { deferContinue, registerBodyRefusals } from './transports/body-refusal.js';
import { CHANNEL_PARAM_MAX_LENGTH } from './transports/http.js';
import { answerClientError, answerFrameworkError, answerNotFound } from './transports/http-errors.js';
import { guardRequests, handleUpgrades, refuseExpectations } from './transports/server-listeners.js';

/**
 * Connections the kernel holds for the server before it accepts them (capped by the system's
 * net.core.somaxconn). Node's default, 511, overflows when thousands of clients reconnect after a
 * restart; SYNs past it are dropped and those clients only retry 1, 3, 7… s later.
 */
const LISTEN_BACKLOG = 4096;

/** How long a client may take to send a whole HTTP request (headers and body), ms: slowloris bound. */
export const REQUEST_TIMEOUT_MS = 10_000;

/** How long a connection may take none of its HTTP answer before it is cut, ms. */
export const RESPONSE_TIMEOUT_MS = 30_000;

export interface CreateServerOptions extends Partial<ServerOptions>, BrokerOptions {
  /** Time allowed to receive a full HTTP request, ms (default 10 s); half-sent requests are cut after it. */
  requestTimeoutMs?: number;
  /**
   * Time a connection may take none of an HTTP answer, ms (default 30 s): one that asks and never
   * reads is cut after it, so answers nobody reads do not pile up. SSE streams and WebSockets are
   * bounded by their queues instead (`maxQueueBytes`).
   */
  responseTimeoutMs?: number;
  /**
   * Log requests and errors through Fastify's logger (default false); `{ stream }` sends the JSON
   * lines there instead of stdout. Tokens in URLs are logged as `token=[redacted]`.
   */
  logger?: boolean | { stream: { write(line: string): void } };
  /**
   * Registers more routes on the server's Fastify instance before it starts listening: static files,
   * a page, an endpoint of your own (the livedash app serves its dashboard and `/api/dashboard` this
   * way). `/ws`, `/sse`, `/api/channels…`, `/healthz` and `/metrics` are livedash's own.
   *
   * @example
   * await createServer({ routes: (app) => void app.get('/version', async () => ({ version: '1.2.0' })) });
   */
  routes?: (app: FastifyInstance) => void | Promise<void>;
  /**
   * Answers the requests no route matches. Default: 404 with livedash's JSON error body,
   * `{"error":{"code":"not_found","message":"no route GET /x"}}`.
   */
  notFound?: (request: FastifyRequest, reply: FastifyReply) => unknown;
}

export interface LivedashServer {
  /** Base URL, e.g. `http://127.0.0.1:8080`. */
  readonly url: string;
  readonly port: number;
  readonly hub: Hub;
  readonly options: ServerOptions;
  readonly metrics: ServerMetrics;
  /** The server's Fastify instance, already listening (add routes with the `routes` option instead). */
  readonly app: FastifyInstance;
  /**
   * Graceful shutdown: closes WebSockets with 1012, ends SSE streams, stops listening;
   * connections still open after `shutdownTimeoutMs` are cut. Safe to call more than once.
   */
  close(): Promise<void>;
}

/**
 * Starts a livedash server: WebSocket at `/ws`, SSE at `/sse`, the HTTP API under `/api`, `/healthz`
 * and `/metrics`, all on one port. Host metrics, alerts and the dashboard are the livedash app's
 * (`startLivedash` in the `livedash` package), built on this.
 *
 * @example
 * const server = await createServer({ port: 0, publishToken: 'secret' });
 * await server.hub.publish('prices', { eur: 1.08 });
 * console.log(server.url); // http://127.0.0.1:54321
 * await server.close();
 */
export function createServer(partial: CreateServerOptions = {}): Promise<LivedashServer> {
  const { logger: _logger, routes: _routes, notFound: _notFound, ...data } = partial;
  // A bad option throws here, at the call (a programming error, not a runtime failure).
  checkCoreOptions(data);
  return startServer(partial);
}

async function startServer(partial: CreateServerOptions): Promise<LivedashServer> {
  const {
    requestTimeoutMs = REQUEST_TIMEOUT_MS,
    responseTimeoutMs = RESPONSE_TIMEOUT_MS,
    logger = false,
    routes,
    notFound,
    ...coreOptions
  } = partial;
  // Before anything is opened, so an unsafe or unusable security configuration stops the start with its reason.
  const core = await openCore(coreOptions);
  const { hub, options, metrics } = core;

  const app = Fastify({
    // Tokens may travel in `?token=`; the request log shows URLs with them redacted.
    logger: logger
      ? {
          ...(typeof logger === 'object' ? { stream: logger.stream } : {}),
          serializers: {
            req: (request) => ({
              method: request.method,
              url: redactToken(request.url),
              // The client, also behind a trusted reverse proxy (trustProxy).
              remoteAddress: core.access.clientAddress(request.raw),
            }),
          },
        }
      : false,
    bodyLimit: options.maxBodyBytes,
    // Refusals below the routes answer with the JSON error body too.
    frameworkErrors: answerFrameworkError,
    clientErrorHandler: answerClientError,
    routerOptions: { maxParamLength: CHANNEL_PARAM_MAX_LENGTH },
    // Slowloris: Node cuts a request whose headers/body do not arrive in time (checked every second).
    // Every request passes the request-target parser first, and nothing it or Fastify throws escapes.
    serverFactory: (handler) =>
      httpServer(
        guardRequests(handler, { metrics, maxTargetBytes: options.maxHeaderBytes }),
        { requestTimeoutMs, responseTimeoutMs },
        options,
      ),
    return503OnClosing: true,
    forceCloseConnections: true,
  });
  registerBodyRefusals(app, options);
  deferContinue(app.server);
  refuseExpectations(app.server);
  const transports = registerLiveRoutes(app, core);
  handleUpgrades(app.server, transports.ws, metrics);

  try {
    await routes?.(app);
    app.setNotFoundHandler(notFound ?? answerNotFound);
    await app.listen({ port: options.port, host: options.host, backlog: LISTEN_BACKLOG });
  } catch (error) {
    // A broker made here holds Redis connections that would keep the process alive after a failed start.
    await core.closeBroker();
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  // `host` may be a name: the address it resolved to decides whether `Host` is checked.
  if (typeof address === 'object' && address) core.access.hosts.listeningOn(address.address);

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      // Clients get most of the budget to finish their close handshakes; the rest is for the HTTP
      // server and the broker, so the whole shutdown stays within shutdownTimeoutMs.
      const transportsClosed = transports.close(Math.round(options.shutdownTimeoutMs * 0.6));
      await Promise.all([transportsClosed, app.close()]);
      await core.closeBroker();
    })();
    return closing;
  };

  const urlHost = options.host.includes(':') ? `[${options.host}]` : options.host;
  const scheme = options.tls ? 'https' : 'http';
  return { url: `${scheme}://${urlHost}:${port}`, port, hub, options, metrics, app, close };
}

function httpServer(
  handler: (request: IncomingMessage, response: ServerResponse) => void,
  timeouts: { requestTimeoutMs: number; responseTimeoutMs: number },
  options: ServerOptions,
): Server {
  const { requestTimeoutMs, responseTimeoutMs } = timeouts;
  const settings = {
    requestTimeout: requestTimeoutMs,
    headersTimeout: Math.min(requestTimeoutMs, 60_000),
    connectionsCheckingInterval: Math.min(1000, requestTimeoutMs),
    keepAliveTimeout: 5000,
    // Over it Node answers 431 itself, before any of our code runs.
    maxHeaderSize: options.maxHeaderBytes,
  };
  const server = options.tls
    ? // An https.Server is an http.Server for everything Fastify and the upgrade handler use.
      (createHttpsServer(
        { ...settings, cert: options.tls.cert, key: options.tls.key },
        handler,
      ) as unknown as Server)
    : createHttpServer(settings, handler);
  // Node drops header lines past maxHeadersCount silently; keep one more than the limit so the
  // access hooks see the excess and refuse it (431).
  server.maxHeadersCount = options.maxHeaders + 1;
  // A connection silent this long, neither sending nor taking bytes, is cut (Node destroys a socket
  // whose 'timeout' nobody handles): an answer nobody reads. A write the kernel has not finished
  // taking counts as silence, and the kernel takes more only once about half of what it holds for the
  // socket is read; a reader that keeps reading gets there well within the timeout. Idle keep-alive
  // connections end sooner (keepAliveTimeout); SSE streams and WebSockets turn it off and have bounds
  // of their own.
  server.timeout = responseTimeoutMs;
  return server;
}
