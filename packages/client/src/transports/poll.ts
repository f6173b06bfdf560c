import {
  checkServerFrame,
  type DataEnvelope,
  EPOCH_PATTERN,
  type ErrorFrame,
  isValidChannel,
  LivedashError,
  maxRateText,
  type Position,
} from '@livedash/protocol';
import type { EnvironmentLike } from '../environment.js';
import { bearer } from '../token-source.js';
import { type FetchLike, samePosition, type Transport, type TransportContext } from './transport.js';

export interface PollOptions {
  fetch: FetchLike;
  /** Pause between the end of one poll and the start of the next, ms. */
  intervalMs: number;
  /** A request that takes longer is aborted and the transport fails, ms. */
  requestTimeoutMs: number;
  environment: EnvironmentLike;
}

/** The body of `GET /api/channels/:ch/messages`. */
export interface MessagesResponse {
  channel: string;
  epoch: string;
  seq: number;
  recovered: boolean;
  messages: DataEnvelope[];
  /** Only the newest of the messages due (a state channel polled with a `maxRate`). */
  conflate?: boolean;
}

interface PolledChannel {
  position: Position | undefined;
  /** The next answer for this channel is announced with `$subscribed` (first poll after subscribing). */
  announce: boolean;
  /** Its `maxRate` when subscribed: the channel is polled at most that often. */
  rate: number | undefined;
  /** When its last poll started (ms since the Unix epoch). */
  polledAt: number;
}

/** Reads a messages response, or undefined when it is not one. */
export function parseMessagesResponse(body: unknown): MessagesResponse | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const { channel, epoch, seq, recovered, messages, conflate } = body as Record<string, unknown>;
  if (!isValidChannel(channel) || typeof epoch !== 'string' || !EPOCH_PATTERN.test(epoch)) return undefined;
  if (typeof seq !== 'number' || typeof recovered !== 'boolean' || !Array.isArray(messages)) return undefined;
  const valid = messages.every((m: DataEnvelope) => checkServerFrame(m).ok && m.type === channel);
  return valid
    ? { channel, epoch, seq, recovered, messages: messages as DataEnvelope[], conflate: conflate === true }
    : undefined;
}

/**
 * The HTTP polling transport over the history endpoint: each poll asks every channel for the messages
 * after its position (`?since=N&epoch=E`), so nothing published between polls is missed. Polls never
 * overlap (the next starts `intervalMs` after the previous one ended) and pause while the page is
 * hidden. A channel's first answer is announced as `$subscribed`, like on the other transports; a
 * later `recovered:false` (history overran between polls, or a new epoch) is announced the same way.
 */
export class PollTransport implements Transport {
  readonly name = 'poll' as const;
  #context: TransportContext;
  #options: PollOptions;
  #channels = new Map<string, PolledChannel>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #inFlight = false;
  #pollAgain = false;
  #opened = false;
  #closed = false;
  #abort: AbortController | undefined;

