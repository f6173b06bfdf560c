import {
  EPOCH_PATTERN,
  ErrorCodes,
  isValidChannel,
  jsonDepthExceeds,
  LivedashError,
  MAX_CHANNEL_LENGTH,
  MAX_RATE_RULE,
  type Position,
  parseMaxRateText,
} from '@livedash/protocol';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AccessControl } from '../auth/access-control.js';
import { canSubscribe } from '../auth/authenticator.js';
import { principalOf } from '../auth/http-access.js';
import type { ReadResult, StoredMessage } from '../brokers/broker.js';
import type { Hub } from '../hub.js';
import type { ServerOptions } from '../options.js';
import type { ServerMetrics } from '../server-metrics.js';
import { sendError } from './http-errors.js';

export interface HttpContext {
  hub: Hub;
  options: ServerOptions;
  metrics: ServerMetrics;
  startedAt: number;
  connectionCounts: () => { ws: number; sse: number };
  /** Serve `/healthz` and `/metrics` (default true; an embedding app may have its own). */
  healthAndMetrics?: boolean;
  /** Credentials and permissions; its hooks (registerHttpAccess) have already refused what is not allowed. */
  access: AccessControl;
}

/**
 * The longest `:channel` a route must accept: the longest channel name with every character
 * percent-encoded as a client may send it (`:` as `%3A`). Fastify's default, 100, refused names of
 * 101–128 characters with 404.
 */
export const CHANNEL_PARAM_MAX_LENGTH = 3 * MAX_CHANNEL_LENGTH;

/** A body or parse failure with the HTTP status and livedash code to answer with. */
class RequestError extends Error {
  constructor(
    readonly statusCode: number,
    readonly livedashCode: (typeof ErrorCodes)[keyof typeof ErrorCodes],
    message: string,
  ) {
    super(message);
  }
}

/**
 * The HTTP API: channel listing, latest value, history (also the polling transport), publishing,
 * health and Prometheus metrics. Every error is `{"error":{"code","message"}}`.
 */
