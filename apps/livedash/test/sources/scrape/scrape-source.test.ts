import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Hub, MemoryBroker } from '@livedash/server';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type LivedashApp, startLivedash } from '../../../src/livedash.js';
import type { AlertEvent } from '../../../src/sources/alerts.js';
import { ScrapeMetrics } from '../../../src/sources/scrape/scrape-metrics.js';
import { ScrapeSource, type ScrapeTarget } from '../../../src/sources/scrape/scrape-source.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function serve(handler: (request: IncomingMessage, response: ServerResponse) => void): Promise<string> {
  const server: Server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
}

/** A process's own metrics, as every prom-client app serves them. */
function promClientApp() {
  const registry = new Registry();
  const gauge = new Gauge({ name: 'demo_gauge', help: 'A gauge.', registers: [registry] });
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'Requests.',
    labelNames: ['method', 'code'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Latency.',
    buckets: [0.01, 0.1, 1],
    registers: [registry],
  });
  return { registry, gauge, requests, latency };
}

function newHub(): Hub {
  const broker = new MemoryBroker();
  cleanups.push(() => broker.close());
  return new Hub(broker, { maxQueueBytes: 1 << 20, maxSubscriptions: 256 });
}

function watch<T>(hub: Hub, channel: string): T[] {
  const seen: T[] = [];
  cleanups.push(hub.watch(channel, (data) => seen.push(data as T)));
  return seen;
}

function newSource(hub: Hub, target: Partial<ScrapeTarget> & { url: string }) {
  const registry = new Registry();
  const log: string[] = [];
  const source = new ScrapeSource(
    hub,
    { channel: 'app', intervalMs: 60_000, timeoutMs: 1000, headers: {}, maxBodyBytes: 1 << 20, ...target },
    { node: 'n1', metrics: new ScrapeMetrics(registry), log: (line) => log.push(line) },
  );
  cleanups.push(() => source.stop());
  return { source, registry, log };
}

const watchesReady = () => new Promise((resolve) => setImmediate(resolve));

describe('ScrapeSource against a prom-client registry served over HTTP', () => {
  it('publishes one message per scrape: plain numbers, label sets, rates and quantiles', async () => {
    const target = promClientApp();
    const url = await serve(async (_request, response) => {
      response.setHeader('content-type', target.registry.contentType);
      response.end(await target.registry.metrics());
    });
    const hub = newHub();
    const messages = watch<Record<string, unknown>>(hub, 'app');
    await watchesReady();
    const { source } = newSource(hub, { url });

    target.gauge.set(42);
    target.requests.inc({ method: 'GET', code: '200' }, 10);
    await source.scrapeOnce();
    target.requests.inc({ method: 'GET', code: '200' }, 20);
    for (let i = 0; i < 9; i++) target.latency.observe(0.05);
    target.latency.observe(0.5);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await source.scrapeOnce();
    await vi.waitFor(() => expect(messages).toHaveLength(2));

    const [first, second] = messages as [Record<string, unknown>, Record<string, unknown>];
    expect(first.demo_gauge).toBe(42);
    expect(first.http_requests_total).toEqual({ 'code=200,method=GET': 10 });
    expect(first['http_requests_total:rate']).toBeUndefined();
    const rate = (second['http_requests_total:rate'] as Record<string, number>)['code=200,method=GET'];
    // 20 more requests in a little over 0.2 s.
    expect(rate).toBeGreaterThan(20);
    expect(rate).toBeLessThan(110);
    const p50 = second['http_request_duration_seconds:p50'] as number;
    expect(p50).toBeGreaterThan(0.01);
    expect(p50).toBeLessThanOrEqual(0.1);
    expect(second['http_request_duration_seconds:p99']).toBeGreaterThan(0.1);
    expect(second.http_request_duration_seconds_count).toBe(10);
  });
});