  constructor(context: TransportContext, options: PollOptions) {
    this.#context = context;
    this.#options = options;
    for (const [channel, position] of context.positions()) this.#watch(channel, position);
    queueMicrotask(() => void this.#poll());
  }

  subscribe(channels: ReadonlyMap<string, Position | undefined>): void {
    let changed = false;
    for (const [channel, position] of channels) {
      const current = this.#channels.get(channel);
      // Already polled from exactly there, at this rate (the client resubscribing what this transport just delivered).
      if (
        current &&
        samePosition(current.position, position) &&
        current.rate === this.#context.maxRate(channel)
      )
        continue;
      this.#watch(channel, position);
      changed = true;
    }
    if (changed) this.#pollSoon();
  }

  #watch(channel: string, position: Position | undefined): void {
    this.#channels.set(channel, {
      position,
      announce: true,
      rate: this.#context.maxRate(channel),
      polledAt: 0,
    });
  }

  unsubscribe(channels: readonly string[]): void {
    for (const channel of channels) this.#channels.delete(channel);
  }

  ping(_id: number): boolean {
    return false;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#abort?.abort();
  }

  /** New channels are polled at once rather than after the interval (but never overlapping a poll). */
  #pollSoon(): void {
    if (this.#inFlight) {
      this.#pollAgain = true;
      return;
    }
    clearTimeout(this.#timer);
    void this.#poll();
  }

  #schedule(): void {
    if (this.#closed) return;
    clearTimeout(this.#timer);
    if (this.#pollAgain) {
      this.#pollAgain = false;
      this.#timer = setTimeout(() => void this.#poll(), 0);
      return;
    }
    this.#timer = setTimeout(() => void this.#poll(), this.#options.intervalMs);
  }

  async #poll(): Promise<void> {
    if (this.#closed || this.#inFlight) return;
    if (this.#opened && !this.#options.environment.isVisible()) {
      // Paused, not dead: tell the liveness check so, and look again after the interval.
      this.#context.events.frame({ type: '$heartbeat', ts: Date.now() });
      this.#schedule();
      return;
    }
    this.#inFlight = true;
    this.#abort = new AbortController();
    const timeout = setTimeout(() => this.#abort?.abort(), this.#options.requestTimeoutMs);
    try {
      // A channel with a maxRate is polled at most that often (skipped until its interval has passed).
      const now = Date.now();
      const channels = [...this.#channels].flatMap(([channel, state]) => {
        if (state.rate !== undefined && now - state.polledAt < 1000 / state.rate) return [];
        state.polledAt = now;
        return [channel];
      });
      if (this.#channels.size === 0) await this.#get('/api/channels?limit=0');
      const answers = await Promise.all(channels.map((channel) => this.#fetchChannel(channel)));
      if (this.#closed) return;
      if (!this.#opened) {
        this.#opened = true;
        this.#context.events.opened({
          heartbeatMs: this.#options.intervalMs + this.#options.requestTimeoutMs,
        });
      }
      for (const answer of answers)
        if (answer) 'code' in answer ? this.#context.events.frame(answer) : this.#deliver(answer);
      this.#context.events.frame({ type: '$heartbeat', ts: Date.now() });
    } catch (error) {
      if (this.#closed) return;
      const wasOpen = this.#opened;
      this.close();
      const message = error instanceof LivedashError ? error.message : `polling failed: ${String(error)}`;
      this.#context.events.closed(new LivedashError('transport_failed', message), wasOpen);
      return;
    } finally {
      clearTimeout(timeout);
      this.#inFlight = false;
    }
    this.#schedule();
  }

  /** One channel's answer, or `$error` when the server cannot serve it now (its broker is down). */
  async #fetchChannel(channel: string): Promise<MessagesResponse | ErrorFrame | undefined> {
    const state = this.#channels.get(channel);
    if (!state) return undefined;
    const { position, rate } = state;
    // Without a position only the latest value is wanted, as a WebSocket subscribe would send.
    const query = `${position ? `since=${position.seq}&epoch=${position.epoch}` : 'since=0&limit=1'}${rate === undefined ? '' : `&maxRate=${maxRateText(rate)}`}`;
    const body = await this.#get(`/api/channels/${encodeURIComponent(channel)}/messages?${query}`);
    const error = (body as { error?: ErrorFrame }).error;
    if (error?.code === 'unavailable') {
      // Refused alone, as over WebSocket: polled no more until subscribed again (the client retries).
      this.#channels.delete(channel);
      return { ...error, type: '$error', channel };
    }
    const response = parseMessagesResponse(body);
    if (!response || response.channel !== channel) {
      throw new LivedashError('transport_failed', `unexpected answer polling "${channel}"`);
    }
    return response;
  }

  /** JSON, with the client's current token (read per request, so a refreshed one is used at once). */
  #headers(): Record<string, string> {
    return { accept: 'application/json', ...bearer(this.#context.token()) };
  }

  async #get(path: string): Promise<unknown> {
    const response = await this.#options.fetch(`${this.#context.baseUrl}${path}`, {
      ...(this.#abort ? { signal: this.#abort.signal } : {}),
      headers: this.#headers(),
    });
    // A 503 is an answer too: the server is there, its broker is not (`unavailable`); what was asked
    // is refused, the connection stays.
    if (response.ok || response.status === 503) return response.json();
    throw new LivedashError('transport_failed', `GET ${path} answered ${response.status}`);
  }

  #deliver(response: MessagesResponse): void {
    const state = this.#channels.get(response.channel);
    if (!state) return; // unsubscribed while the poll was in flight
    const known = state.position;
    const lost = known !== undefined && (!response.recovered || response.epoch !== known.epoch);
    if (state.announce || lost) {
      const { channel, epoch, seq } = response;
      this.#context.events.frame({
        type: '$subscribed',
        channel,
        epoch,
        seq,
        recovered: !lost && known !== undefined,
        conflate: response.conflate === true,
      });
      state.announce = false;
    }
    for (const envelope of response.messages) {
      if (this.#closed || this.#channels.get(response.channel) !== state) return;
      this.#context.events.frame(envelope);
      state.position = { epoch: envelope.epoch, seq: envelope.seq };
    }
    if (response.messages.length === 0 && (lost || !known)) {
      // Nothing to deliver, but the next poll must start from where the channel is now.
      state.position = response.seq === 0 ? undefined : { epoch: response.epoch, seq: response.seq };
    }
  }
}
