// @vitest-environment happy-dom
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { usePolling } from '@livedash/react';
import { act, cleanup, render, screen, waitFor } from '@testing-library/react';
import { useEffect, useState } from 'react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { servePageFrom } from './helpers/live-server.js';

/** When a request arrived, and when (and with what status) it was answered. */
interface Exchange {
  arrivedAt: number;
  answeredAt?: number;
  status?: number;
}

/** A real HTTP server that answers slowly and counts requests in flight. */
interface SlowServer {
  url: string;
  requests: string[];
  exchanges: Exchange[];
  active: number;
  maxActive: number;
  aborted: number;
  delayMs: number;
  status: number;
}

let server: Server;
let s: SlowServer;

beforeEach(async () => {
  s = {
    url: '',
    requests: [],
    exchanges: [],
    active: 0,
    maxActive: 0,
    aborted: 0,
    delayMs: 150,
    status: 200,
  };
  server = createServer((req, res) => {
    s.requests.push(req.url ?? '');
    const exchange: Exchange = { arrivedAt: Date.now() };
    s.exchanges.push(exchange);
    s.active++;
    s.maxActive = Math.max(s.maxActive, s.active);
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      s.active--;
    };
    res.on('close', () => {
      if (!res.writableFinished) s.aborted++;
      finish();
    });
    setTimeout(() => {
      finish();
      if (res.destroyed) return;
      exchange.status = s.status;
      exchange.answeredAt = Date.now();
      res.writeHead(s.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ n: s.requests.length }));
    }, s.delayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  s.url = `${origin}/stats`;
  servePageFrom(origin);
});

afterEach(async () => {
  cleanup();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/**
 * GET as JSON over Node's HTTP client, aborted by `signal`. Not happy-dom's `fetch`: that one prints
 * "Error: socket hang up" for every request aborted before its answer (a browser prints nothing) and a
 * network line for every 500, and these tests abort and fail requests on purpose.
 */
function getJson(url: string, signal: AbortSignal): Promise<{ n: number }> {
  return new Promise((resolve, reject) => {
    const req = request(url, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('error', reject);
      res.on('end', () => {
        if (res.statusCode === 200) resolve(JSON.parse(body) as { n: number });
        else reject(new Error(`HTTP ${res.statusCode}`));
      });
    });
    req.on('error', reject);
    signal.addEventListener('abort', () => req.destroy(new Error('aborted')), { once: true });
    if (signal.aborted) req.destroy(new Error('aborted'));
    req.end();
  });
}

function Stats({ interval, enabled = true }: { interval: number; enabled?: boolean }) {
  // An inline fetcher, as in the guide: a new function every render.
  const { data, error, status } = usePolling(({ signal }) => getJson(s.url, signal), interval, enabled);
  return <span data-testid="stats">{`${data?.n ?? '-'}|${error?.message ?? '-'}|${status}`}</span>;
}

/** Re-renders every 5 ms with a new inline fetcher whose URL carries the render count. */
function Churning() {
  const [renders, setRenders] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => setRenders((n) => n + 1), 5);
    return () => clearInterval(timer);
  }, []);
  usePolling(({ signal }) => getJson(`${s.url}?render=${renders}`, signal), 200);
  return <span data-testid="renders">{renders}</span>;
}

