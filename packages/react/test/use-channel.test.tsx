// @vitest-environment happy-dom
import { LiveClient } from '@livedash/client';
import { LiveProvider, useChannel } from '@livedash/react';
import { act, cleanup, render, screen, waitFor } from '@testing-library/react';
import { Profiler, StrictMode, useState } from 'react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startServer, type TestServer, testClientOptions } from './helpers/live-server.js';

interface Metrics {
  cpu: number;
  memory: number;
}

let t: TestServer;
const clients: LiveClient[] = [];

function newClient(): LiveClient {
  const client = new LiveClient({ url: t.url, autoConnect: false, ...testClientOptions() });
  clients.push(client);
  return client;
}

beforeEach(async () => {
  t = await startServer();
});

afterEach(async () => {
  cleanup();
  for (const client of clients.splice(0)) client.close();
  await t.close();
});

function Value({ channel, testId }: { channel: string; testId: string }) {
  const { data, status } = useChannel<{ n: number }>(channel);
  return (
    <span data-testid={testId}>
      {status}:{data?.n ?? '-'}
    </span>
  );
}

let setShown: (n: number) => void = () => {};
function Several() {
  const [shown, set] = useState(2);
  setShown = set;
  return (
    <>
      {shown >= 1 && <Value channel="x" testId="x1" />}
      {shown >= 2 && <Value channel="x" testId="x2" />}
      <Value channel="y" testId="y" />
    </>
  );
}

let cpuRenders = 0;
function Cpu() {
  cpuRenders++;
  const { data } = useChannel<Metrics, number | undefined>('metrics-sel', { select: (m) => m?.cpu });
  return <span data-testid="cpu">{data ?? '-'}</span>;
}

function Series() {
  const { history } = useChannel<{ n: number }>('series', { history: 10 });
  return <span data-testid="series">{history.map((entry) => entry.data.n).join(',')}</span>;
}

function SeriesTail() {
  const { data, history } = useChannel<{ n: number }>('series-burst', { history: 50 });
  return (
    <span data-testid="series-tail">{`${data?.n ?? '-'}|${history.length}|${history[0]?.data.n ?? '-'}`}</span>
  );
}

