// @vitest-environment happy-dom
import { LiveClient } from '@livedash/client';
import { LiveProvider, useRealTimeData } from '@livedash/react';
import { createServer } from '@livedash/server';
import { cleanup, render, screen, waitFor } from '@testing-library/react';
import { Profiler } from 'react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startServer, type TestServer, testClientOptions } from './helpers/live-server.js';

let t: TestServer;
const clients: LiveClient[] = [];
const extraServers: { close(): Promise<void> }[] = [];

function newClient(): LiveClient {
  const client = new LiveClient({
    url: t.url,
    autoConnect: false,
    backoff: { initialDelayMs: 50, maxDelayMs: 200 },
    ...testClientOptions(),
  });
  clients.push(client);
  return client;
}

beforeEach(async () => {
  t = await startServer();
});

afterEach(async () => {
  cleanup();
  for (const client of clients.splice(0)) client.close();
  for (const server of extraServers.splice(0)) await server.close();
  await t.close();
});

type State = Record<string, number>;

function Show({ channel, merge }: { channel: string; merge?: (previous: State, update: unknown) => State }) {
  const state = useRealTimeData<State>(channel, { initial: 0 }, merge ? { merge } : {});
  return <span data-testid={channel}>{JSON.stringify(state)}</span>;
}

describe('useRealTimeData', () => {
  it('starts from initialData and shallow-merges every message, even several within one frame', async () => {
    render(
      <LiveProvider client={newClient()}>
        <Show channel="parts" />
      </LiveProvider>,
    );
    expect(screen.getByTestId('parts').textContent).toBe('{"initial":0}');
    await waitFor(() => expect(t.subscriptions()).toBe(1));
    // Published back to back: they arrive within one frame, and none may be lost to batching.
    await Promise.all([
      t.server.hub.publish('parts', { cpu: 1 }),
      t.server.hub.publish('parts', { memory: 2 }),
      t.server.hub.publish('parts', { disk: 3 }),
    ]);
    await waitFor(() =>
      expect(JSON.parse(screen.getByTestId('parts').textContent ?? '')).toEqual({
        initial: 0,
        cpu: 1,
        memory: 2,
        disk: 3,
      }),
    );
  });

  it('replaces non-object values, and uses a custom merge when given', async () => {
    const sum = (previous: State, update: unknown): State => ({
      total: (previous.total ?? 0) + Number(update),
    });
    render(
      <LiveProvider client={newClient()}>
        <Show channel="replace" />
        <Show channel="sum" merge={sum} />
      </LiveProvider>,
    );
    await waitFor(() => expect(t.subscriptions()).toBe(2));
    await t.server.hub.publish('replace', [1, 2]);
    for (const n of [1, 2, 3, 4]) await t.server.hub.publish('sum', n);
    await waitFor(() => expect(screen.getByTestId('sum').textContent).toBe('{"total":10}'));
    expect(screen.getByTestId('replace').textContent).toBe('[1,2]');
  });

  it('renders a bounded number of times for 1,000 messages and holds the right final state', async () => {
    let commits = 0;
    render(
      <LiveProvider client={newClient()}>
        <Profiler id="burst" onRender={() => commits++}>
          <Show channel="burst" />
        </Profiler>
      </LiveProvider>,
    );
    await waitFor(() => expect(t.subscriptions()).toBe(1));
    const before = commits;
    await Promise.all(
      Array.from({ length: 1000 }, (_, i) => t.server.hub.publish('burst', { [`k${i % 10}`]: i, last: i })),
    );
    await waitFor(() => expect(JSON.parse(screen.getByTestId('burst').textContent ?? '').last).toBe(999), {
      timeout: 10_000,
    });
    const state = JSON.parse(screen.getByTestId('burst').textContent ?? '');
    expect(state).toEqual({
      initial: 0,
      k0: 990,
      k1: 991,
      k2: 992,
      k3: 993,
      k4: 994,
      k5: 995,
      k6: 996,
      k7: 997,
      k8: 998,
      k9: 999,
      last: 999,
    });
    expect(commits - before).toBeGreaterThanOrEqual(1);
    expect(commits - before).toBeLessThan(100);
  });

  it('starts over from initialData when the server cannot recover what was missed', async () => {
    const client = newClient();
    render(
      <LiveProvider client={client}>
        <Show channel="gap" />
      </LiveProvider>,
    );
    await waitFor(() => expect(t.subscriptions()).toBe(1));
    await t.server.hub.publish('gap', { a: 1 });
    await t.server.hub.publish('gap', { b: 2 });
    await waitFor(() => expect(screen.getByTestId('gap').textContent).toBe('{"initial":0,"a":1,"b":2}'));
    // A restart with a fresh in-memory broker: the channel's history (and epoch) is gone.
    const port = t.server.port;
    await t.close();
    const restarted = await createServer({ port, publishToken: 'secret' });
    extraServers.push(restarted);
    t = { ...t, close: async () => {} };
    await waitFor(() => expect(restarted.hub.subscriptionCount).toBe(1), { timeout: 10_000 });
    await restarted.hub.publish('gap', { c: 3 });
    await waitFor(() => expect(screen.getByTestId('gap').textContent).toBe('{"initial":0,"c":3}'));
  });
});
