// @vitest-environment happy-dom
import { LiveClient, type WebSocketConstructor } from '@livedash/client';
import { LiveProvider, useChannel, useRealTimeData } from '@livedash/react';
import { cleanup, render, screen, waitFor } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startServer, type TestServer, testClientOptions } from './helpers/live-server.js';

// The hooks' `maxRate` option against a real server (docs/react.md; the wire form in docs/protocol.md,
// "Rate-limited subscriptions"): `gauge` is a state channel (conflated), `log` a stream channel (batched).

let t: TestServer;
const clients: LiveClient[] = [];
/** Every subscribe command the clients sent, as parsed JSON. */
let subscribes: { channels: string[]; maxRate?: number; since?: Record<string, { seq: number }> }[];

/** The `ws` WebSocket, recording the subscribe commands it sends (a real socket to the real server). */
class RecordingWebSocket extends WebSocket {
  constructor(...args: ConstructorParameters<typeof WebSocket>) {
    super(...args);
    const send = this.send.bind(this) as (...sendArgs: unknown[]) => void;
    this.send = ((data: unknown, ...rest: unknown[]) => {
      const command = JSON.parse(String(data)) as { action?: string };
      if (command.action === 'subscribe') subscribes.push(command as (typeof subscribes)[number]);
      send(data, ...rest);
    }) as WebSocket['send'];
  }
}

function newClient(): LiveClient {
  const client = new LiveClient({
    url: t.url,
    autoConnect: false,
    ...testClientOptions(),
    WebSocket: RecordingWebSocket as unknown as WebSocketConstructor,
  });
  clients.push(client);
  return client;
}

beforeEach(async () => {
  subscribes = [];
  t = await startServer({ stateChannels: ['gauge'] });
});

