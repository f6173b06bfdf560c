import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import {
  type ControlFrame,
  ErrorCodes,
  encodeControl,
  encodeResumeToken,
  isValidChannel,
  LivedashError,
  MAX_RATE_RULE,
  type Position,
  PROTOCOL_VERSION,
  parseMaxRateText,
  parseResumeToken,
  type Result,
} from '@livedash/protocol';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AccessControl } from '../auth/access-control.js';
import { canSubscribe, type Principal, refusal } from '../auth/authenticator.js';
import { principalOf } from '../auth/http-access.js';
import { PrincipalLifetime } from '../auth/principal-lifetime.js';
import type { StoredMessage } from '../brokers/broker.js';
import { ChannelPolicies } from '../channel-policy.js';
import type { Hub } from '../hub.js';
import { MessageBytes } from '../message-bytes.js';
import type { ServerOptions } from '../options.js';
import { conflationNotice, FlushScheduler, OutgoingQueue, type OutgoingShared } from '../outgoing-queue.js';
import type { ServerMetrics } from '../server-metrics.js';
import type { Session } from '../session.js';
import { HeartbeatWheel } from './heartbeat-wheel.js';
import { sendError } from './http-errors.js';

/** Reconnect delay suggested to EventSource (`retry:`), ms. */
export const SSE_RETRY_MS = 1000;

export interface SseContext {
  hub: Hub;
  options: ServerOptions;
  metrics: ServerMetrics;
  access: AccessControl;
}

/** The fan-out machinery every stream shares. */
type SseOutgoing = OutgoingShared<SseStream>;

/**
 * The event of a message for streams of one channel: their `id:` (the stream's position) is then the
 * message's own position, so the bytes are the same for all of them and are built once per message.
 * Streams of several channels build their own.
 */
function singleChannelEvents(): MessageBytes {
  return new MessageBytes((message) => {
    const id = encodeResumeToken([[message.channel, { epoch: message.epoch, seq: message.seq }]]);
    return Buffer.from(`id: ${id}\ndata: ${message.frame}\n\n`);
  });
}

function sseOutgoingHooks(metrics: ServerMetrics): SseOutgoing['hooks'] {
  const single = singleChannelEvents();
  return {
    encode: (message, stream) =>
      stream.session.size === 1
        ? single.of(message)
        : Buffer.from(`id: ${stream.token()}\ndata: ${message.frame}\n\n`),
    conflationNotice: (message, stream) =>
      Buffer.from(`id: ${stream.token()}\ndata: ${encodeControl(conflationNotice(message))}\n\n`),
    overflow: (stream) => stream.closeSlow(),
    isOpen: (stream) => stream.open,
    dropped: (reason, count) => metrics.dropped.inc({ reason }, count),
    failed: (stream, error) => {
      metrics.faults.record('timer', error);
      stream.destroy();
    },
  };
}

/**
 * One SSE stream. Every event is unnamed (so `EventSource.onmessage` gets it); its `data:` is the
 * same string as a WebSocket frame, and data events carry `id:` = the stream's position in every
 * channel, which the browser sends back as `Last-Event-ID` when it reconnects.
 */
class SseStream {
  readonly #response: ServerResponse;
  readonly #ctx: SseContext;
  readonly session: Session;
  /** Data events are batched per event-loop turn and bounded like a WebSocket's (see OutgoingQueue). */
  readonly #out: OutgoingQueue<SseStream>;

  constructor(response: ServerResponse, ctx: SseContext, outgoing: SseOutgoing) {
    this.#response = response;
    this.#ctx = ctx;
    this.#out = new OutgoingQueue(response, this, outgoing);
    this.session = ctx.hub.session({
      deliver: (message: StoredMessage) => this.#out.push(message),
      control: (frame: ControlFrame) => this.#control(frame),
      overflow: () => this.closeSlow(),
      fits: (message: StoredMessage) => this.#out.fits(message),
      whenDrained: (callback: () => void) => this.#out.whenDrained(callback),
    });
  }

  get open(): boolean {
    return !this.#response.writableEnded && !this.#response.destroyed;
  }

  /** Sends `$error` as a data event (for `channel` when given), and ends the stream when `end` is set. */
  fail(error: LivedashError, channel: string | undefined, end: boolean): void {
    const frame: ControlFrame = { type: '$error', code: error.code, message: error.message };
    if (channel !== undefined) frame.channel = channel;
    this.#control(frame);
    if (end) this.end();
  }

  /**
   * A comment keeps proxies from timing the stream out; the named `heartbeat` event lets a client see
   * the beat (EventSource never surfaces comments) and detect a half-open stream by silence. Being
   * named, it never reaches `onmessage`, so plain EventSource readers see only channel data.
   */
  heartbeat(): void {
    this.#write(`: heartbeat\nevent: heartbeat\ndata: {"type":"$heartbeat","ts":${Date.now()}}\n\n`);
  }

  end(): void {
    this.#out.flush();
    this.#out.close();
    if (this.open) this.#response.end();
  }

  /** Cuts the stream at once (its handling failed); the response's 'close' cleans up. */
  destroy(): void {
    this.#out.close();
    this.#response.destroy();
  }

