import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventSource } from 'eventsource';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type EventSourceConstructor, SSEStore } from '../src/stores/sse-store.js';

const Impl = EventSource as unknown as EventSourceConstructor;

/** A real SSE server whose behaviour each test scripts through `handler`. */
interface TestServer {
  url: string;
  open: Set<ServerResponse>;
  requests: IncomingMessage[];
  handler: (req: IncomingMessage, res: ServerResponse) => void;
}

function startStream(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.write(':ok\n\n');
}

describe('SSEStore against a real SSE server', () => {
  let server: Server;
  let t: TestServer;
  const stops: (() => void)[] = [];

  beforeEach(async () => {
    t = { url: '', open: new Set(), requests: [], handler: (_req, res) => startStream(res) };
    server = createServer((req, res) => {
      t.requests.push(req);
      t.open.add(res);
      res.on('close', () => t.open.delete(res));
      t.handler(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`;
  });

  afterEach(async () => {
    for (const stop of stops.splice(0)) stop();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  function follow<T>(store: SSEStore<T>): { notifications: () => number } {
    let count = 0;
    stops.push(store.subscribe(() => count++));
    return { notifications: () => count };
  }

  it('opens on subscribe, parses events, and closes the stream after the last listener leaves', async () => {
    const store = new SSEStore<{ v: number }>(t.url, { EventSource: Impl });
    expect(t.requests).toHaveLength(0);
    const stop = store.subscribe(() => {});
    await vi.waitFor(() => expect(store.getSnapshot().status).toBe('open'));
    for (const res of t.open) res.write('id: 7\ndata: {"v":1}\n\n');
    await vi.waitFor(() => expect(store.getSnapshot()).toMatchObject({ data: { v: 1 }, lastEventId: '7' }));
    expect(t.open.size).toBe(1);
    stop();
    expect(store.getSnapshot().status).toBe('idle');
    await vi.waitFor(() => expect(t.open.size).toBe(0));
  });

  it('reports a frame that does not parse as an error and keeps streaming', async () => {
    const store = new SSEStore<{ v: number }>(t.url, { EventSource: Impl });
    follow(store);
    await vi.waitFor(() => expect(store.getSnapshot().status).toBe('open'));
    const [res] = t.open;
    res?.write('data: {"v":1}\n\n');
    await vi.waitFor(() => expect(store.getSnapshot().data).toEqual({ v: 1 }));
    res?.write('id: 9\ndata: {not json\n\n');
    await vi.waitFor(() => expect(store.getSnapshot().error?.code).toBe('bad_json'));
    expect(store.getSnapshot().error?.message).toContain('event 9 did not parse');
    expect(store.getSnapshot()).toMatchObject({ data: { v: 1 }, status: 'open' });
    res?.write('data: {"v":2}\n\n');
    await vi.waitFor(() => expect(store.getSnapshot()).toMatchObject({ data: { v: 2 }, error: null }));
  });

  it('notifies once per frame for a burst and ends on the last event', async () => {
    const store = new SSEStore<number>(t.url, { EventSource: Impl });
    const { notifications } = follow(store);
    await vi.waitFor(() => expect(store.getSnapshot().status).toBe('open'));
    const before = notifications();
    const [res] = t.open;
    let burst = '';
    for (let i = 1; i <= 500; i++) burst += `data: ${i}\n\n`;
    res?.write(burst);
    await vi.waitFor(() => expect(store.getSnapshot().data).toBe(500));
    // 500 events arrive in a handful of chunks; each frame (16 ms timer in Node) notifies at most once.
    expect(notifications() - before).toBeLessThan(50);
  });

  it('listens to named events when asked', async () => {
    const store = new SSEStore<string>(t.url, { EventSource: Impl, events: ['tick'], parse: (s) => s });
    follow(store);
    await vi.waitFor(() => expect(store.getSnapshot().status).toBe('open'));
    const [res] = t.open;
    res?.write('data: ignored\n\n');
    res?.write('event: tick\ndata: hello\n\n');
    await vi.waitFor(() => expect(store.getSnapshot().data).toBe('hello'));
  });

  it('rides the EventSource reconnect after a dropped stream, sending Last-Event-ID', async () => {
    t.handler = (req, res) => {
      startStream(res);
      res.write('retry: 50\n\n');
      if (req.headers['last-event-id'] === undefined) {
        res.write('id: 3\ndata: "first"\n\n');
        setTimeout(() => res.destroy(), 50);
      } else {
        res.write(`id: 4\ndata: "resumed after ${req.headers['last-event-id']}"\n\n`);
      }
    };
    const store = new SSEStore<string>(t.url, { EventSource: Impl });
    follow(store);
    await vi.waitFor(() => expect(store.getSnapshot().data).toBe('resumed after 3'), { timeout: 10_000 });
    expect(store.getSnapshot()).toMatchObject({ status: 'open', lastEventId: '4', error: null });
  });

  it('reopens with backoff when the EventSource gives up on an HTTP error, resuming via resumeParam', async () => {
    let calls = 0;
    t.handler = (req, res) => {
      calls++;
      if (calls === 1) {
        startStream(res);
        res.write('retry: 50\nid: a~1\ndata: 1\n\n');
        setTimeout(() => res.destroy(), 30);
      } else if (calls <= 3) {
        res.writeHead(503).end();
      } else {
        startStream(res);
        res.write(`data: ${JSON.stringify(req.url)}\n\n`);
      }
    };
    const store = new SSEStore<unknown>(t.url, {
      EventSource: Impl,
      resumeParam: 'since',
      backoff: { initialDelayMs: 20, maxDelayMs: 100 },
    });
    const seen = new Set<string>();
    stops.push(store.subscribe(() => seen.add(store.getSnapshot().status)));
    await vi.waitFor(() => expect(store.getSnapshot().data).toBe('/events?since=a~1'), { timeout: 10_000 });
    expect(seen.has('reconnecting')).toBe(true);
    expect(store.getSnapshot()).toMatchObject({ status: 'open', attempt: 0, nextRetryAt: null });
  });

  it('gives up after maxRetries with a closed status and an error', async () => {
    t.handler = (_req, res) => res.writeHead(500).end();
    const store = new SSEStore<unknown>(t.url, {
      EventSource: Impl,
      maxRetries: 2,
      backoff: { initialDelayMs: 10, maxDelayMs: 20 },
    });
    follow(store);
    await vi.waitFor(() => expect(store.getSnapshot().status).toBe('closed'), { timeout: 10_000 });
    expect(store.getSnapshot().error?.message).toContain('gave up after 2 retries');
    expect(t.requests).toHaveLength(3);
  });

  it('reports a missing EventSource instead of throwing', async () => {
    vi.stubGlobal('EventSource', undefined);
    try {
      const store = new SSEStore<unknown>(t.url);
      follow(store);
      await vi.waitFor(() => expect(store.getSnapshot().status).toBe('closed'));
      expect(store.getSnapshot().error?.code).toBe('transport_failed');
      expect(t.requests).toHaveLength(0);
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it('rejects bad arguments', () => {
    expect(() => new SSEStore('')).toThrow(/url must be a non-empty string/);
    expect(() => new SSEStore(t.url, { events: [] })).toThrow(/at least one event type/);
    expect(() => new SSEStore(t.url, { backoff: { initialDelayMs: -1 } })).toThrow(/initialDelayMs/);
  });
});