export function registerHttpRoutes(app: FastifyInstance, ctx: HttpContext): void {
  const { hub, options, metrics } = ctx;
  installJsonParser(app, options);

  app.get('/api/channels', async (request, reply) => {
    const principal = principalOf(request, ctx.access);
    const query = parseListQuery(request.query as Record<string, unknown>);
    if (typeof query === 'string') return sendError(reply, 400, ErrorCodes.BAD_COMMAND, query);
    // An empty page looks at nothing: a client's cheap check that the server is there.
    if (query.limit === 0) return reply.send({ channels: [], next: null });
    // Only the channels these credentials may read are looked at, and only a page of them.
    const page = await hub.broker.channels({
      allowed: (channel) => canSubscribe(principal, channel),
      limit: query.limit,
      ...(query.after !== undefined && { after: query.after }),
    });
    return reply.send(page.next === undefined ? { channels: page.channels, next: null } : page);
  });

  app.get('/api/channels/:channel', async (request, reply) => {
    const channel = channelParam(request, reply);
    if (channel === undefined) return reply;
    const read = await hub.broker.read(channel);
    const latest = read.messages.at(-1);
    if (!latest)
      return sendError(reply, 404, ErrorCodes.UNKNOWN_CHANNEL, `nothing published on "${channel}" yet`);
    const data = (JSON.parse(latest.frame) as { data: unknown }).data;
    return reply.send({ channel, epoch: latest.epoch, seq: latest.seq, data, ts: latest.ts });
  });

  app.get('/api/channels/:channel/messages', async (request, reply) => {
    if (!options.transports.poll)
      return sendError(reply, 404, ErrorCodes.NOT_FOUND, 'polling is turned off on this server');
    const channel = channelParam(request, reply);
    if (channel === undefined) return reply;
    const query = parseMessagesQuery(request.query as Record<string, unknown>, options.maxHistoryMessages);
    if (typeof query === 'string') return sendError(reply, 400, ErrorCodes.BAD_COMMAND, query);
    const epoch = query.epoch ?? (await hub.broker.read(channel, undefined, 0)).epoch;
    const since: Position = { epoch, seq: query.since };
    let read = await readHistory(hub, channel, since, query.limit);
    // A poller with a maxRate on a state channel wants the newest value, not every one in between.
    const conflate = query.maxRate !== undefined && hub.policies.of(channel) === 'state';
    if (conflate && read.messages.length > 1) read = { ...read, messages: read.messages.slice(-1) };
    read = withinBytes(read, options.maxQueueBytes, hub.policies.of(channel) === 'state');
    for (const message of read.messages) metrics.sent('poll', message.frame.length);
    return reply.type('application/json; charset=utf-8').send(messagesBody(channel, read, conflate));
  });

  // Who may publish (the publish token, or a JWT with a matching `publish` claim) is checked by
  // registerHttpAccess's onRequest hook, before the body is read.
  app.post('/api/channels/:channel', {
    // Also on the route, not only the parser: `Expect: 100-continue` is answered against it
    // (body-refusal.ts), and embedded the app's own limit would apply.
    bodyLimit: options.maxBodyBytes,
    handler: async (request, reply) => {
      const channel = channelParam(request, reply);
      if (channel === undefined) return reply;
      const body = request.body as { json?: unknown } | undefined;
      if (typeof body?.json !== 'string')
        return sendError(
          reply,
          400,
          ErrorCodes.BAD_JSON,
          'the body must be JSON (Content-Type: application/json)',
        );
      try {
        const result = await hub.publishJson(channel, body.json);
        return reply.send({ channel, epoch: result.epoch, seq: result.seq });
      } catch (error) {
        const code = (error as { code?: string }).code;
        const message = String((error as Error).message);
        if (code === ErrorCodes.INVALID_CHANNEL)
          return sendError(reply, 400, ErrorCodes.INVALID_CHANNEL, message);
        if (code === ErrorCodes.CAPACITY_EXCEEDED) {
          metrics.protocolErrors.inc({ code });
          // 507 Insufficient Storage: the request is fine, the server has no room to keep it.
          return sendError(reply, 507, ErrorCodes.CAPACITY_EXCEEDED, message);
        }
        return sendError(reply, 503, ErrorCodes.UNAVAILABLE, message);
      }
    },
  });

  if (ctx.healthAndMetrics !== false) {
    app.get('/healthz', async (_request, reply) => {
      const health = hub.broker.health();
      const body = {
        status: health.status,
        ...(health.status === 'degraded' ? { reason: health.reason } : {}),
        node: options.node,
        uptime: Math.round((Date.now() - ctx.startedAt) / 1000),
        connections: ctx.connectionCounts(),
        subscriptions: hub.subscriptionCount,
      };
      return reply.code(health.status === 'ok' ? 200 : 503).send(body);
    });

    app.get('/metrics', async (_request, reply) => {
      const text = await metrics.registry.metrics();
      return reply.type(metrics.registry.contentType).send(text);
    });
  }

  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, _request, reply) => {
    if (error instanceof RequestError) {
      metrics.protocolErrors.inc({ code: error.livedashCode });
      return sendError(reply, error.statusCode, error.livedashCode, error.message);
    }
    // The broker (Redis) is down: reads and listings answer 503 with its reason, as publishes do.
    if (error instanceof LivedashError && error.code === ErrorCodes.UNAVAILABLE) {
      return sendError(reply, 503, ErrorCodes.UNAVAILABLE, error.message);
    }
    const status = error.statusCode ?? 500;
    if (status === 413) {
      metrics.protocolErrors.inc({ code: ErrorCodes.TOO_LARGE });
      return sendError(reply, 413, ErrorCodes.TOO_LARGE, `body over ${options.maxBodyBytes} bytes`);
    }
    if (status === 415)
      return sendError(reply, 415, ErrorCodes.BAD_COMMAND, 'the body must be application/json');
    if (status === 403) {
      // The static files refuse a path that leaves their folder (dot segments) this way.
      return sendError(reply, 403, ErrorCodes.FORBIDDEN, 'the path is outside what this server serves');
    }
    if (status >= 400 && status < 500) return sendError(reply, status, ErrorCodes.BAD_COMMAND, error.message);
    reply.log.error(error);
    return sendError(reply, 500, ErrorCodes.INTERNAL, 'internal error');
  });
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * JSON bodies are checked for depth before parsing and normalized with `JSON.stringify`, so the data
 * published is one line (SSE-safe). `__proto__` keys stay plain data: `JSON.parse` makes them own
 * properties, never prototypes.
 */
function installJsonParser(app: FastifyInstance, options: ServerOptions): void {
  // Only JSON is published: every other body gets 415, including types that Fastify parses by default
  // (text/plain) or that an app embedding livedash parses with a catch-all ('*') parser of its own.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    'application/json',
    { parseAs: 'buffer', bodyLimit: options.maxBodyBytes },
    (_request, body, done) => {
      let text: string;
      try {
        // JSON is UTF-8 (RFC 8259): bytes that are not are refused, never published as U+FFFD.
        text = UTF8.decode(body as Buffer);
      } catch {
        done(new RequestError(400, ErrorCodes.BAD_JSON, 'the body is not valid UTF-8'), undefined);
        return;
      }
      if (jsonDepthExceeds(text, options.maxJsonDepth)) {
        done(
          new RequestError(
            400,
            ErrorCodes.TOO_DEEP,
            `JSON nested deeper than ${options.maxJsonDepth} levels`,
          ),
          undefined,
        );
        return;
      }
      try {
        done(null, { json: JSON.stringify(JSON.parse(text)) });
      } catch {
        done(new RequestError(400, ErrorCodes.BAD_JSON, 'the body is not valid JSON'), undefined);
      }
    },
  );
}

function channelParam(request: FastifyRequest, reply: FastifyReply): string | undefined {
  const channel = (request.params as { channel?: unknown }).channel;
  if (isValidChannel(channel)) return channel;
  sendError(reply, 400, ErrorCodes.INVALID_CHANNEL, `invalid channel name "${String(channel).slice(0, 64)}"`);
  return undefined;
}

