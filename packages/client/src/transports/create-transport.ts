import { ErrorCodes, LivedashError } from '@livedash/protocol';
import type { ResolvedOptions } from '../options.js';
import type { TransportName } from '../types.js';
import { PollTransport } from './poll.js';
import { SseTransport } from './sse.js';
import type { Transport, TransportContext } from './transport.js';
import { WebSocketTransport } from './ws.js';

/** A request of the polling transport that takes longer than this fails the transport, ms. */
const POLL_REQUEST_TIMEOUT_MS = 10_000;

/** Creates (and starts) the named transport, or one that fails at once when no implementation is available. */
export function createTransport(
  name: TransportName,
  options: ResolvedOptions,
  context: TransportContext,
): Transport {
  switch (name) {
    case 'ws':
      if (options.WebSocket) return new WebSocketTransport(context, options.WebSocket);
      break;
    case 'sse':
      if (options.EventSource) return new SseTransport(context, options.EventSource);
      break;
    case 'poll':
      if (options.fetch) {
        return new PollTransport(context, {
          fetch: options.fetch,
          intervalMs: options.pollIntervalMs,
          requestTimeoutMs: Math.min(POLL_REQUEST_TIMEOUT_MS, options.connectTimeoutMs),
          environment: options.environment,
        });
      }
      break;
  }
  return new UnavailableTransport(name, context);
}

/** Stands in for a transport with no implementation here (no WebSocket in Node 20, say): fails to open. */
class UnavailableTransport implements Transport {
  readonly name: TransportName;
  #closed = false;

  constructor(name: TransportName, context: TransportContext) {
    this.name = name;
    const what = { ws: 'WebSocket', sse: 'EventSource', poll: 'fetch' }[name];
    queueMicrotask(() => {
      if (this.#closed) return;
      this.#closed = true;
      const message = `no ${what} implementation: pass one in the LiveClient options`;
      context.events.closed(new LivedashError(ErrorCodes.TRANSPORT_FAILED, message), false);
    });
  }

  subscribe(): void {}
  unsubscribe(): void {}
  ping(): boolean {
    return false;
  }
  close(): void {
    this.#closed = true;
  }
}