  /** The connection is gone: drop whatever is still queued. */
  dispose(): void {
    this.#out.close();
  }

  closeSlow(): void {
    if (!this.open) return;
    this.#out.close();
    this.#ctx.metrics.slowConsumerDisconnects.inc({ transport: 'sse' });
    // Whatever is queued will not be read in time; cut the stream. EventSource reconnects with
    // Last-Event-ID and recovers from history.
    this.#response.destroy();
  }

  #control(frame: ControlFrame): void {
    // `$subscribed` may move the stream's position, so it carries an id; errors do not. An empty id
    // would reset the browser's Last-Event-ID, so none is sent before there is a position.
    const token = frame.type === '$subscribed' ? this.token() : '';
    const id = token === '' ? '' : `id: ${token}\n`;
    this.#write(`${id}data: ${encodeControl(frame)}\n\n`);
  }

  /** The stream's position in every channel, as sent in `id:` (and returned as Last-Event-ID). */
  token(): string {
    return encodeResumeToken(this.#sent());
  }

  /**
   * Each channel's position as far as this stream has written it. A state value the full queue holds
   * has already moved the subscription's position; the id names the one before it instead, so a
   * browser resuming from it gets that value (the ones in between were conflated away).
   */
  *#sent(): IterableIterator<[string, Position]> {
    for (const [channel, position] of this.session.positions()) {
      const held = this.#out.held(channel);
      yield [channel, held ? { epoch: held.epoch, seq: held.seq - 1 } : position];
    }
  }

  /** Writes a control event or comment now, after any data events still waiting for this turn. */
  #write(chunk: string): void {
    this.#out.writeNow(Buffer.from(chunk));
  }
}

/**
 * The SSE endpoint, where the client's `SseTransport` connects: registers
 * `GET /sse?channels=a,b[&since=<token>]`. Invalid channels or tokens answer 400 with a
 * JSON error before the stream starts; `Last-Event-ID` wins over `since` (it is newer).
 */
export class SseEndpoint {
  readonly #ctx: SseContext;
  readonly #outgoing: SseOutgoing;
  /** Every open stream; each gets a heartbeat once per period, spread over it. */
  readonly #streams: HeartbeatWheel<SseStream>;
  #closing = false;

