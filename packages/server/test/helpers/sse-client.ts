import type { Frame } from './ws-client.js';

export interface SseEvent {
  id: string | undefined;
  data: string;
  frame: Frame;
}

/**
 * A raw SSE reader over fetch: records every event with its `id:` and comment lines, and can be cut
 * at any moment (as a dropped connection) with `abort()`.
 */
export class TestSseClient {
  readonly events: SseEvent[] = [];
  readonly comments: string[] = [];
  readonly retries: number[] = [];
  status = 0;
  #abort = new AbortController();
  #done: Promise<void> = Promise.resolve();
  #waiters = new Set<() => void>();
  ended = false;

  static async open(url: string, headers: Record<string, string> = {}): Promise<TestSseClient> {
    const client = new TestSseClient();
    const response = await fetch(url, { headers, signal: client.#abort.signal });
    client.status = response.status;
    if (!response.ok || !response.body) {
      client.ended = true;
      return client;
    }
    client.#done = client.#read(response.body).catch(() => {});
    return client;
  }

  /** The last id seen (what a browser would send as Last-Event-ID). */
  get lastEventId(): string | undefined {
    return this.events.findLast((event) => event.id !== undefined)?.id;
  }

  data(channel: string): Frame[] {
    return this.events.map((event) => event.frame).filter((frame) => frame.type === channel);
  }

  waitFor(predicate: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (predicate()) finish(resolve);
        else if (this.ended) finish(() => reject(new Error(`stream ended while waiting for ${what}`)));
      };
      const finish = (then: () => void) => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        then();
      };
      const timer = setTimeout(
        () => finish(() => reject(new Error(`timed out waiting for ${what}`))),
        timeoutMs,
      );
      this.#waiters.add(check);
    });
  }

  waitForData(channel: string, count: number, timeoutMs = 10_000): Promise<void> {
    return this.waitFor(
      () => this.data(channel).length >= count,
      timeoutMs,
      `${count} × ${channel} over SSE`,
    );
  }

  /** Resolves when the server ends the stream. */
  waitForEnd(timeoutMs = 10_000): Promise<void> {
    return this.waitFor(() => this.ended, timeoutMs, 'end of stream').catch((error) => {
      if (!this.ended) throw error;
    });
  }

  async abort(): Promise<void> {
    this.#abort.abort();
    await this.#done;
  }

  async #read(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of body) {
        buffer += decoder.decode(chunk, { stream: true });
        let end = buffer.indexOf('\n\n');
        while (end !== -1) {
          this.#parse(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
          end = buffer.indexOf('\n\n');
        }
        for (const wake of this.#waiters) wake();
      }
    } finally {
      this.ended = true;
      for (const wake of this.#waiters) wake();
    }
  }

  #parse(block: string): void {
    let id: string | undefined;
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) this.comments.push(line.slice(1).trim());
      else if (line.startsWith('id: ')) id = line.slice(4);
      else if (line.startsWith('data: ')) data.push(line.slice(6));
      else if (line.startsWith('retry: ')) this.retries.push(Number(line.slice(7)));
    }
    if (data.length > 0) {
      const text = data.join('\n');
      this.events.push({ id, data: text, frame: JSON.parse(text) as Frame });
    }
  }
}
