import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import Fastify from 'fastify';
import { anonymousBindRefusal } from './auth/bind-policy.js';
import type { Hub, PublishResult } from './hub.js';
import {
  type BrokerOptions,
  checkCoreOptions,
  type LiveCore,
  type LiveTransports,
  openCore,
  registerLiveRoutes,
} from './live-core.js';
import type { ServerOptions } from './options.js';
import type { ServerMetrics } from './server-metrics.js';
import { registerBodyRefusals } from './transports/body-refusal.js';
import { CHANNEL_PARAM_MAX_LENGTH } from './transports/http.js';
import { answerNotFound } from './transports/http-errors.js';
import { interceptLiveRequests, isLivePath, requestPath } from './transports/intercept.js';
import { asksForWebSocket } from './transports/other-upgrade.js';
import { guardRequests } from './transports/server-listeners.js';
import { releaseRefusedSocket } from './transports/upgrade-refusal.js';

/**
 * Options of `attach` and the Fastify plugin: the server options that are not about listening (the
 * port, address, TLS and header size are the user's server's), the broker, and where livedash's paths go.
 */
export interface AttachOptions
  extends Partial<Omit<ServerOptions, 'port' | 'host' | 'tls' | 'maxHeaderBytes'>>,
    BrokerOptions {
  /**
   * Path prefix of livedash's routes (default none): with `/live`, WebSockets at `/live/ws`, SSE at
   * `/live/sse`, the API under `/live/api/channels`; clients then use `new LiveClient({ url: 'https://host/live' })`.
   * The Fastify plugin takes the `prefix` of `register` instead.
   */
  prefix?: string;
}

/** livedash running inside a server the user already runs. */
export interface AttachedLivedash {
  readonly hub: Hub;
  readonly options: ServerOptions;
  /** livedash's Prometheus counters (`metrics.registry`); embedded, `/metrics` is left to the user. */
  readonly metrics: ServerMetrics;
  /**
   * Publishes `data` on `channel` in process, to every subscriber on every transport.
   * Rejects with a `LivedashError` on an invalid channel name, data that is not JSON, or a broker that is down.
   */
  publish(channel: string, data: unknown): Promise<PublishResult>;
  /**
   * Closes livedash's WebSockets (1012) and SSE streams, gives its paths back to the server's own
   * handlers and closes the broker it made; the server keeps serving. Call it before `server.close()`:
   * open WebSockets and streams would otherwise keep that waiting. Safe to call more than once.
   */
  close(): Promise<void>;
}

/**
 * Serves livedash on a server you already run: WebSockets at `/ws`, SSE at `/sse`, the HTTP API under
 * `/api/channels`. Every other request and upgrade goes to the server's own listeners as before,
 * whether they were added before or after `attach`.
 *
 * @example
 * const server = http.createServer(app);        // Express, Koa, a plain handler…
 * const live = await attach(server, { publishToken: process.env.PUBLISH_TOKEN });
 * server.listen(3000, '127.0.0.1');
 * await live.publish('orders', { open: 12 });   // → { channel: 'orders', epoch: '…', seq: 1, ts: … }
 */
export function attach(server: Server | HttpsServer, options: AttachOptions = {}): Promise<AttachedLivedash> {
  const { prefix = '', ...coreOptions } = options;
  // A bad option throws here, at the call (a programming error, not a runtime failure).
  checkPrefix(prefix);
  checkCoreOptions(coreOptions);
  return attachChecked(server, prefix, coreOptions);
}

async function attachChecked(
  server: Server | HttpsServer,
  prefix: string,
  coreOptions: Omit<AttachOptions, 'prefix'>,
): Promise<AttachedLivedash> {
  const listening = listeningHost(server);
  // Listening already: an unsafe configuration rejects here, as createServer's start would.
  const core = await openCore({ ...coreOptions, ...(listening !== undefined && { host: listening }) });
  try {
    return await mount(server as Server, core, prefix);
  } catch (error) {
    await core.closeBroker();
    throw error;
  }
}

