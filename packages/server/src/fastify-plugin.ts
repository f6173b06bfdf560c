import { ErrorCodes } from '@livedash/protocol';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { type AttachedLivedash, type AttachOptions, listeningAddress } from './attach.js';
import { anonymousBindRefusal } from './auth/bind-policy.js';
import { type LiveTransports, openCore, registerLiveRoutes } from './live-core.js';
import { registerBodyRefusals } from './transports/body-refusal.js';
import { sendError } from './transports/http-errors.js';
import { interceptLiveRequests, isLivePath, requestPath } from './transports/intercept.js';
import { asksForWebSocket } from './transports/other-upgrade.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** livedash registered by the `livedash` plugin: `publish` in process, counters, the hub. */
    livedash: AttachedLivedash;
  }
}

/** The Fastify plugin's options: `attach`'s, with the path prefix taken from `register`'s `prefix`. */
export type LivedashPluginOptions = AttachOptions;

/**
 * livedash as a Fastify plugin: WebSockets at `<prefix>/ws`, SSE at `<prefix>/sse`, the HTTP API under
 * `<prefix>/api/channels`, `/healthz` and `/metrics` under the prefix too. livedash's hooks, body
 * parser and error handler stay inside its own scope; `fastify.livedash` (on the instance that
 * registered it) publishes in process. Upgrades to other paths go to the server's other `upgrade`
 * listeners. It closes with the Fastify instance.
 *
 * Channel names may be 128 characters long; create the instance with `routerOptions: { maxParamLength: 384 }`
 * (`CHANNEL_PARAM_MAX_LENGTH`) so the HTTP routes take every one (Fastify's default stops at 100).
 *
 * @example
 * const app = Fastify({ routerOptions: { maxParamLength: CHANNEL_PARAM_MAX_LENGTH } });
 * await app.register(livedash, { prefix: '/live', publishToken: process.env.PUBLISH_TOKEN });
 * await app.listen({ port: 3000 });
 * await app.livedash.publish('orders', { open: 12 });
 */
export const livedash: FastifyPluginAsync<LivedashPluginOptions> = async (fastify, pluginOptions) => {
  const { prefix = '', ...coreOptions } = pluginOptions;
  const core = await openCore(coreOptions);
  const { options, hub } = core;
  let transports: LiveTransports | undefined;
  let release: (() => void) | undefined;
  /** Why livedash's paths answer 503: closed, or listening where anonymous access is not allowed. */
  let refusal: string | undefined;

  fastify.register(
    async (scope: FastifyInstance) => {
      const wsPath = `${scope.prefix}/ws`;
      scope.addHook('onRequest', async (_request, reply) => {
        if (refusal !== undefined) return sendError(reply, 503, ErrorCodes.UNAVAILABLE, refusal);
      });
      // A refused body reaches the client, on livedash's routes only (the hooks stay in this scope).
      registerBodyRefusals(scope, options);
      const live = registerLiveRoutes(scope, core, { wsPath });
      transports = live;
      release = interceptLiveRequests(fastify.server, {
        faults: core.metrics.faults,
        // Requests reach livedash through Fastify's router; only upgrades are taken here.
        ownsRequest: () => false,
        serveRequest: () => {},
        ownsContinue: (request) => isLivePath(requestPath(request), scope.prefix),
        ownsUpgrade: (request) => asksForWebSocket(request) && requestPath(request) === wsPath,
        serveUpgrade: (request, socket, head) => live.ws.handleUpgrade(request, socket, head),
      });
    },
    { prefix },
  );

  fastify.addHook('onListen', async () => {
    const address = fastify.server.address();
    core.access.hosts.listeningOn(listeningAddress(fastify.server));
    const host = address === null ? '' : typeof address === 'string' ? 'localhost' : address.address;
    const refused = anonymousBindRefusal(host, core.access.authenticator.configured, options.allowAnonymous);
    if (refused === undefined) return;
    refusal = refused;
    fastify.log.error(`livedash: ${refused}`);
    console.error(`livedash: ${refused} livedash's paths answer 503.`);
  });

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      refusal ??= 'livedash is closed';
      // WebSockets and SSE streams would keep the server's close waiting: they go first, with 1012.
      await transports?.close(Math.round(options.shutdownTimeoutMs * 0.6));
      release?.();
      await core.closeBroker();
    })();
    return closing;
  };
  fastify.addHook('preClose', async () => {
    await close();
    // The connections whose SSE streams just ended are idle now: closed here rather than left to
    // their keep-alive timeout.
    fastify.server.closeIdleConnections();
  });

  const handle: AttachedLivedash = {
    hub,
    options,
    metrics: core.metrics,
    publish: (channel, data) => hub.publish(channel, data),
    close,
  };
  fastify.decorate('livedash', handle);
};
// Skips Fastify's encapsulation for this outer function only, so `fastify.livedash` is visible where
// the plugin was registered; livedash's routes and hooks live in the scope registered above, under the prefix.
(livedash as unknown as Record<symbol, unknown>)[Symbol.for('skip-override')] = true;
(livedash as unknown as Record<symbol, unknown>)[Symbol.for('fastify.display-name')] = 'livedash';
