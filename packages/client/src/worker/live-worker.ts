// The connection of every LiveClient that runs in a worker: in a SharedWorker one socket serves every
// tab of the origin (one per server URL: the worker's name), in a dedicated Worker one page. Frames
// are parsed here and sent to each page in one message per frame (~16 ms), for the channels it wants.
// Each channel's recent messages are kept here once for all its pages (shared-history.ts), so a page's
// backfill is answered without asking the server again.
import type { ControlFrame, DataEnvelope, Position, ServerFrame, SubscribedFrame } from '@livedash/protocol';
import { Connection } from '../connection.js';
import { fetchChannelHistory, type HistoryAnswer } from '../history-fetch.js';
import { type ResolvedOptions, resolveOptions } from '../options.js';
import type { ConnectionEvent } from '../state.js';
import { ConnectionStore } from '../stores/connection-store.js';
import { TokenSource } from '../token-source.js';
import type { Transport } from '../transports/transport.js';
import type { ConnectionSnapshot } from '../types.js';
import type { PageMessage, WorkerMessage } from './messages.js';
import { SharedHistory } from './shared-history.js';

/** How long frames wait to be sent to a page together, ms: about one frame of a 60 Hz screen. */
const BATCH_MS = 16;

/** A page's end: a SharedWorker's MessagePort, or a dedicated worker's own scope. */
interface PortLike {
  postMessage(message: WorkerMessage): void;
  onmessage: ((event: { data: PageMessage }) => void) | null;
  close?(): void;
  start?(): void;
  addEventListener?(type: 'close', listener: () => void): void;
}

interface Page {
  port: PortLike;
  channels: Set<string>;
  queue: ServerFrame[];
  timer: ReturnType<typeof setTimeout> | undefined;
  /** Ping ids: the worker's own id → the page's. */
  pings: Map<number, number>;
}

interface Channel {
  /** The pages that want it, each with the `maxRate` it wants (undefined: every message). */
  pages: Map<Page, number | undefined>;
  /** The rate the shared connection subscribes with: the highest of the pages', none if any wants none. */
  rate: number | undefined;
  /** The last position seen on the shared connection (what a reconnect resumes from). */
  position: Position | undefined;
  /** The server's confirmation on the current connection, and the last message: for pages joining later. */
  subscribed: SubscribedFrame | undefined;
  last: DataEnvelope | undefined;
  /** Its recent messages, for every page's backfill; forgotten with the channel when its last page leaves. */
  history: SharedHistory;
  /** The server answered `$error` (not `$subscribed`): a page subscribing again (its retry) is sent on. */
  refused?: boolean;
}

let connection: Connection | undefined;
let store: ConnectionStore | undefined;
let transport: Transport | undefined;
/** The options of the connection and its tokens: how history is read over HTTP. */
let resolved: ResolvedOptions | undefined;
let tokens: TokenSource | undefined;
const pages = new Set<Page>();
const channels = new Map<string, Channel>();
let nextPing = 1;

function send(page: Page, message: WorkerMessage): void {
  try {
    page.port.postMessage(message);
  } catch {
    leave(page); // a page that went away without saying so
  }
}

function queue(page: Page, frame: ServerFrame): void {
  page.queue.push(frame);
  page.timer ??= setTimeout(() => flush(page), BATCH_MS);
}

function flush(page: Page): void {
  clearTimeout(page.timer);
  page.timer = undefined;
  if (page.queue.length === 0) return;
  const frames = page.queue;
  page.queue = [];
  send(page, { t: 'frames', frames });
}

/** The events that bring a fresh page store to the worker's state. */
function catchUpEvents(state: ConnectionSnapshot): ConnectionEvent[] {
  const transportName = state.transport ?? 'ws';
  const error = state.lastError ?? { code: 'transport_failed', message: 'connection lost' };
  const connect: ConnectionEvent = { type: 'connect', transport: transportName };
  switch (state.status) {
    case 'connecting':
      return [connect];
    case 'open':
      return [connect, { type: 'opened', transport: transportName }];
    case 'reconnecting':
      return [connect, { type: 'lost', error, retryAt: state.nextRetryAt ?? Date.now() }];
    case 'failed':
      return [connect, { type: 'give-up', error }];
    case 'offline':
      return [{ type: 'offline' }];
    default:
      return [];
  }
}

