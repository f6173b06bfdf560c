// @vitest-environment happy-dom
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type SSEEventSourceConstructor, useSSE } from '@livedash/react';
import { cleanup, render, screen, waitFor } from '@testing-library/react';
import { EventSource } from 'eventsource';
import { Profiler } from 'react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { servePageFrom, startServer, type TestServer } from './helpers/live-server.js';

// happy-dom has no EventSource; the `eventsource` package is a spec-following one for Node.
const Impl = EventSource as unknown as SSEEventSourceConstructor;

/** livedash sends envelopes, and control frames such as `$welcome` without `data`. */
interface Envelope {
  type: string;
  data?: { price: number };
  seq?: number;
}

function Prices({ url }: { url: string }) {
  const { data, error, status, lastEventId } = useSSE<Envelope>(url, { EventSource: Impl });
  return (
    <span data-testid="prices">
      {`${status}|${data ? `${data.type}:${data.data?.price ?? '-'}@${data.seq ?? '-'}` : '-'}|${error?.code ?? '-'}|${lastEventId ?? '-'}`}
    </span>
  );
}

afterEach(() => {
  cleanup();
});

describe('useSSE against the livedash server', () => {
  let t: TestServer;
  beforeEach(async () => {
    t = await startServer();
  });
  afterEach(async () => {
    await t.close();
  });

  it('shows envelopes from /sse, with the resume token, and closes the stream on unmount', async () => {
    const { unmount } = render(<Prices url={`${t.url}/sse?channels=prices`} />);
    await waitFor(async () => expect(await t.openConnections()).toBe(1));
    await waitFor(() => expect(t.subscriptions()).toBe(1));
    await t.server.hub.publish('prices', { price: 42 });
    await waitFor(() =>
      expect(screen.getByTestId('prices').textContent).toMatch(/^open\|prices:42@1\|-\|prices~/),
    );
    unmount();
    await waitFor(async () => expect(await t.openConnections()).toBe(0));
  });

  it('renders a bounded number of times for a burst and ends on the last message', async () => {
    let commits = 0;
    render(
      <Profiler id="sse" onRender={() => commits++}>
        <Prices url={`${t.url}/sse?channels=burst`} />
      </Profiler>,
    );
    await waitFor(() => expect(t.subscriptions()).toBe(1));
    await waitFor(() => expect(screen.getByTestId('prices').textContent).toMatch(/^open/));
    const before = commits;
    await Promise.all(Array.from({ length: 500 }, (_, i) => t.server.hub.publish('burst', { price: i + 1 })));
    await waitFor(() => expect(screen.getByTestId('prices').textContent).toMatch(/burst:500@500/), {
      timeout: 10_000,
    });
    expect(commits - before).toBeLessThan(60);
  });
});

describe('useSSE against any SSE endpoint', () => {
  let server: Server;
  let url: string;
  const streams = new Set<ServerResponse>();
  beforeEach(async () => {
    server = createServer((_req, res) => {
      streams.add(res);
      res.on('close', () => streams.delete(res));
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('id: 1\ndata: {"type":"x","data":{"price":1},"seq":1}\n\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    url = `${origin}/stream`;
    servePageFrom(origin);
  });
  afterEach(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('reports a frame that does not parse as an error, keeps the last data, and goes on', async () => {
    render(<Prices url={url} />);
    await waitFor(() => expect(screen.getByTestId('prices').textContent).toBe('open|x:1@1|-|1'));
    for (const res of streams) res.write('id: 2\ndata: {oops\n\n');
    await waitFor(() => expect(screen.getByTestId('prices').textContent).toBe('open|x:1@1|bad_json|2'));
    for (const res of streams) res.write('id: 3\ndata: {"type":"x","data":{"price":3},"seq":3}\n\n');
    await waitFor(() => expect(screen.getByTestId('prices').textContent).toBe('open|x:3@3|-|3'));
  });

  it('opens a new stream when the url changes and closes the old one', async () => {
    const { rerender } = render(<Prices url={url} />);
    await waitFor(() => expect(screen.getByTestId('prices').textContent).toBe('open|x:1@1|-|1'));
    expect(streams.size).toBe(1);
    const [first] = streams;
    rerender(<Prices url={`${url}?v=2`} />);
    await waitFor(() => expect(streams.has(first as ServerResponse)).toBe(false));
    await waitFor(() => expect(streams.size).toBe(1));
  });
});
