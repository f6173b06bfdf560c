import { createServer } from 'node:net';
import { afterEach, expect, test } from 'vitest';
import { browserEnvironment, type EnvironmentLike, type LiveClient } from '../src/index.js';
import { nodeClient, startServer } from './helpers/live.js';
import { until } from './helpers/wait.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

/** The page signals a browser would send, driven by the test (Node has no window). */
function pageSignals(initiallyOnline = true) {
  let online = initiallyOnline;
  let handlers: Parameters<EnvironmentLike['listen']>[0] | undefined;
  const environment: EnvironmentLike = {
    isOnline: () => online,
    isVisible: () => true,
    listen: (h) => {
      handlers = h;
      return () => {
        handlers = undefined;
      };
    },
  };
  return {
    environment,
    goOffline: () => {
      online = false;
      handlers?.offline();
    },
    goOnline: () => {
      online = true;
      handlers?.online();
    },
    becomeVisible: () => handlers?.visible(),
    listening: () => handlers !== undefined,
  };
}

async function refusedUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}

function make(url: string, environment: EnvironmentLike, extra = {}): LiveClient {
  const client = nodeClient({ url, environment, transports: ['ws'], ...extra });
  cleanup.push(() => client.close());
  return client;
}

test('starting offline waits for the online event, then connects at once', async () => {
  const server = await startServer();
  cleanup.push(() => server.close());
  const page = pageSignals(false);
  const client = make(server.url, page.environment);
  expect(client.state.status).toBe('offline');
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(client.state.status).toBe('offline');
  page.goOnline();
  await until(() => client.state.status === 'open', 'open after online', 10_000);
});

test('a waiting reconnect is parked while offline and happens at once when back online', async () => {
  const page = pageSignals();
  const client = make(await refusedUrl(), page.environment, {
    backoff: { initialDelayMs: 60_000, maxDelayMs: 60_000 },
  });
  await until(() => client.state.status === 'reconnecting', 'reconnecting', 10_000);
  page.goOffline();
  expect(client.state).toMatchObject({ status: 'offline', nextRetryAt: null });
  page.goOnline();
  expect(client.state).toMatchObject({ status: 'connecting', attempt: 2 });
});

test('a page becoming visible retries a waiting reconnect now', async () => {
  const page = pageSignals();
  const client = make(await refusedUrl(), page.environment, {
    backoff: { initialDelayMs: 60_000, maxDelayMs: 60_000 },
  });
  await until(() => client.state.status === 'reconnecting', 'reconnecting', 10_000);
  page.becomeVisible();
  expect(client.state).toMatchObject({ status: 'connecting', attempt: 2 });
});

test('close() stops listening to the page', async () => {
  const page = pageSignals();
  const client = make(await refusedUrl(), page.environment);
  expect(page.listening()).toBe(true);
  client.close();
  expect(page.listening()).toBe(false);
});

test('outside a browser the default environment is always online and visible', () => {
  const environment = browserEnvironment();
  expect(environment.isOnline()).toBe(true);
  expect(environment.isVisible()).toBe(true);
  const stop = environment.listen({ online() {}, offline() {}, visible() {}, hidden() {} });
  stop();
});
