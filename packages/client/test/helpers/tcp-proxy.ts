import { createServer, type Server, Socket } from 'node:net';

interface Pair {
  client: Socket;
  upstream: Socket;
}

/**
 * A TCP proxy in front of a test server, so tests can do to a connection what networks do:
 * - `cut()`: reset every connection, and refuse new ones until `restore()` (a network outage);
 * - `pause()`: stop forwarding on the open connections without closing them (a half-open connection:
 *   nothing arrives, nothing errors); new connections still work;
 * - `resume()`: forward again.
 * `connections` counts accepted connections; `arrivals` records when each arrived (ms since epoch).
 */
export class TcpProxy {
  readonly #server: Server;
  readonly #targetPort: number;
  #pairs = new Set<Pair>();
  #refusing = false;
  #paused = new Set<Pair>();
  readonly arrivals: number[] = [];
  port = 0;
  /** While true, a connection whose first bytes are a WebSocket upgrade request is closed (a proxy that blocks WebSocket). */
  blockUpgrades = false;

  private constructor(targetPort: number) {
    this.#targetPort = targetPort;
    this.#server = createServer((client) => this.#accept(client));
  }

  static async start(targetPort: number): Promise<TcpProxy> {
    const proxy = new TcpProxy(targetPort);
    await new Promise<void>((resolve) => proxy.#server.listen(0, '127.0.0.1', resolve));
    const address = proxy.#server.address();
    if (typeof address !== 'object' || address === null) throw new Error('proxy has no address');
    proxy.port = address.port;
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get connections(): number {
    return this.arrivals.length;
  }

  /** Connections currently open through the proxy. */
  get open(): number {
    return this.#pairs.size;
  }

  #accept(client: Socket): void {
    this.arrivals.push(Date.now());
    if (this.#refusing) {
      client.resetAndDestroy();
      return;
    }
    const upstream = new Socket();
    const pair: Pair = { client, upstream };
    this.#pairs.add(pair);
    const drop = () => {
      this.#pairs.delete(pair);
      this.#paused.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    upstream.connect(this.#targetPort, '127.0.0.1');
    upstream.pipe(client);
    client.once('data', (first: Buffer) => {
      if (this.blockUpgrades && /upgrade:\s*websocket/i.test(first.toString('latin1'))) {
        drop();
        return;
      }
      upstream.write(first);
      client.pipe(upstream);
    });
  }

  /** Resets every open connection and refuses new ones until `restore()`. */
  cut(): void {
    this.#refusing = true;
    for (const { client, upstream } of this.#pairs) {
      client.resetAndDestroy();
      upstream.destroy();
    }
    this.#pairs.clear();
  }

  restore(): void {
    this.#refusing = false;
  }

  /** Stops forwarding on every open connection, leaving them open (half-open). */
  pause(): void {
    for (const pair of this.#pairs) {
      pair.client.unpipe(pair.upstream);
      pair.upstream.unpipe(pair.client);
      pair.client.pause();
      pair.upstream.pause();
      this.#paused.add(pair);
    }
  }

  resume(): void {
    for (const pair of this.#paused) {
      pair.client.pipe(pair.upstream);
      pair.upstream.pipe(pair.client);
    }
    this.#paused.clear();
  }

  async close(): Promise<void> {
    for (const { client, upstream } of this.#pairs) {
      client.destroy();
      upstream.destroy();
    }
    this.#pairs.clear();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
