// @vitest-environment node
import {
  LiveProvider,
  useBufferedUpdates,
  useChannel,
  useConnectionState,
  usePolling,
  useRealTimeData,
  useSSE,
} from '@livedash/react';
import { renderToString } from 'react-dom/server';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from './helpers/live-server.js';

const never = { subscribe: () => ({ unsubscribe() {} }) };

function Everything() {
  const metrics = useRealTimeData('metrics', { cpu: 0, memory: 0 });
  const channel = useChannel<{ n: number }>('a', { history: 10 });
  const connection = useConnectionState();
  const sse = useSSE<number>('http://127.0.0.1:1/never');
  const polled = usePolling(async () => 1, 1000);
  const buffered = useBufferedUpdates(never);
  return (
    <p>
      {[
        metrics.cpu,
        metrics.memory,
        channel.status,
        channel.history.length,
        connection.status,
        sse.status,
        polled.status,
        buffered.length,
      ].join(',')}
    </p>
  );
}

describe('server rendering', () => {
  let t: TestServer;
  beforeEach(async () => {
    t = await startServer();
  });
  afterEach(async () => {
    await t.close();
  });

  it('renders initial values without a provider, a window or a connection', () => {
    expect(typeof (globalThis as { window?: unknown }).window).toBe('undefined');
    const html = renderToString(<Everything />);
    expect(html).toBe('<p>0,0,pending,0,idle,idle,idle,0</p>');
  });

  it('renders initial values inside a provider and opens nothing', async () => {
    const html = renderToString(
      <LiveProvider url={t.url}>
        <Everything />
      </LiveProvider>,
    );
    expect(html).toBe('<p>0,0,pending,0,idle,idle,idle,0</p>');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(t.upgrades()).toBe(0);
    expect(t.subscriptions()).toBe(0);
  });
});
