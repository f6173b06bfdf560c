// @vitest-environment happy-dom
import { LiveClient } from '@livedash/client';
import {
  defaultClientUrl,
  LiveProvider,
  resetDefaultClient,
  useChannel,
  useLiveClient,
} from '@livedash/react';
import { cleanup, render, screen, waitFor } from '@testing-library/react';
import { StrictMode } from 'react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { servePageFrom, startServer, type TestServer, testClientOptions } from './helpers/live-server.js';

let t: TestServer;

beforeEach(async () => {
  t = await startServer();
});

afterEach(async () => {
  cleanup();
  resetDefaultClient();
  vi.unstubAllEnvs();
  await t.close();
});

function Value({ channel }: { channel: string }) {
  const { data } = useChannel<number>(channel);
  return <span data-testid={channel}>{data ?? '-'}</span>;
}

function ClientUrl() {
  return <span data-testid="client-url">{useLiveClient()?.url ?? 'none'}</span>;
}

describe('LiveProvider', () => {
  it('needs exactly one of url or client', () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      expect(() => render(<LiveProvider {...({} as { url: string })} />)).toThrow(
        /exactly one of `url` or `client`/,
      );
      const client = new LiveClient({ url: t.url, autoConnect: false });
      expect(() =>
        render(<LiveProvider {...({ url: t.url, client } as unknown as { url: string })} />),
      ).toThrow(/exactly one/);
      client.close();
    } finally {
      errors.mockRestore();
    }
  });

  it('never closes a client it was given', async () => {
    const client = new LiveClient({ url: t.url, autoConnect: false, ...testClientOptions() });
    const { unmount } = render(
      <LiveProvider client={client}>
        <Value channel="given" />
      </LiveProvider>,
    );
    await waitFor(() => expect(t.subscriptions()).toBe(1));
    unmount();
    await waitFor(() => expect(t.subscriptions()).toBe(0));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(client.state.status).toBe('open');
    client.close();
  });

  it('replaces (and closes) its own client when url changes', async () => {
    const other = await startServer();
    try {
      const { rerender } = render(
        <LiveProvider url={t.url} options={testClientOptions()}>
          <Value channel="moving" />
        </LiveProvider>,
      );
      await waitFor(() => expect(t.subscriptions()).toBe(1));
      rerender(
        <LiveProvider url={other.url} options={testClientOptions()}>
          <Value channel="moving" />
        </LiveProvider>,
      );
      await waitFor(() => expect(other.subscriptions()).toBe(1));
      await waitFor(async () => expect(await t.openConnections()).toBe(0));
      await other.server.hub.publish('moving', 5);
      await waitFor(() => expect(screen.getByTestId('moving').textContent).toBe('5'));
    } finally {
      cleanup();
      await other.close();
    }
  });
});

describe('without a provider', () => {
  it("uses one shared client for the page's origin, also under StrictMode", async () => {
    render(
      <StrictMode>
        <ClientUrl />
        <Value channel="p" />
        <Value channel="q" />
      </StrictMode>,
    );
    expect(screen.getByTestId('client-url').textContent).toBe(t.url);
    await waitFor(() => expect(t.subscriptions()).toBe(2));
    await t.server.hub.publish('q', 9);
    await waitFor(() => expect(screen.getByTestId('q').textContent).toBe('9'));
    expect(t.upgrades()).toBe(1);
  });

  it("uses import.meta.env.VITE_WS_URL when set, as the guide's code does", async () => {
    // A page served elsewhere (a Vite dev server), allowed by the livedash server's origin policy.
    await t.close();
    t = await startServer({ allowedOrigins: ['http://localhost:9'] });
    servePageFrom('http://localhost:9');
    expect(defaultClientUrl()).toBe('http://localhost:9');
    vi.stubEnv('VITE_WS_URL', `${t.url.replace('http', 'ws')}/ws`);
    expect(defaultClientUrl()).toBe(`${t.url.replace('http', 'ws')}/ws`);
    render(<Value channel="env" />);
    await waitFor(() => expect(t.subscriptions()).toBe(1));
    expect(t.upgrades()).toBe(1);
  });
});
