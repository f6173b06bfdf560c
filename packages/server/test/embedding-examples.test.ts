import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { LiveClient, type WebSocketConstructor } from '@livedash/client';
import { afterEach, describe, expect, test } from 'vitest';
import WebSocket from 'ws';

// The embedding examples in examples/embed-*/ (shown in docs/embedding.md) run here as a user would
// run them: started, a LiveClient subscribed over WebSocket, the app's own routes called.

interface RunningExample {
  url: string;
  close(): Promise<void>;
}
type Start = (options: { port: number; host: string }) => Promise<RunningExample>;

const root = new URL('../../../', import.meta.url);
const EXAMPLES = ['embed-node-http', 'embed-express', 'embed-fastify'] as const;

let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

async function startExample(name: (typeof EXAMPLES)[number]): Promise<RunningExample> {
  const previous = process.env.PUBLISH_TOKEN;
  process.env.PUBLISH_TOKEN = 'secret';
  try {
    const module = (await import(`../../../examples/${name}/server.mjs`)) as { start: Start };
    const running = await module.start({ port: 0, host: '127.0.0.1' });
    cleanup.push(() => running.close());
    return running;
  } finally {
    if (previous === undefined) delete process.env.PUBLISH_TOKEN;
    else process.env.PUBLISH_TOKEN = previous;
  }
}

/** A LiveClient on `url`, over WebSocket only, collecting `channel`'s messages. */
function subscribe(url: string, channel: string): { received: unknown[]; subscribed: Promise<void> } {
  const client = new LiveClient({
    url,
    transports: ['ws'],
    WebSocket: WebSocket as unknown as WebSocketConstructor,
  });
  cleanup.push(() => client.close());
  const received: unknown[] = [];
  client.subscribe(channel, (data) => received.push(data));
  const subscribed = new Promise<void>((resolve) => {
    const stop = client.onState((state) => {
      if (state.status === 'open') {
        stop();
        resolve();
      }
    });
  });
  return { received, subscribed };
}

async function postOrder(url: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${url}/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id: 'A-17' }),
  });
  return { status: response.status, body: await response.json() };
}

describe('examples/embed-*', () => {
  test('node:http: the app answers its own paths and the clock channel ticks to a LiveClient', async () => {
    const app = await startExample('embed-node-http');
    expect(await (await fetch(`${app.url}/`)).text()).toMatch(/My app/);
    expect((await fetch(`${app.url}/nothing`)).status).toBe(404);
    const clock = subscribe(app.url, 'clock');
    await expect.poll(() => clock.received.length, { timeout: 10_000 }).toBeGreaterThanOrEqual(1);
    expect(clock.received[0]).toMatchObject({ now: expect.any(Number) });
  });

  test('Express: a POST to the app publishes in process; the LiveClient gets it', async () => {
    const app = await startExample('embed-express');
    expect(await (await fetch(`${app.url}/`)).text()).toMatch(/My Express app/);
    const orders = subscribe(app.url, 'orders');
    await orders.subscribed;
    const posted = await postOrder(app.url);
    expect(posted).toMatchObject({ status: 201, body: { channel: 'orders', seq: 1 } });
    await expect
      .poll(() => orders.received, { timeout: 10_000 })
      .toEqual([{ id: 'A-17', status: 'received' }]);
    // The example's token lets anything that can send HTTP publish too.
    const viaApi = await fetch(`${app.url}/api/channels/orders`, {
      method: 'POST',
      headers: { authorization: 'Bearer secret', 'content-type': 'application/json' },
      body: '{"id":"A-18"}',
    });
    expect(viaApi.status).toBe(200);
  });

  test('Fastify: the plugin under /live, a POST to the app publishes in process', async () => {
    const app = await startExample('embed-fastify');
    expect(await (await fetch(`${app.url}/`)).text()).toMatch(/My Fastify app/);
    const orders = subscribe(`${app.url}/live`, 'orders');
    await orders.subscribed;
    const posted = await postOrder(app.url);
    expect(posted).toMatchObject({ status: 201, body: { channel: 'orders', seq: 1 } });
    await expect
      .poll(() => orders.received, { timeout: 10_000 })
      .toEqual([{ id: 'A-17', status: 'received' }]);
    // The longest valid channel name reaches the plugin's HTTP routes (Fastify's router stops at 100
    // characters unless the instance raises maxParamLength, as the example does).
    const longest = `orders.${'x'.repeat(121)}`;
    expect(longest).toHaveLength(128);
    const published = await fetch(`${app.url}/live/api/channels/${longest}`, {
      method: 'POST',
      headers: { authorization: 'Bearer secret', 'content-type': 'application/json' },
      body: '{"id":"A-19"}',
    });
    expect(published.status).toBe(200);
    expect((await fetch(`${app.url}/live/api/channels/${longest}`)).status).toBe(200);
  });
});

describe('docs/embedding.md', () => {
  test('shows each example exactly as it is in examples/', () => {
    const doc = readFileSync(fileURLToPath(new URL('docs/embedding.md', root)), 'utf8');
    for (const name of EXAMPLES) {
      const path = `examples/${name}/server.mjs`;
      const source = readFileSync(fileURLToPath(new URL(path, root)), 'utf8');
      // Each example appears after a line naming its file, in a ```js block.
      const block = new RegExp(`\`${path}\`[^\\n]*\\n+\`\`\`js\\n([\\s\\S]*?)\`\`\`\\n`).exec(doc);
      expect(block, `${path} in docs/embedding.md`).not.toBeNull();
      expect(block?.[1], `docs/embedding.md's copy of ${path}`).toBe(source);
    }
  });
});