async function mount(server: Server, core: LiveCore, prefix: string): Promise<AttachedLivedash> {
  const { options, hub } = core;
  let route: ((request: IncomingMessage, response: ServerResponse) => void) | undefined;
  // livedash's routes run on a Fastify instance of their own that never listens: the user's server
  // hands it the requests it owns. Its own server object only receives Fastify's listeners.
  const app = Fastify({
    bodyLimit: options.maxBodyBytes,
    routerOptions: { maxParamLength: CHANNEL_PARAM_MAX_LENGTH },
    serverFactory: (handler) => {
      route = handler;
      return createHttpServer();
    },
    return503OnClosing: true,
  });
  // A refused body reaches the client; `Expect: 100-continue` is answered by the route (see intercept.ts).
  registerBodyRefusals(app, options);
  let transports: LiveTransports | undefined;
  await app.register(
    async (scope) => {
      transports = registerLiveRoutes(scope, core, { healthAndMetrics: false, wsPath: `${prefix}/ws` });
    },
    { prefix },
  );
  app.setNotFoundHandler(answerNotFound);
  await app.ready();
  const live = transports!;
  // The same request-target parsing and fault guard as createServer's own listener.
  const serve = guardRequests(route!, { metrics: core.metrics, maxTargetBytes: options.maxHeaderBytes });

  // The anonymous-access rule and the `Host` check follow the address the server listens on, also when
  // it listens later or again elsewhere. Until it listens, `Host` is checked as on a loopback address.
  let refusal: string | undefined;
  const onListening = () => {
    core.access.hosts.listeningOn(listeningAddress(server));
    refusal = anonymousBindRefusal(
      listeningHost(server) ?? '',
      core.access.authenticator.configured,
      options.allowAnonymous,
    );
    if (refusal !== undefined) console.error(`livedash: ${refusal} livedash's paths answer 503.`);
  };
  server.on('listening', onListening);
  if (server.listening) core.access.hosts.listeningOn(listeningAddress(server));

  const release = interceptLiveRequests(server, {
    faults: core.metrics.faults,
    ownsRequest: (request) => isLivePath(requestPath(request), prefix),
    ownsContinue: (request) => isLivePath(requestPath(request), prefix),
    serveRequest: (request, response) => {
      if (refusal === undefined) serve(request, response);
      else refuseRequest(response, refusal);
    },
    ownsUpgrade: (request) => asksForWebSocket(request) && requestPath(request) === `${prefix}/ws`,
    serveUpgrade: (request, socket, head) => {
      if (refusal === undefined) live.ws.handleUpgrade(request, socket, head);
      else refuseUpgrade(socket);
    },
  });

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      // New WebSockets are refused (503) while the open ones finish their close handshakes.
      await live.close(options.shutdownTimeoutMs);
      release();
      server.removeListener('listening', onListening);
      await app.close();
      await core.closeBroker();
    })();
    return closing;
  };
  return {
    hub,
    options,
    metrics: core.metrics,
    publish: (channel, data) => hub.publish(channel, data),
    close,
  };
}

/** The address a server listens on, `localhost` for a Unix socket or pipe, undefined before it listens. */
function listeningHost(server: Server | HttpsServer): string | undefined {
  const address = server.address();
  if (address === null) return undefined;
  return typeof address === 'string' ? 'localhost' : address.address;
}

/**
 * The IP address a server listens on; undefined for a Unix socket or pipe (reached by browsers only
 * through a proxy, so `Host` is checked there only with `allowedHosts`) and before it listens.
 */
export function listeningAddress(server: Server | HttpsServer): string | undefined {
  const address = server.address();
  return address === null || typeof address === 'string' ? undefined : address.address;
}

/** `/live`, `/a/b`: starts with `/`, no trailing `/`, no `?` or `#`; `''` for none. */
export function checkPrefix(prefix: string): void {
  if (prefix === '') return;
  if (!/^(\/[A-Za-z0-9._~!$&'()*+,;=:@%-]+)+$/.test(prefix))
    throw new TypeError(
      `prefix must look like "/live" (a path starting with "/", without a trailing "/"), got ${JSON.stringify(prefix)}`,
    );
}

function refuseRequest(response: ServerResponse, reason: string): void {
  response.writeHead(503, { 'content-type': 'application/json; charset=utf-8', connection: 'close' });
  response.end(JSON.stringify({ error: { code: 'unavailable', message: reason } }));
}

function refuseUpgrade(socket: Duplex): void {
  socket.on('error', () => socket.destroy());
  socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  releaseRefusedSocket(socket);
}