function ensureConnection(page: Page, options: Parameters<typeof resolveOptions>[0]): void {
  if (connection && store) {
    send(page, { t: 'events', events: catchUpEvents(store.state) });
    if (transport) send(page, { t: 'opened' });
    return;
  }
  resolved = resolveOptions(options);
  tokens = new TokenSource(options.token, resolved.tokenRefreshMarginMs, (token) =>
    transport?.authenticate?.(token),
  );
  const own = new ConnectionStore();
  store = own;
  // Every transition is replayed on every page's store, so each page's state is the worker's.
  const dispatch = own.dispatch.bind(own);
  own.dispatch = (event: ConnectionEvent) => {
    const changed = dispatch(event);
    if (changed) for (const other of pages) send(other, { t: 'events', events: [event] });
    return changed;
  };
  connection = new Connection(
    resolved,
    own,
    {
      opened: (opened) => {
        transport = opened;
        const positions = new Map<string, Position | undefined>();
        for (const [name, channel] of channels) {
          channel.subscribed = undefined;
          positions.set(name, channel.position);
        }
        if (positions.size > 0) opened.subscribe(positions);
        for (const other of pages) send(other, { t: 'opened' });
      },
      frame: onFrame,
      dropped: () => {
        transport = undefined;
        for (const other of pages) {
          flush(other);
          send(other, { t: 'dropped' });
        }
      },
    },
    () => {
      const positions = new Map<string, Position | undefined>();
      for (const [name, channel] of channels) positions.set(name, channel.position);
      return positions;
    },
    (name) => channels.get(name)?.rate,
    tokens,
  );
}

function onFrame(frame: ServerFrame): void {
  if (!frame.type.startsWith('$')) {
    const envelope = frame as DataEnvelope;
    const channel = channels.get(envelope.type);
    if (!channel) return;
    channel.position = { epoch: envelope.epoch, seq: envelope.seq };
    channel.last = envelope;
    channel.history.record(envelope);
    for (const page of channel.pages.keys()) queue(page, frame);
    return;
  }
  const control = frame as ControlFrame & { channel?: string; id?: number };
  if (control.type === '$pong' && typeof control.id === 'number') {
    for (const page of pages) {
      const id = page.pings.get(control.id);
      if (id === undefined) continue;
      page.pings.delete(control.id);
      flush(page);
      send(page, { t: 'frames', frames: [{ ...control, id } as ServerFrame] });
    }
    return;
  }
  if (typeof control.channel !== 'string') return;
  const channel = channels.get(control.channel);
  if (!channel) return;
  if (control.type === '$subscribed') {
    channel.subscribed = control;
    channel.refused = false;
  } else if (control.type === '$error') {
    channel.subscribed = undefined;
    channel.refused = true;
  }
  for (const page of channel.pages.keys()) queue(page, frame);
}

/** Sets the rate the connection asks for from the pages' (see `Channel.rate`); true when it changed. */
function updateRate(channel: Channel): boolean {
  let rate: number | undefined;
  for (const wanted of channel.pages.values()) {
    if (wanted === undefined) {
      rate = undefined;
      break;
    }
    if (rate === undefined || wanted > rate) rate = wanted;
  }
  const changed = rate !== channel.rate;
  channel.rate = rate;
  return changed;
}

function subscribe(page: Page, list: [string, Position | null, number | null][]): void {
  const fresh = new Map<string, Position | undefined>();
  for (const [name, wanted, rate] of list) {
    let channel = channels.get(name);
    if (!channel) {
      channel = {
        pages: new Map(),
        rate: undefined,
        position: undefined,
        subscribed: undefined,
        last: undefined,
        history: new SharedHistory((since, epoch) => readHistory(name, since, epoch)),
      };
      channels.set(name, channel);
    }
    const joined = !channel.pages.has(page);
    channel.pages.set(page, rate ?? undefined);
    page.channels.add(name);
    const known = channel.position;
    const rateChanged = updateRate(channel);
    if (channel.pages.size === 1 && joined) {
      // A new channel resumes from the page's position, now or when the connection (re)opens.
      channel.position ??= wanted ?? undefined;
      fresh.set(name, wanted ?? undefined);
    } else if (wanted && known && wanted.epoch === known.epoch && wanted.seq < known.seq) {
      // This page is behind the shared position: the server replays from its position (the
      // others drop what they already have).
      fresh.set(name, wanted);
    } else if (rateChanged) {
      // The connection's rate changed: subscribe again from the shared position (nothing lost or repeated).
      fresh.set(name, known);
    } else if (channel.refused) {
      // Refused by the server (`$error unavailable`): the page retries, once for every page of it.
      channel.refused = false;
      fresh.set(name, known);
    } else if (channel.subscribed) {
      // Already live on the shared connection: its confirmation and latest value, as a first subscribe
      // gets. The confirmation is brought up to the latest value, which would otherwise look like a gap;
      // a page asking again from the shared position (a rate of its own changed) missed nothing.
      const { subscribed, last } = channel;
      const latest = last?.epoch === subscribed.epoch ? { ...subscribed, seq: last.seq } : subscribed;
      const caughtUp = !joined && wanted !== null && wanted.epoch === known?.epoch;
      queue(page, caughtUp ? { ...latest, recovered: true } : latest);
      if (channel.last && (!wanted || wanted.epoch !== channel.last.epoch || wanted.seq < channel.last.seq))
        queue(page, channel.last);
    }
  }
  if (fresh.size > 0) transport?.subscribe(fresh);
}