describe('ScrapeSource failures: logged, counted, on the alerts feed, never fatal', () => {
  async function failingScrape(target: Partial<ScrapeTarget> & { url: string }) {
    const hub = newHub();
    const alerts = watch<AlertEvent>(hub, 'alerts');
    const messages = watch<unknown>(hub, 'app');
    await watchesReady();
    const scrape = newSource(hub, target);
    await scrape.source.scrapeOnce();
    await scrape.source.scrapeOnce();
    await vi.waitFor(() => expect(alerts).toHaveLength(1));
    const metrics = await scrape.registry.metrics();
    return { ...scrape, alerts, messages, metrics, hub };
  }

  const cases: Array<[string, () => Promise<string>, RegExp]> = [
    ['http_status', () => serve((_q, r) => r.writeHead(503).end('down')), /http_status: answered HTTP 503/],
    ['malformed', () => serve((_q, r) => r.end('up 1\n<html>oops</html>\n')), /malformed: .*line 2/],
    [
      'timeout',
      () =>
        serve(() => {
          // Never answers.
        }),
      /timeout: no answer within 300 ms/,
    ],
    [
      'unreachable',
      async () => {
        const url = await serve(() => {});
        // Closed again at once: nothing listens on the port any more.
        await cleanups.pop()?.();
        return url;
      },
      /unreachable: .*ECONNREFUSED/,
    ],
    [
      'too_large',
      () => serve((_q, r) => r.end(`${'a 1\n'.repeat(1000)}`)),
      /too_large: body of 4000 bytes is over 1024/,
    ],
    [
      'too_large',
      () =>
        serve((_q, response) => {
          // Chunked, no Content-Length: the limit holds while reading.
          for (let i = 0; i < 100; i++) response.write('a 1\n'.repeat(10));
          response.end();
        }),
      /too_large: body is over 1024 bytes/,
    ],
  ];
  for (const [reason, start, logged] of cases) {
    it(`reports ${reason}`, async () => {
      const url = await start();
      const { log, alerts, messages, metrics } = await failingScrape({
        url,
        timeoutMs: 300,
        maxBodyBytes: 1024,
      });
      expect(messages).toEqual([]);
      // Two failures, one line: a target down for an hour does not flood the log.
      expect(log).toHaveLength(1);
      expect(log[0]).toMatch(logged);
      expect(metrics).toContain(`livedash_scrape_failures_total{channel="app",reason="${reason}"} 2`);
      expect(alerts[0]).toMatchObject({ rule: 'scrape-app', state: 'firing', severity: 'warning' });
      expect(alerts[0]?.message).toContain('scrape of http://127.0.0.1:');
    });
  }

  it('resolves the alert and logs the recovery once the target answers again', async () => {
    let healthy = false;
    const url = await serve((_q, response) => {
      if (healthy) response.end('up 1\n');
      else response.writeHead(500).end();
    });
    const { source, alerts, messages, log } = await failingScrape({ url });
    healthy = true;
    await source.scrapeOnce();
    await vi.waitFor(() => expect(alerts).toHaveLength(2));
    expect(alerts[1]).toMatchObject({ state: 'resolved', id: alerts[0]?.id });
    expect(messages).toEqual([{ up: 1 }]);
    expect(log[1]).toMatch(/recovered after 2 failure\(s\)/);
  });

  it('sends a password in the URL as basic auth, never to the log or the alerts feed', async () => {
    const seen: Array<string | undefined> = [];
    const url = (
      await serve((request, response) => {
        seen.push(request.headers.authorization);
        response.writeHead(401).end();
      })
    ).replace('http://', 'http://me:s3cret@');
    const { log, alerts } = await failingScrape({ url });
    expect(seen[0]).toBe(`Basic ${Buffer.from('me:s3cret').toString('base64')}`);
    expect(log.join('\n')).not.toContain('s3cret');
    expect(alerts[0]?.message).not.toContain('s3cret');
  });
});

describe('scrape sources in the livedash app', () => {
  async function startApp(options: Parameters<typeof startLivedash>[0] = {}): Promise<LivedashApp> {
    const app = await startLivedash({
      port: 0,
      publishToken: 'token',
      metricsIntervalMs: 0,
      alerts: [],
      ...options,
    });
    cleanups.push(() => app.close());
    return app;
  }

  it('scrapes livedash’s own /metrics into a channel', async () => {
    const app = await startApp();
    const messages = watch<Record<string, unknown>>(app.hub as Hub, 'self');
    await watchesReady();
    const { source } = newSource(app.hub as Hub, { url: `${app.url}/metrics`, channel: 'self' });
    await source.scrapeOnce();
    await vi.waitFor(() => expect(messages).toHaveLength(1));
    expect(messages[0]?.livedash_subscriptions).toBe(0);
    expect(messages[0]?.livedash_connections).toEqual({ 'transport=sse': 0, 'transport=ws': 0 });
  });

  it('runs the configured targets on their interval and counts failures on /metrics', async () => {
    const url = await serve((_q, r) => r.end('demo_gauge 42\n'));
    const app = await startApp({
      scrape: [
        { url, channel: 'demo', intervalMs: 200, timeoutMs: 200, headers: {}, maxBodyBytes: 1 << 20 },
        {
          url: 'http://127.0.0.1:1/metrics',
          channel: 'gone',
          intervalMs: 200,
          timeoutMs: 200,
          headers: {},
          maxBodyBytes: 1 << 20,
        },
      ],
    });
    await vi.waitFor(
      async () => {
        const latest = (await fetch(`${app.url}/api/channels/demo`).then((response) => response.json())) as {
          data: unknown;
        };
        expect(latest.data).toEqual({ demo_gauge: 42 });
        const text = await fetch(`${app.url}/metrics`).then((response) => response.text());
        expect(text).toMatch(/livedash_scrapes_total\{channel="demo"\} [1-9]/);
        expect(text).toMatch(/livedash_scrape_failures_total\{channel="gone",reason="unreachable"\} [1-9]/);
        const alerts = (await fetch(`${app.url}/api/channels/alerts`).then((response) =>
          response.json(),
        )) as { data: unknown };
        expect(alerts.data).toMatchObject({ rule: 'scrape-gone', state: 'firing' });
      },
      { timeout: 5000, interval: 100 },
    );
  });
});
