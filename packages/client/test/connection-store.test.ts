import type { LivedashServer } from '@livedash/server';
import { afterEach, beforeEach, expect, test } from 'vitest';
import type { LiveClient } from '../src/index.js';
import { nodeClient, startServer, waitFor } from './helpers/live.js';

let server: LivedashServer;
const clients: LiveClient[] = [];

beforeEach(async () => {
  server = await startServer();
});

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await server.close();
});

function client<C extends Record<string, unknown> = Record<string, unknown>>(
  extra: object = {},
): LiveClient<C> {
  const made = nodeClient<C>({ url: server.url, ...extra });
  clients.push(made as LiveClient);
  return made;
}

/** Resolves when the server has confirmed `channel` for `c`. */
function _subscribed(c: LiveClient, channel: string): Promise<void> {
  return new Promise((resolve) => {
    const off = c.subscribe(channel, () => {}, {
      onSubscribed: () => {
        resolve();
        queueMicrotask(off);
      },
    });
  });
}

test('connection store: same snapshot until something changes', async () => {
  const c = client();
  const first = c.connection.getSnapshot();
  expect(c.connection.getSnapshot()).toBe(first);
  let notified = 0;
  const off = c.connection.subscribe(() => notified++);
  await waitFor(() => c.connection.getSnapshot().status === 'open');
  expect(notified).toBeGreaterThan(0);
  const open = c.connection.getSnapshot();
  expect(c.connection.getSnapshot()).toBe(open);
  expect(Object.isFrozen(open)).toBe(true);
  off();
});