afterEach(async () => {
  cleanup();
  for (const client of clients.splice(0)) client.close();
  await t.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Publishes `{ n }` with n counting on from `from`, about every 5 ms (~200/s) for `ms`; returns the last n. */
async function publishFor(channel: string, ms: number, from = 0): Promise<number> {
  const end = Date.now() + ms;
  let n = from;
  while (Date.now() < end) {
    await t.server.hub.publish(channel, { n: ++n });
    await sleep(5);
  }
  return n;
}

/** The subscribe commands for `channel`: their rate (undefined: none) and whether they resumed (`since`). */
function commandsFor(channel: string) {
  return subscribes
    .filter((command) => command.channels.includes(channel))
    .map((command) => ({ maxRate: command.maxRate, resumed: command.since?.[channel] !== undefined }));
}

/** Every value the component rendered, in order (repeats of one value once). */
let shown: string[] = [];
function Gauge({ maxRate }: { maxRate?: number }) {
  const { data } = useChannel<{ n: number }>('gauge', maxRate === undefined ? {} : { maxRate });
  const text = String(data?.n ?? '-');
  if (shown.at(-1) !== text) shown.push(text);
  return <span data-testid="gauge">{text}</span>;
}

const append = (seen: number[], update: unknown) => [...seen, (update as { n: number }).n];

function Log({ channel, maxRate }: { channel: string; maxRate?: number }) {
  const seen = useRealTimeData<number[]>(channel, [], {
    merge: append,
    ...(maxRate === undefined ? {} : { maxRate }),
  });
  return <span data-testid={channel}>{seen.join(',')}</span>;
}
const seenIn = (channel: string) =>
  (screen.getByTestId(channel).textContent ?? '').split(',').filter(Boolean).map(Number);

describe('useChannel with maxRate', () => {
  beforeEach(() => {
    shown = [];
  });

  it('shows a state channel published at ~200/s at most maxRate times a second, ending on the last value', async () => {
    render(
      <LiveProvider client={newClient()}>
        <Gauge maxRate={5} />
      </LiveProvider>,
    );
    await waitFor(() => expect(t.subscriptions()).toBe(1));
    const started = performance.now();
    const last = await publishFor('gauge', 2000);
    await waitFor(() => expect(screen.getByTestId('gauge').textContent).toBe(String(last)));
    const seconds = (performance.now() - started) / 1000;
    const values = shown.filter((text) => text !== '-');
    expect(last).toBeGreaterThan(100);
    // ~5 a second (a loaded machine's late timers give fewer, never more); unrated it would be one per frame.
    expect(values.length, values.join(' ')).toBeLessThanOrEqual(Math.ceil(seconds * 5) + 3);
    expect(commandsFor('gauge')).toEqual([{ maxRate: 5, resumed: false }]);
  }, 30_000);

  it('a new maxRate resubscribes from the last position, keeps the value on screen, and leaks nothing', async () => {
    const client = newClient();
    const { rerender } = render(
      <LiveProvider client={client}>
        <Gauge maxRate={2} />
      </LiveProvider>,
    );
    await waitFor(() => expect(t.subscriptions()).toBe(1));
    await t.server.hub.publish('gauge', { n: 1 });
    await waitFor(() => expect(screen.getByTestId('gauge').textContent).toBe('1'));
    rerender(
      <LiveProvider client={client}>
        <Gauge maxRate={20} />
      </LiveProvider>,
    );
    await waitFor(() => expect(commandsFor('gauge')).toHaveLength(2));
    await t.server.hub.publish('gauge', { n: 2 });
    await waitFor(() => expect(screen.getByTestId('gauge').textContent).toBe('2'));
    rerender(
      <LiveProvider client={client}>
        <Gauge />
      </LiveProvider>,
    );
    await waitFor(() => expect(commandsFor('gauge')).toHaveLength(3));
    await t.server.hub.publish('gauge', { n: 3 });
    await waitFor(() => expect(screen.getByTestId('gauge').textContent).toBe('3'));
    expect(commandsFor('gauge')).toEqual([
      { maxRate: 2, resumed: false },
      { maxRate: 20, resumed: true },
      { maxRate: undefined, resumed: true },
    ]);
    // Never back to "nothing yet" while the new rate's subscription was answered.
    expect(shown).toEqual(['-', '1', '2', '3']);
    expect(t.subscriptions()).toBe(1);
  }, 30_000);
});

describe('useRealTimeData with maxRate', () => {
  it('merges only the newest value of each interval on a state channel, the last one always', async () => {
    render(
      <LiveProvider client={newClient()}>
        <Log channel="gauge" maxRate={5} />
      </LiveProvider>,
    );
    await waitFor(() => expect(t.subscriptions()).toBe(1));
    const started = performance.now();
    const last = await publishFor('gauge', 2000);
    await waitFor(() => expect(seenIn('gauge').at(-1)).toBe(last));
    const seconds = (performance.now() - started) / 1000;
    const merged = seenIn('gauge');
    expect(merged.length, merged.join(' ')).toBeLessThanOrEqual(Math.ceil(seconds * 5) + 3);
    expect(merged).toEqual([...merged].sort((a, b) => a - b));
  }, 30_000);

  it('merges every message of a stream channel once, in order, while its rate changes', async () => {
    const client = newClient();
    const { rerender } = render(
      <LiveProvider client={client}>
        <Log channel="log" maxRate={5} />
      </LiveProvider>,
    );
    await waitFor(() => expect(t.subscriptions()).toBe(1));
    let last = await publishFor('log', 500);
    rerender(
      <LiveProvider client={client}>
        <Log channel="log" />
      </LiveProvider>,
    );
    last = await publishFor('log', 500, last);
    rerender(
      <LiveProvider client={client}>
        <Log channel="log" maxRate={2} />
      </LiveProvider>,
    );
    last = await publishFor('log', 500, last);
    await waitFor(() => expect(seenIn('log').length).toBeGreaterThanOrEqual(last));
    expect(seenIn('log')).toEqual(Array.from({ length: last }, (_, i) => i + 1));
    expect(commandsFor('log')).toEqual([
      { maxRate: 5, resumed: false },
      { maxRate: undefined, resumed: true },
      { maxRate: 2, resumed: true },
    ]);
    expect(t.subscriptions()).toBe(1);
  }, 30_000);
});
