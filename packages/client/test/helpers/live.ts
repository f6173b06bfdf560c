import { createServer, type LivedashServer } from '@livedash/server';
import { EventSource } from 'eventsource';
import { afterEach, beforeEach } from 'vitest';
import WebSocket from 'ws';
import { LiveClient, type LiveClientOptions } from '../../src/index.js';

/** Node test defaults: the `ws` and `eventsource` packages, quick retries, no browser environment. */
export function nodeClient<C extends Record<string, unknown> = Record<string, unknown>>(
  options: LiveClientOptions,
): LiveClient<C> {
  return new LiveClient<C>({
    WebSocket,
    EventSource,
    ...options,
  });
}

/** A real server on port 0. */
export function startServer(options: Parameters<typeof createServer>[0] = {}): Promise<LivedashServer> {
  return createServer({ port: 0, publishToken: 'secret', ...options });
}

/** Collects `(data, meta)` of one channel. */
export function collect<T>(client: LiveClient, channel: string) {
  const received: { data: T; seq: number; epoch: string; replayed: boolean; reset: boolean }[] = [];
  const resets: string[] = [];
  const state = { subscribed: 0 };
  const off = client.subscribe<T>(
    channel,
    (data, meta) =>
      received.push({
        data,
        seq: meta.seq,
        epoch: meta.epoch,
        replayed: meta.replayed,
        reset: meta.reset === true,
      }),
    { onReset: (info) => resets.push(info.epoch), onSubscribed: () => state.subscribed++ },
  );
  /** Times the server confirmed the subscription (once per connection). */
  const subscribed = () => state.subscribed;
  return { received, resets, off, subscribed };
}

/**
 * A fresh server before each test of the calling file, and a `client()` factory whose clients are
 * closed after it. `live.server` may be replaced by a test (a restart on the same port).
 */
export function useLiveServer(options: Parameters<typeof createServer>[0] = {}) {
  const clients: LiveClient[] = [];
  const live = {
    server: undefined as unknown as LivedashServer,
    client<C extends Record<string, unknown> = Record<string, unknown>>(extra: object = {}): LiveClient<C> {
      const made = nodeClient<C>({ url: live.server.url, ...extra });
      clients.push(made as LiveClient);
      return made;
    },
    /** Closes `client` after the test too. */
    adopt(client: LiveClient): void {
      clients.push(client);
    },
  };
  beforeEach(async () => {
    live.server = await startServer(options);
  });
  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    await live.server.close();
  });
  return live;
}

/** Resolves when the server has confirmed `channel` for `client`. */
export function subscribed(client: LiveClient, channel: string): Promise<void> {
  return new Promise((resolve) => {
    const off = client.subscribe(channel, () => {}, {
      onSubscribed: () => {
        resolve();
        queueMicrotask(off);
      },
    });
  });
}
