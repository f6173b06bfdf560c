// @vitest-environment happy-dom
import { LiveClient } from '@livedash/client';
import { LiveProvider, useChannel, useConnectionState, useRealTimeData } from '@livedash/react';
import { act, cleanup, screen, waitFor } from '@testing-library/react';
import { StrictMode } from 'react';
import { hydrateRoot, type Root } from 'react-dom/client';
import { renderToString } from 'react-dom/server';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startServer, type TestServer, testClientOptions } from './helpers/live-server.js';

let t: TestServer;
let root: Root | undefined;
let container: HTMLElement;

beforeEach(async () => {
  t = await startServer();
  container = document.createElement('div');
  document.body.append(container);
});

afterEach(async () => {
  act(() => root?.unmount());
  root = undefined;
  container.remove();
  cleanup();
  await t.close();
});

function Panel() {
  const metrics = useRealTimeData('metrics', { cpu: 0 });
  const { status } = useChannel('metrics');
  const connection = useConnectionState();
  return <p data-testid="panel">{`${metrics.cpu}|${status}|${connection.status}`}</p>;
}

describe('hydration', () => {
  it('hydrates server markup without a mismatch even when the client already has data, then goes live', async () => {
    const client = new LiveClient({ url: t.url, autoConnect: false, ...testClientOptions() });
    // The browser's client already holds a value for the channel before hydration starts.
    await t.server.hub.publish('metrics', { cpu: 42 });
    let warmedUp = false;
    const warmup = client.subscribe('metrics', () => {
      warmedUp = true;
    });
    await waitFor(() => expect(warmedUp).toBe(true));
    const app = (
      <StrictMode>
        <LiveProvider client={client}>
          <Panel />
        </LiveProvider>
      </StrictMode>
    );
    container.innerHTML = renderToString(app);
    expect(container.textContent).toBe('0|pending|idle');
    const errors = vi.spyOn(console, 'error');
    const recoverable: unknown[] = [];
    act(() => {
      root = hydrateRoot(container, app, { onRecoverableError: (error) => recoverable.push(error) });
    });
    await waitFor(() => expect(screen.getByTestId('panel').textContent).toBe('42|live|open'));
    expect(recoverable).toEqual([]);
    expect(errors).not.toHaveBeenCalled();
    errors.mockRestore();
    warmup();
    expect(t.upgrades()).toBe(1);
    client.close();
  });
});