/** Channels one `GET /api/channels` page lists by default and at most. */
export const CHANNEL_PAGE_LIMIT = 1000;

/** `limit` (1 to CHANNEL_PAGE_LIMIT, default that) and `after` (a channel name); a string is the error message. */
function parseListQuery(query: Record<string, unknown>): { limit: number; after?: string } | string {
  let limit = CHANNEL_PAGE_LIMIT;
  if (query.limit !== undefined) {
    const text = query.limit;
    if (typeof text !== 'string' || !/^(0|[1-9][0-9]{0,6})$/.test(text) || Number(text) > CHANNEL_PAGE_LIMIT)
      return `"limit" must be 0 to ${CHANNEL_PAGE_LIMIT}`;
    limit = Number(text);
  }
  if (query.after === undefined) return { limit };
  if (!isValidChannel(query.after)) return '"after" must be a channel name (the "next" of the previous page)';
  return { limit, after: query.after };
}

interface MessagesQuery {
  since: number;
  epoch?: string;
  limit?: number;
  maxRate?: number;
}

/** `since` (default 0), `epoch`, `limit`, `maxRate`; a string is the error message. */
function parseMessagesQuery(query: Record<string, unknown>, maxLimit: number): MessagesQuery | string {
  // Without `limit`, a history request returns at most `maxHistoryMessages` (the oldest are dropped, recovered:false).
  const result: MessagesQuery = { since: 0, limit: maxLimit };
  const integer = (value: unknown) =>
    typeof value === 'string' && /^(0|[1-9][0-9]{0,15})$/.test(value) ? Number(value) : undefined;
  if (query.since !== undefined) {
    const since = integer(query.since);
    if (since === undefined || !Number.isSafeInteger(since)) return '"since" must be an integer >= 0';
    result.since = since;
  }
  if (query.epoch !== undefined) {
    if (typeof query.epoch !== 'string' || !EPOCH_PATTERN.test(query.epoch))
      return '"epoch" is not a valid epoch';
    result.epoch = query.epoch;
  }
  if (query.limit !== undefined) {
    const limit = integer(query.limit);
    if (limit === undefined || limit < 1 || limit > maxLimit) return `"limit" must be 1 to ${maxLimit}`;
    result.limit = limit;
  }
  if (query.maxRate !== undefined) {
    const rate = typeof query.maxRate === 'string' ? parseMaxRateText(query.maxRate) : undefined;
    if (rate === undefined) return `"maxRate" must be ${MAX_RATE_RULE}`;
    result.maxRate = rate;
  }
  return result;
}

/**
 * History after `since`. When history no longer covers `since` (or its epoch is gone), the answer is
 * still `recovered:false` but carries everything history holds (at most `limit`, the newest), not just
 * the latest value, so a chart polling or backfilling after a while starts full.
 */
async function readHistory(
  hub: Hub,
  channel: string,
  since: Position,
  limit: number | undefined,
): Promise<ReadResult> {
  const read = await hub.broker.read(channel, since, limit);
  if (read.recovered || read.firstSeq === undefined || read.firstSeq < 1) return read;
  const held = await hub.broker.read(channel, { epoch: read.epoch, seq: read.firstSeq - 1 }, limit);
  if (held.epoch !== read.epoch || held.messages.length === 0) return read;
  return { ...held, recovered: false };
}

/**
 * Bounds an answer to `maxBytes` of messages (at least one), so a poll costs the server no more than
 * a connection's outgoing queue however big the history. A recovered answer on a stream channel keeps
 * the oldest messages that fit, and the poller's next request goes on after the last of them without
 * a gap. Any other keeps the newest that fit: a poller not recovering starts over from them anyway, and
 * a state channel conflates to its newest values, announced with `recovered:false` as over WebSocket.
 */
function withinBytes(read: ReadResult, maxBytes: number, state: boolean): ReadResult {
  const { messages } = read;
  if (messages.length < 2) return read;
  const size = (index: number) => Buffer.byteLength((messages[index] as StoredMessage).frame);
  if (read.recovered && !state) {
    let end = 1;
    for (let bytes = size(0); end < messages.length; end++) {
      bytes += size(end);
      if (bytes > maxBytes) return { ...read, messages: messages.slice(0, end) };
    }
    return read;
  }
  let start = messages.length - 1;
  for (let bytes = size(start); start > 0; start--) {
    bytes += size(start - 1);
    if (bytes > maxBytes) return { ...read, recovered: false, messages: messages.slice(start) };
  }
  return read;
}

/**
 * The messages are the stored envelope strings, spliced in as they are: one encoding for all transports.
 * `conflate` says the messages are only the newest of those due (a state channel polled with a maxRate).
 */
function messagesBody(channel: string, read: ReadResult, conflate: boolean): string {
  const frames = read.messages.map((message) => message.frame).join(',');
  const flag = conflate ? ',"conflate":true' : '';
  return `{"channel":"${channel}","epoch":"${read.epoch}","seq":${read.seq},"recovered":${read.recovered}${flag},"messages":[${frames}]}`;
}