describe('useChannel', () => {
  it('shares one connection between components on the same and on different channels', async () => {
    const client = newClient();
    render(
      <LiveProvider client={client}>
        <Value channel="a" testId="a1" />
        <Value channel="a" testId="a2" />
        <Value channel="b" testId="b1" />
        <Value channel="c" testId="c1" />
      </LiveProvider>,
    );
    await waitFor(() => expect(t.subscriptions()).toBe(3));
    await t.server.hub.publish('a', { n: 1 });
    await t.server.hub.publish('b', { n: 2 });
    await waitFor(() => expect(screen.getByTestId('b1').textContent).toBe('live:2'));
    expect(screen.getByTestId('a1').textContent).toBe('live:1');
    expect(screen.getByTestId('a2').textContent).toBe('live:1');
    expect(t.upgrades()).toBe(1);
    expect(await t.openConnections()).toBe(1);
  });

  it('unsubscribes on the server when the last component of a channel unmounts', async () => {
    const client = newClient();
    render(
      <LiveProvider client={client}>
        <Several />
      </LiveProvider>,
    );
    await waitFor(() => expect(t.subscriptions()).toBe(2));
    act(() => setShown(1));
    // One reader of x is left: still subscribed.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(t.subscriptions()).toBe(2);
    act(() => setShown(0));
    await waitFor(() => expect(t.subscriptions()).toBe(1));
    cleanup();
    await waitFor(() => expect(t.subscriptions()).toBe(0));
    expect(t.upgrades()).toBe(1);
  });

  it('opens exactly one connection and leaks no subscription under StrictMode', async () => {
    const { unmount } = render(
      <StrictMode>
        <LiveProvider url={t.url} options={testClientOptions()}>
          <Value channel="s" testId="s1" />
          <Value channel="s" testId="s2" />
          <Value channel="t" testId="t1" />
        </LiveProvider>
      </StrictMode>,
    );
    await waitFor(() => expect(t.subscriptions()).toBe(2));
    await t.server.hub.publish('s', { n: 7 });
    await waitFor(() => expect(screen.getByTestId('s2').textContent).toBe('live:7'));
    expect(t.upgrades()).toBe(1);
    expect(await t.openConnections()).toBe(1);
    unmount();
    // The provider owns the client it made from `url`: unmounting closes it.
    await waitFor(async () => expect(await t.openConnections()).toBe(0));
    expect(t.subscriptions()).toBe(0);
    expect(t.upgrades()).toBe(1);
  });

  it('renders a bounded number of times for a burst of 1,000 messages and ends on the last', async () => {
    const client = newClient();
    let commits = 0;
    render(
      <LiveProvider client={client}>
        <Profiler id="burst" onRender={() => commits++}>
          <Value channel="burst" testId="burst" />
        </Profiler>
      </LiveProvider>,
    );
    await waitFor(() => expect(t.subscriptions()).toBe(1));
    await waitFor(() => expect(screen.getByTestId('burst').textContent).toMatch(/^live|^pending/));
    const before = commits;
    await Promise.all(Array.from({ length: 1000 }, (_, i) => t.server.hub.publish('burst', { n: i + 1 })));
    await waitFor(() => expect(screen.getByTestId('burst').textContent).toBe('live:1000'), {
      timeout: 10_000,
    });
    const renders = commits - before;
    // Notifications are batched per frame; a loaded machine spreads a burst over more frames, but
    // never anything like one render per message.
    expect(renders).toBeGreaterThanOrEqual(1);
    expect(renders).toBeLessThan(100);
  });

  it('with select, re-renders only when the selection changes', async () => {
    const client = newClient();
    cpuRenders = 0;
    render(
      <LiveProvider client={client}>
        <Cpu />
      </LiveProvider>,
    );
    await waitFor(() => expect(t.subscriptions()).toBe(1));
    await t.server.hub.publish('metrics-sel', { cpu: 10, memory: 1 });
    await waitFor(() => expect(screen.getByTestId('cpu').textContent).toBe('10'));
    // Let the status settle (pending → live) before counting.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const before = cpuRenders;
    for (let memory = 2; memory <= 20; memory++) {
      await t.server.hub.publish('metrics-sel', { cpu: 10, memory });
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(cpuRenders).toBe(before);
    await t.server.hub.publish('metrics-sel', { cpu: 11, memory: 21 });
    await waitFor(() => expect(screen.getByTestId('cpu').textContent).toBe('11'));
    expect(cpuRenders - before).toBeLessThanOrEqual(2);
  });

  it('with history, starts full from the server history and then appends live messages', async () => {
    for (let i = 1; i <= 30; i++) await t.server.hub.publish('series', { n: i });
    const client = newClient();
    render(
      <LiveProvider client={client}>
        <Series />
      </LiveProvider>,
    );
    await waitFor(() =>
      expect(screen.getByTestId('series').textContent).toBe('21,22,23,24,25,26,27,28,29,30'),
    );
    await t.server.hub.publish('series', { n: 31 });
    await waitFor(() =>
      expect(screen.getByTestId('series').textContent).toBe('22,23,24,25,26,27,28,29,30,31'),
    );
  });

  it('with history, renders a bounded number of times for a burst (one render per frame, not per store)', async () => {
    const client = newClient();
    let commits = 0;
    render(
      <LiveProvider client={client}>
        <Profiler id="series" onRender={() => commits++}>
          <SeriesTail />
        </Profiler>
      </LiveProvider>,
    );
    await waitFor(() => expect(t.subscriptions()).toBe(1));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const before = commits;
    await Promise.all(
      Array.from({ length: 1000 }, (_, i) => t.server.hub.publish('series-burst', { n: i + 1 })),
    );
    await waitFor(() => expect(screen.getByTestId('series-tail').textContent).toMatch(/^1000\|/), {
      timeout: 10_000,
    });
    expect(commits - before).toBeGreaterThanOrEqual(1);
    expect(commits - before).toBeLessThan(100);
  });

  it('with history, still holds exactly the last N messages after a burst', async () => {
    render(
      <LiveProvider client={newClient()}>
        <SeriesTail />
      </LiveProvider>,
    );
    await waitFor(() => expect(t.subscriptions()).toBe(1));
    await Promise.all(
      Array.from({ length: 1000 }, (_, i) => t.server.hub.publish('series-burst', { n: i + 1 })),
    );
    await waitFor(() => expect(screen.getByTestId('series-tail').textContent).toMatch(/^1000\|/), {
      timeout: 10_000,
    });
    // history: 50 → messages 951…1000, however the burst was batched.
    expect(screen.getByTestId('series-tail').textContent).toBe('1000|50|951');
  });
});
