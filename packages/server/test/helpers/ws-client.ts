import WebSocket from 'ws';

export interface Frame {
  type: string;
  [key: string]: unknown;
}

/**
 * A test WebSocket client that records every frame and lets a test wait for a condition instead of
 * sleeping. `close()` resolves once the socket is closed, with the close code.
 */
export class TestWsClient {
  readonly ws: WebSocket;
  readonly frames: Frame[] = [];
  readonly opened: Promise<void>;
  readonly closed: Promise<{ code: number; reason: string }>;
  #waiters = new Set<() => void>();

  constructor(url: string, options: WebSocket.ClientOptions = {}) {
    this.ws = new WebSocket(url, options);
    this.ws.on('message', (data, isBinary) => {
      if (!isBinary) this.frames.push(JSON.parse(String(data)) as Frame);
      for (const wake of this.#waiters) wake();
    });
    this.ws.on('error', () => {});
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('close', () => reject(new Error('closed before open')));
    });
    this.opened.catch(() => {});
    this.closed = new Promise((resolve) => {
      this.ws.once('close', (code, reason) => {
        resolve({ code, reason: String(reason) });
        for (const wake of this.#waiters) wake();
      });
    });
  }

  static async connect(
    baseUrl: string,
    path = '/ws',
    options: WebSocket.ClientOptions = {},
  ): Promise<TestWsClient> {
    const client = new TestWsClient(`${baseUrl.replace(/^http/, 'ws')}${path}`, options);
    await client.opened;
    return client;
  }

  send(command: unknown): void {
    this.ws.send(typeof command === 'string' ? command : JSON.stringify(command));
  }

  /** Data frames of `channel`, in arrival order. */
  data(channel: string): Frame[] {
    return this.frames.filter((frame) => frame.type === channel);
  }

  ofType(type: string): Frame[] {
    return this.frames.filter((frame) => frame.type === type);
  }

  /** Resolves when `predicate` holds over the frames so far; rejects after `timeoutMs`. */
  waitFor(predicate: (frames: Frame[]) => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
    if (predicate(this.frames)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (predicate(this.frames)) finish(resolve);
        else if (this.ws.readyState === WebSocket.CLOSED)
          finish(() => reject(new Error(`socket closed while waiting for ${what}`)));
      };
      const finish = (then: () => void) => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        then();
      };
      const timer = setTimeout(
        () =>
          finish(() =>
            reject(new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.frames.slice(-5))}`)),
          ),
        timeoutMs,
      );
      this.#waiters.add(check);
    });
  }

  /** Waits for `count` data frames on `channel`. */
  waitForData(channel: string, count: number, timeoutMs = 10_000): Promise<void> {
    return this.waitFor(
      (frames) => frames.filter((f) => f.type === channel).length >= count,
      timeoutMs,
      `${count} × ${channel}`,
    );
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    if (this.ws.readyState === WebSocket.CONNECTING) this.ws.terminate();
    else this.ws.close();
    await this.closed;
  }
}

/** Publishes over HTTP; returns the status and body. */
export async function httpPublish(
  baseUrl: string,
  channel: string,
  data: unknown,
  token = 'secret',
): Promise<{
  status: number;
  body: { channel?: string; epoch?: string; seq?: number; error?: { code: string } };
}> {
  const response = await fetch(`${baseUrl}/api/channels/${channel}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(data),
  });
  return { status: response.status, body: (await response.json()) as never };
}

/** Seqs must run n, n+1, … with no gap and no duplicate. */
export function assertContiguous(seqs: number[], from: number, to: number): void {
  const expected = Array.from({ length: to - from + 1 }, (_, i) => from + i);
  if (JSON.stringify(seqs) !== JSON.stringify(expected)) {
    throw new Error(`seqs not contiguous ${from}..${to}: ${JSON.stringify(seqs)}`);
  }
}