function unsubscribe(page: Page, names: string[]): void {
  const gone: string[] = [];
  const rerated = new Map<string, Position | undefined>();
  for (const name of names) {
    page.channels.delete(name);
    const channel = channels.get(name);
    if (!channel) continue;
    channel.pages.delete(page);
    if (channel.pages.size === 0) {
      channels.delete(name);
      gone.push(name);
    } else if (updateRate(channel)) rerated.set(name, channel.position);
  }
  if (gone.length > 0) transport?.unsubscribe(gone);
  if (rerated.size > 0) transport?.subscribe(rerated);
}

function leave(page: Page): void {
  if (!pages.delete(page)) return;
  clearTimeout(page.timer);
  unsubscribe(page, [...page.channels]);
  if (pages.size === 0) {
    // The last page left: nobody needs the socket.
    connection?.close();
    connection = undefined;
    store = undefined;
    transport = undefined;
    tokens?.close();
    tokens = undefined;
    resolved = undefined;
    channels.clear();
  }
}

function ping(page: Page, id: number): void {
  const own = nextPing++;
  page.pings.set(own, id);
  if (transport?.ping(own)) return;
  // No ping on this transport (or none open): answered when the server answers over HTTP.
  const base = lastBaseUrl;
  fetch(`${base}/healthz`).then(
    () => onFrame({ type: '$pong', id: own } as ServerFrame),
    () => page.pings.delete(own),
  );
}

let lastBaseUrl = '';

function readHistory(
  channel: string,
  since: number,
  epoch: string | undefined,
): Promise<HistoryAnswer | undefined> {
  if (!resolved) return Promise.resolve(undefined);
  return fetchChannelHistory(resolved.fetch, resolved.baseUrl, tokens?.current, channel, since, epoch);
}

/** A page's backfill: from the channel's shared history, or over HTTP for a channel nobody subscribes to. */
async function answerHistory(page: Page, message: Extract<PageMessage, { t: 'history' }>): Promise<void> {
  const { id, channel: name, since, epoch } = message;
  const channel = channels.get(name);
  const entries = channel
    ? await channel.history.read(since, epoch)
    : ((await readHistory(name, since, epoch))?.messages ?? []);
  if (pages.has(page)) send(page, { t: 'history', id, entries });
}

function attach(port: PortLike): void {
  const page: Page = { port, channels: new Set(), queue: [], timer: undefined, pings: new Map() };
  pages.add(page);
  port.onmessage = (event) => {
    const message = event.data;
    switch (message.t) {
      case 'hello':
        try {
          lastBaseUrl = resolveOptions(message.options).baseUrl;
          ensureConnection(page, message.options);
        } catch (error) {
          const reason = error instanceof Error ? error.message : String(error);
          send(page, {
            t: 'events',
            events: [
              { type: 'connect', transport: 'ws' },
              { type: 'give-up', error: { code: 'transport_failed', message: reason } },
            ],
          });
        }
        return;
      case 'start':
        connection?.start();
        return;
      case 'sub':
        subscribe(page, message.channels);
        return;
      case 'unsub':
        unsubscribe(page, message.channels);
        return;
      case 'ping':
        ping(page, message.id);
        return;
      case 'reconnect':
        connection?.reconnect();
        return;
      case 'history':
        void answerHistory(page, message);
        return;
      case 'bye':
        leave(page);
        port.close?.();
        return;
    }
  };
  // Chromium tells a SharedWorker when a page's port closed (the tab went away without a word).
  port.addEventListener?.('close', () => leave(page));
}

const scope = globalThis as unknown as { onconnect?: ((event: { ports: PortLike[] }) => void) | null };
if ('onconnect' in scope) {
  scope.onconnect = (event) => {
    const port = event.ports[0];
    if (!port) return;
    attach(port);
    port.start?.();
  };
} else {
  attach(scope as unknown as PortLike);
}