describe('usePolling', () => {
  it('never overlaps requests when the server is slower than the interval (counted on the server)', async () => {
    render(<Stats interval={20} />);
    await waitFor(() => expect(s.requests.length).toBeGreaterThanOrEqual(5), { timeout: 10_000 });
    expect(s.maxActive).toBe(1);
    await waitFor(() => expect(screen.getByTestId('stats').textContent).toMatch(/^\d+\|-\|/));
  });

  it('calls the latest fetcher without restarting the interval on every render', async () => {
    const startedAt = Date.now();
    render(<Churning />);
    await waitFor(() => expect(Number(screen.getByTestId('renders').textContent)).toBeGreaterThan(60), {
      timeout: 10_000,
    });
    // 60+ renders, each with a new fetcher: a naive hook would have fired a request per render.
    // Here requests follow the 200 ms interval (the first one is immediate; two more of slack for timers).
    const requests = s.requests.length;
    const elapsedMs = Date.now() - startedAt;
    expect(requests).toBeLessThanOrEqual(Math.floor(elapsedMs / 200) + 3);
    // Requests after the first carry a later render number: the newest closure was called.
    const seen = s.requests.map((url) => Number(new URL(url, 'http://x').searchParams.get('render')));
    expect(Math.max(...seen)).toBeGreaterThan(0);
  });

  it('exposes errors, keeps the last data, and recovers with backoff', async () => {
    s.delayMs = 5;
    render(<Stats interval={50} />);
    await waitFor(() => expect(screen.getByTestId('stats').textContent).toMatch(/^\d+\|-\|/));
    s.status = 500;
    await waitFor(() => expect(screen.getByTestId('stats').textContent).toMatch(/^\d+\|HTTP 500\|backoff$/));
    s.status = 200;
    await waitFor(() => expect(screen.getByTestId('stats').textContent).toMatch(/^\d+\|-\|/), {
      timeout: 10_000,
    });
    // Backoff: after a failure the next request waits 0.5–1 s (doubling after more failures), not the
    // 50 ms interval. Measured on the server, from the failing answer to the next request's arrival: a
    // busy machine only makes that gap longer.
    const failed = s.exchanges.flatMap((e, i) => (e.status === 500 ? [i] : []));
    expect(failed.length).toBeGreaterThan(0);
    for (const i of failed) {
      const next = s.exchanges[i + 1];
      expect(next, 'a retry after the failure').toBeDefined();
      // 490, not 500: Node's timers may fire up to a millisecond before their time by Date.now().
      expect((next?.arrivedAt ?? 0) - (s.exchanges[i]?.answeredAt ?? 0)).toBeGreaterThanOrEqual(490);
    }
  });

  it('pauses while the page is hidden and refreshes as soon as it is visible', async () => {
    s.delayMs = 5;
    let hidden = false;
    Object.defineProperty(document, 'visibilityState', {
      configurable: true,
      get: () => (hidden ? 'hidden' : 'visible'),
    });
    try {
      render(<Stats interval={30} />);
      await waitFor(() => expect(s.requests.length).toBeGreaterThanOrEqual(2));
      hidden = true;
      act(() => {
        document.dispatchEvent(new Event('visibilitychange'));
      });
      await new Promise((resolve) => setTimeout(resolve, 100));
      const whileHidden = s.requests.length;
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(s.requests.length).toBe(whileHidden);
      expect(screen.getByTestId('stats').textContent).toMatch(/\|paused$/);
      hidden = false;
      act(() => {
        document.dispatchEvent(new Event('visibilitychange'));
      });
      await waitFor(() => expect(s.requests.length).toBeGreaterThan(whileHidden));
    } finally {
      // Removing the own property brings back happy-dom's getter.
      delete (document as { visibilityState?: unknown }).visibilityState;
    }
  });

  it('stops when disabled, and aborts the request in flight on unmount with no late update', async () => {
    s.delayMs = 300;
    const errors = vi.spyOn(console, 'error');
    const { rerender, unmount } = render(<Stats interval={20} enabled={false} />);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(s.requests).toHaveLength(0);
    expect(screen.getByTestId('stats').textContent).toBe('-|-|idle');
    rerender(<Stats interval={20} enabled />);
    await waitFor(() => expect(s.requests).toHaveLength(1));
    unmount();
    await waitFor(() => expect(s.aborted).toBe(1));
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(s.requests).toHaveLength(1);
    expect(errors).not.toHaveBeenCalled();
    errors.mockRestore();
  });
});
