import { request } from 'node:http';
import type { FetchLike, LiveClientOptions, WebSocketConstructor } from '@livedash/client';
import { type CreateServerOptions, createServer, type LivedashServer } from '@livedash/server';
import { type LivedashOptions, startLivedash } from 'livedash';
import { WebSocket } from 'ws';
import './patience.js';

/** A real livedash server on port 0, with the counts the React tests assert on. */
export interface TestServer {
  readonly server: LivedashServer;
  readonly url: string;
  /** WebSocket upgrade requests seen since start: every connection a client ever opened. */
  upgrades(): number;
  /** Open connections per transport, read from the server's own `/metrics`. */
  openConnections(): Promise<number>;
  /** Channel subscriptions across all connections (the hub's count). */
  subscriptions(): number;
  close(): Promise<void>;
}

export async function startServer(options: CreateServerOptions = {}): Promise<TestServer> {
  return watch(await createServer({ port: 0, publishToken: 'secret', ...options }));
}

/** The whole livedash app (host metrics on `metrics`, alerts) instead of the bare server core. */
export async function startApp(options: LivedashOptions = {}): Promise<TestServer> {
  return watch(await startLivedash({ port: 0, publishToken: 'secret', ...options }));
}

function watch(server: LivedashServer): TestServer {
  if ((globalThis as { happyDOM?: unknown }).happyDOM !== undefined) servePageFrom(server.url);
  let upgrades = 0;
  server.app.server.on('upgrade', () => upgrades++);
  return {
    server,
    url: server.url,
    upgrades: () => upgrades,
    async openConnections() {
      const text = await httpGet(`${server.url}/metrics`);
      let total = 0;
      for (const match of text.matchAll(/^livedash_connections\{transport="[a-z]+"\} (\d+)$/gm)) {
        total += Number(match[1]);
      }
      return total;
    },
    subscriptions: () => server.hub.subscriptionCount,
    close: () => server.close(),
  };
}

/** GET with Node's own HTTP client: the happy-dom environment replaces `fetch` with a browser-like one. */
export function httpGet(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    request(url, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve(body));
      res.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}

/**
 * Puts the happy-dom page at the server's origin, as if the server had served it (the dashboard's
 * case): same-origin `fetch` then needs no CORS, and a client for "the page's origin" is this server.
 */
export function servePageFrom(url: string): void {
  const happyDOM = (globalThis as { happyDOM?: { setURL(url: string): void } }).happyDOM;
  if (happyDOM === undefined) throw new Error('servePageFrom needs the happy-dom environment');
  happyDOM.setURL(`${url}/`);
}

/**
 * Options for a LiveClient inside happy-dom: the `ws` package's WebSocket (happy-dom's cannot reach a
 * Node server reliably) and WebSocket only, so every test counts exactly one kind of connection.
 */
export function testClientOptions(): Omit<LiveClientOptions, 'url'> {
  return {
    WebSocket: WebSocket as unknown as WebSocketConstructor,
    transports: ['ws'],
    fetch: globalThis.fetch.bind(globalThis) as FetchLike,
  };
}