  constructor(app: FastifyInstance, ctx: SseContext) {
    this.#ctx = ctx;
    const { metrics } = ctx;
    this.#outgoing = {
      scheduler: new FlushScheduler((frames, bytes) => {
        metrics.messagesOut.inc({ transport: 'sse' }, frames);
        metrics.bytesOut.inc({ transport: 'sse' }, bytes);
      }),
      maxQueueBytes: ctx.options.maxQueueBytes,
      policies: new ChannelPolicies(ctx.options.stateChannels),
      hooks: sseOutgoingHooks(metrics),
    };
    app.get('/sse', (request, reply) => {
      // HEAD would run the stream with its writes dropped: headers never sent, a stream slot held.
      if (request.method === 'HEAD') {
        reply.header('allow', 'GET');
        return sendError(reply, 405, ErrorCodes.BAD_COMMAND, 'open the stream with GET');
      }
      if (this.#closing) return sendError(reply, 503, ErrorCodes.SHUTTING_DOWN, 'server is shutting down');
      const parsed = parseSseRequest(request, ctx.options.maxSubscriptions);
      if (!parsed.ok) {
        ctx.metrics.protocolErrors.inc({ code: parsed.error.code });
        if (parsed.error.code === ErrorCodes.TOO_MANY_SUBSCRIPTIONS)
          ctx.access.metrics.limitHit('subscriptions');
        return sendError(reply, 400, parsed.error.code, parsed.error.message);
      }
      reply.hijack();
      const { channels, since, maxRates } = parsed.value;
      try {
        // The headers set so far (CORS for a listed origin) go out with the stream's own.
        const headers = reply.getHeaders() as OutgoingHttpHeaders;
        this.#open(reply.raw, headers, channels, since, maxRates, principalOf(request, ctx.access));
      } catch (error) {
        // Hijacked: Fastify no longer answers for this request, so nothing else would close it.
        ctx.metrics.faults.record('sse', error);
        reply.raw.destroy();
      }
    });
    this.#streams = new HeartbeatWheel(
      ctx.options.heartbeatMs,
      (stream) => stream.heartbeat(),
      (stream, error) => {
        metrics.faults.record('timer', error);
        stream.destroy();
      },
    );
  }

  get size(): number {
    return this.#streams.size;
  }

  /** Ends every stream (EventSource then reconnects after `retry`, to another node or the restarted one). */
  close(): void {
    this.#closing = true;
    this.#streams.stop();
    for (const stream of this.#streams) stream.end();
  }

  #open(
    response: ServerResponse,
    headers: OutgoingHttpHeaders,
    channels: string[],
    since: Map<string, Position>,
    maxRates: Map<string, number>,
    principal: Principal,
  ): void {
    const { metrics, options } = this.#ctx;
    response.socket?.setTimeout(0);
    response.writeHead(200, {
      ...headers,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    response.write(`retry: ${SSE_RETRY_MS}\n\n`);
    const stream = new SseStream(response, this.#ctx, this.#outgoing);
    this.#streams.add(stream);
    metrics.connections.inc({ transport: 'sse' });
    response.on('close', () => {
      this.#streams.delete(stream);
      metrics.connections.dec({ transport: 'sse' });
      try {
        stream.dispose();
        stream.session.close();
      } catch (error) {
        metrics.faults.record('sse', error);
      }
    });
    response.on('error', () => response.destroy());
    const welcome = {
      type: '$welcome',
      version: PROTOCOL_VERSION,
      heartbeat: options.heartbeatMs,
      node: options.node,
    };
    response.write(`data: ${JSON.stringify(welcome)}\n\n`);
    // The stream ends with `$error token_expired` when its token runs out; EventSource then reconnects
    // with whatever URL (and token) the page gives it, resuming from Last-Event-ID.
    const lifetime = new PrincipalLifetime(principal, (error) => {
      try {
        stream.fail(error, undefined, true);
      } catch (fault) {
        metrics.faults.record('timer', fault);
        stream.destroy();
      }
    });
    response.on('close', () => lifetime.dispose());
    for (const channel of channels) {
      // A channel the credentials do not allow is refused alone; the stream serves the others.
      if (canSubscribe(principal, channel))
        void stream.session.subscribe(channel, since.get(channel), undefined, maxRates.get(channel));
      else {
        const denied = refusal(principal, 'subscribe to', channel);
        this.#ctx.access.metrics.authRefused(
          denied.code === ErrorCodes.FORBIDDEN ? 'forbidden' : 'unauthorized',
        );
        stream.fail(denied, channel, false);
      }
    }
  }
}

function parseSseRequest(
  request: FastifyRequest,
  maxChannels: number,
): Result<
  { channels: string[]; since: Map<string, Position>; maxRates: Map<string, number> },
  LivedashError
> {
  const query = request.query as Record<string, unknown>;
  const raw = query.channels;
  const text = Array.isArray(raw) ? raw.join(',') : typeof raw === 'string' ? raw : '';
  const channels = [...new Set(text.split(',').filter((name) => name !== ''))];
  const fail = (code: LivedashError['code'], message: string) => ({
    ok: false as const,
    error: new LivedashError(code, message),
  });
  if (channels.length === 0)
    return fail(ErrorCodes.BAD_COMMAND, 'name at least one channel: /sse?channels=a,b');
  if (channels.length > maxChannels)
    return fail(ErrorCodes.TOO_MANY_SUBSCRIPTIONS, `at most ${maxChannels} channels per stream`);
  const invalid = channels.find((name: string) => !isValidChannel(name)) as string | undefined;
  if (invalid !== undefined)
    return fail(ErrorCodes.INVALID_CHANNEL, `invalid channel name "${invalid.slice(0, 64)}"`);
  const header = request.headers['last-event-id'];
  const token =
    typeof header === 'string' && header !== '' ? header : typeof query.since === 'string' ? query.since : '';
  const since = parseResumeToken(token);
  if (!since.ok) return since;
  const maxRates = parseSseMaxRates(query.maxRate, channels);
  if (!maxRates.ok) return maxRates;
  return { ok: true, value: { channels, since: since.value, maxRates: maxRates.value } };
}

/**
 * `maxRate=5` (every channel of the stream), `maxRate=cpu~5,logs~1` (per channel), or both
 * (`maxRate=5,logs~1`: 5 for every channel but `logs`). A channel named must be one of the stream's.
 */
export function parseSseMaxRates(
  raw: unknown,
  channels: readonly string[],
): Result<Map<string, number>, LivedashError> {
  const rates = new Map<string, number>();
  if (raw === undefined) return { ok: true, value: rates };
  const fail = (message: string) => ({
    ok: false as const,
    error: new LivedashError(ErrorCodes.BAD_COMMAND, message),
  });
  if (typeof raw !== 'string' || raw === '')
    return fail(`"maxRate" must be given once: <rate> or <channel>~<rate>,…, each ${MAX_RATE_RULE}`);
  let all: number | undefined;
  for (const entry of raw.split(',')) {
    const mark = entry.indexOf('~');
    const channel = mark < 0 ? undefined : entry.slice(0, mark);
    const rate = parseMaxRateText(mark < 0 ? entry : entry.slice(mark + 1));
    if (rate === undefined)
      return fail(`"maxRate" entry "${entry.slice(0, 80)}": the rate must be ${MAX_RATE_RULE}`);
    if (channel === undefined) {
      if (all !== undefined) return fail('"maxRate" names a rate for every channel twice');
      all = rate;
    } else if (!channels.includes(channel)) {
      return fail(`"maxRate" names "${channel.slice(0, 64)}", which is not among the stream's channels`);
    } else if (rates.has(channel)) {
      return fail(`"maxRate" names "${channel}" twice`);
    } else rates.set(channel, rate);
  }
  if (all !== undefined) for (const channel of channels) if (!rates.has(channel)) rates.set(channel, all);
  return { ok: true, value: rates };
}
