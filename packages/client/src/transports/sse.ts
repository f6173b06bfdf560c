import {
  type ErrorFrame,
  encodeResumeToken,
  LivedashError,
  maxRateText,
  type Position,
  parseServerFrame,
  type WelcomeFrame,
} from '@livedash/protocol';
import { withToken } from '../token-source.js';
import {
  type EventSourceConstructor,
  type EventSourceLike,
  samePosition,
  type Transport,
  type TransportContext,
} from './transport.js';

/** `/sse?channels=a,b&since=<resume token>` for every channel the client wants, then `rates`. */
export function sseUrl(
  baseUrl: string,
  positions: ReadonlyMap<string, Position | undefined>,
  rates = '',
): string {
  const channels = [...positions.keys()].join(',');
  const known: [string, Position][] = [];
  for (const [channel, position] of positions) if (position) known.push([channel, position]);
  const since = known.length > 0 ? `&since=${encodeURIComponent(encodeResumeToken(known))}` : '';
  return `${baseUrl}/sse?channels=${encodeURIComponent(channels)}${since}${rates}`;
}

/** `&maxRate=a~5,b~0.5` for the channels that have a `maxRate`; '' when none has. */
export function maxRateParam(
  channels: Iterable<string>,
  maxRate: (channel: string) => number | undefined,
): string {
  const rates: string[] = [];
  for (const channel of channels) {
    const rate = maxRate(channel);
    if (rate !== undefined) rates.push(`${channel}~${maxRateText(rate)}`);
  }
  return rates.length > 0 ? `&maxRate=${encodeURIComponent(rates.join())}` : '';
}

/**
 * The Server-Sent Events transport. A stream names its channels in the URL, so a change of channels
 * reopens it (resuming every channel from the client's position). The browser's own reconnect is not
 * used: on error the stream is closed and the client reconnects with its backoff, resuming from the
 * positions it delivered, so recovery works the same on every transport.
 *
 * The stream counts as open when `$welcome` arrives. With no channel yet there is no stream at all
 * (the server needs one), and the transport reports open at once.
 */
export class SseTransport implements Transport {
  readonly name = 'sse' as const;
  #context: TransportContext;
  #EventSource: EventSourceConstructor;
  #source: EventSourceLike | undefined;
  #opened = false;
  #closed = false;
  #reopenQueued = false;
  /** The positions the current stream was opened with, and its `maxRate` parameter. */
  #openedWith = new Map<string, Position | undefined>();
  #rates = '';

  constructor(context: TransportContext, EventSourceImpl: EventSourceConstructor) {
    this.#context = context;
    this.#EventSource = EventSourceImpl;
    if (context.positions().size > 0) this.#openStream();
    else queueMicrotask(() => this.#reportOpened());
  }

  #reportOpened(heartbeatMs?: number): void {
    if (this.#opened || this.#closed) return;
    this.#opened = true;
    this.#context.events.opened({ heartbeatMs: heartbeatMs || undefined, watchSilence: false });
  }

  #openStream(): void {
    this.#source?.close();
    const positions = this.#context.positions();
    this.#openedWith = positions;
    this.#rates = maxRateParam(positions.keys(), this.#context.maxRate);
    if (positions.size === 0) {
      this.#source = undefined;
      return;
    }
    const source = new this.#EventSource(
      withToken(sseUrl(this.#context.baseUrl, positions, this.#rates), this.#context.token()),
    );
    this.#source = source;
    let welcomed = false;
    source.onmessage = (event: { data: string }) => {
      if (this.#source !== source || this.#closed) return;
      const parsed = parseServerFrame(event.data);
      if (!parsed.ok) return; // a bad event is skipped; the stream goes on
      // A refused channel is no longer on the stream: subscribing it again (a retry) reopens it.
      if (parsed.value.type === '$error')
        this.#openedWith.delete((parsed.value as ErrorFrame).channel as string);
      if (parsed.value.type === '$welcome') {
        welcomed = true;
        this.#reportOpened((parsed.value as WelcomeFrame).heartbeat);
      }
      // A stream opened after the transport (its first channel came later) passes its `$welcome` on,
      // so the client learns the server's heartbeat interval.
      if (welcomed) this.#context.events.frame(parsed.value);
    };
    // Heartbeats come as named events (unseen by onmessage); they let the client watch for silence.
    source.addEventListener('heartbeat', () => {
      if (welcomed && this.#source === source)
        this.#context.events.frame({ type: '$heartbeat', ts: Date.now() });
    });
    source.onerror = () => {
      if (this.#source !== source || this.#closed) return;
      const message = welcomed ? 'SSE stream ended' : 'SSE stream could not open';
      this.#fail(new LivedashError('transport_failed', message));
    };
  }

  #fail(error: LivedashError): void {
    const wasOpen = this.#opened;
    this.close();
    this.#context.events.closed(error, wasOpen);
  }

  /** Reopens once per tick however many channels changed in it. */
  #queueReopen(): void {
    if (this.#reopenQueued || this.#closed) return;
    this.#reopenQueued = true;
    queueMicrotask(() => {
      this.#reopenQueued = false;
      if (!this.#closed) this.#openStream();
    });
  }

  subscribe(channels: ReadonlyMap<string, Position | undefined>): void {
    // The stream carries every channel the client wants (read from `positions()` when it reopens);
    // a stream just opened from exactly these positions, at these rates, needs no reopening.
    const rates = maxRateParam(this.#openedWith.keys(), this.#context.maxRate);
    for (const [channel, position] of channels) {
      if (
        !this.#source ||
        !this.#openedWith.has(channel) ||
        !samePosition(this.#openedWith.get(channel), position) ||
        rates !== this.#rates
      ) {
        this.#queueReopen();
        return;
      }
    }
  }

  unsubscribe(_channels: readonly string[]): void {
    this.#queueReopen();
  }

  ping(_id: number): boolean {
    return false;
  }

  /** An EventSource's URL is fixed: reopen with the new token, resuming every channel from its position. */
  authenticate(_token: string): void {
    this.#queueReopen();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#source?.close();
    this.#source = undefined;
  }
}
