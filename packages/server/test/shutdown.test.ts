import { createServer, type LivedashServer } from '@livedash/server';
import { afterEach, expect, test } from 'vitest';
import { TestSseClient } from './helpers/sse-client.js';
import { TestWsClient } from './helpers/ws-client.js';

let server: LivedashServer | undefined;
const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
  await server?.close();
  server = undefined;
});

test('close() sends 1012 to WebSocket clients, ends SSE streams and stops listening', async () => {
  server = await createServer({ port: 0, publishToken: 'secret' });
  const clients = await Promise.all(
    [1, 2, 3].map(() => TestWsClient.connect((server as LivedashServer).url)),
  );
  for (const c of clients) c.send({ action: 'subscribe', channels: ['a'] });
  const sse = await TestSseClient.open(`${server.url}/sse?channels=a`);
  cleanups.push(() => sse.abort());
  await Promise.all(clients.map((c) => c.waitFor((f) => f.some((x) => x.type === '$subscribed'))));
  await server.close();
  for (const c of clients) expect((await c.closed).code).toBe(1012);
  await sse.waitForEnd();
  await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
  // A second close is harmless.
  await server.close();
});

test('a client that never answers the close handshake does not hold shutdown past shutdownTimeoutMs', async () => {
  server = await createServer({
    port: 0,
    publishToken: 'secret',
    shutdownTimeoutMs: 1500,
  });
  const stuck = await TestWsClient.connect(server.url);
  cleanups.push(() => stuck.ws.terminate());
  // Its socket stops reading: the close frame is never seen, so it never answers.
  (stuck.ws as unknown as { _socket: { pause(): void } })._socket.pause();
  const started = Date.now();
  await server.close();
  const took = Date.now() - started;
  expect(took).toBeLessThan(1500 + 1000);
});

test('during shutdown, new WebSocket and SSE connections are refused', async () => {
  server = await createServer({
    port: 0,
    publishToken: 'secret',
    shutdownTimeoutMs: 3000,
  });
  const stuck = await TestWsClient.connect(server.url);
  cleanups.push(() => stuck.ws.terminate());
  (stuck.ws as unknown as { _socket: { pause(): void } })._socket.pause();
  const closing = server.close();
  const late = new TestWsClient(`${server.url.replace('http', 'ws')}/ws`);
  await expect(late.opened).rejects.toThrow();
  // SSE: refused with 503, or the port is already closed.
  const sseStatus = await fetch(`${server.url}/sse?channels=a`).then(
    async (response) => {
      await response.body?.cancel();
      return response.status;
    },
    () => 'refused',
  );
  expect([503, 'refused']).toContain(sseStatus);
  await closing;
});
