import type { ResolvedOptions } from '../options.js';
import type { TransportName } from '../types.js';
import { PollTransport } from './poll.js';
import { SseTransport } from './sse.js';
import type { Transport, TransportContext } from './transport.js';
import { WebSocketTransport } from './ws.js';

/** A request of the polling transport that takes longer than this fails the transport, ms. */
const POLL_REQUEST_TIMEOUT_MS = 10_000;

/** Creates (and starts) the named transport; `resolveOptions` left out every transport without an implementation. */
export function createTransport(
  name: TransportName,
  options: ResolvedOptions,
  context: TransportContext,
): Transport {
  switch (name) {
    case 'ws':
      return new WebSocketTransport(context, options.WebSocket!);
    case 'sse':
      return new SseTransport(context, options.EventSource!);
    case 'poll':
      return new PollTransport(context, {
        fetch: options.fetch!,
        intervalMs: options.pollIntervalMs,
        requestTimeoutMs: Math.min(POLL_REQUEST_TIMEOUT_MS, options.connectTimeoutMs),
        environment: options.environment,
      });
  }
}
