// @vitest-environment happy-dom
import { LiveClient } from '@livedash/client';
import { LiveProvider, useChannel, useConnectionState } from '@livedash/react';
import { cleanup, render, screen, waitFor } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startServer, type TestServer, testClientOptions } from './helpers/live-server.js';

let t: TestServer;
let client: LiveClient;

beforeEach(async () => {
  t = await startServer();
  client = new LiveClient({
    url: t.url,
    autoConnect: false,
    backoff: { initialDelayMs: 5000, maxDelayMs: 10_000 },
    ...testClientOptions(),
  });
});

afterEach(async () => {
  cleanup();
  client.close();
  await t.close();
});

function Badge() {
  const state = useConnectionState();
  return (
    <span data-testid="badge">
      {state.status}|{state.transport ?? '-'}|{state.attempt}|
      {state.nextRetryAt === null ? 'no-retry' : 'retry'}|{state.lastError?.code ?? '-'}
    </span>
  );
}

function Reader() {
  useChannel('anything');
  return null;
}

describe('useConnectionState', () => {
  it('is idle until a hook subscribes, then open, then reconnecting with the next retry and the error', async () => {
    const { rerender } = render(
      <LiveProvider client={client}>
        <Badge />
      </LiveProvider>,
    );
    expect(screen.getByTestId('badge').textContent).toBe('idle|-|0|no-retry|-');
    expect(t.upgrades()).toBe(0);
    rerender(
      <LiveProvider client={client}>
        <Badge />
        <Reader />
      </LiveProvider>,
    );
    await waitFor(() => expect(screen.getByTestId('badge').textContent).toMatch(/^open\|ws\|/));
    await t.close();
    await waitFor(() =>
      expect(screen.getByTestId('badge').textContent).toMatch(/^reconnecting\|ws\|[1-9]\d*\|retry\|/),
    );
    expect(screen.getByTestId('badge').textContent).not.toMatch(/\|-$/);
  });

  it('renders idle without touching the network when nothing subscribes', () => {
    render(
      <LiveProvider client={client}>
        <Badge />
      </LiveProvider>,
    );
    expect(screen.getByTestId('badge').textContent).toBe('idle|-|0|no-retry|-');
    expect(t.upgrades()).toBe(0);
  });
});
