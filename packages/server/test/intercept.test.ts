import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, test } from 'vitest';
import { PeerFaults } from '../src/peer-faults.js';
import { interceptLiveRequests, type LiveTakers } from '../src/transports/intercept.js';
import { refusedUpgrade } from './helpers/raw-ws-client.js';

// The wrapper that puts livedash's paths in front of a server's own listeners, tested with takers of
// its own so each rule shows on its own: what is taken, what is passed on, and failures that stay inside.

let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

async function listening(server: Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanup.push(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function takers(
  serve: (request: IncomingMessage, response: ServerResponse) => void,
  faults = new PeerFaults(new Registry()),
): LiveTakers {
  return {
    faults,
    ownsRequest: (request) => request.url === '/taken',
    serveRequest: serve,
    ownsContinue: (request) => request.url === '/taken',
    ownsUpgrade: (request) => request.url === '/taken',
    serveUpgrade: (_request: IncomingMessage, socket: Duplex) => {
      socket.end('HTTP/1.1 418 Taken\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    },
  };
}

describe('interceptLiveRequests', () => {
  test("taken requests never reach the server's listeners, added before or after; the rest reach all of them", async () => {
    const before: string[] = [];
    const after: string[] = [];
    const server = createServer((request, response) => {
      before.push(request.url ?? '');
      response.end('app');
    });
    interceptLiveRequests(
      server,
      takers((_request, response) => response.end('taken')),
    );
    server.on('request', (request: IncomingMessage) => after.push(request.url ?? ''));
    const base = await listening(server);
    expect(await (await fetch(`${base}/taken`)).text()).toBe('taken');
    expect(await (await fetch(`${base}/other`)).text()).toBe('app');
    expect(before).toEqual(['/other']);
    expect(after).toEqual(['/other']);
  });

  test('release() gives the paths back and removes what it added', async () => {
    const server = createServer((_request, response) => response.end('app'));
    const listeners = server.listenerCount('upgrade');
    const release = interceptLiveRequests(
      server,
      takers((_request, response) => response.end('taken')),
    );
    const base = await listening(server);
    release();
    expect(await (await fetch(`${base}/taken`)).text()).toBe('app');
    expect(Object.hasOwn(server, 'emit')).toBe(false);
    expect(server.listenerCount('upgrade')).toBe(listeners);
    release(); // twice is fine
  });

  test('an exception while serving a taken request closes that connection only; the server goes on serving', async () => {
    const server = createServer((_request, response) => response.end('app'));
    const logged: string[] = [];
    const registry = new Registry();
    const faults = new PeerFaults(registry, (line) => logged.push(line));
    interceptLiveRequests(
      server,
      takers(() => {
        throw new Error('bug while serving');
      }, faults),
    );
    const base = await listening(server);
    await expect(fetch(`${base}/taken`)).rejects.toThrow();
    expect(logged.length).toBe(1);
    expect(await registry.metrics()).toMatch(/livedash_peer_faults_total\{where="request"\} 1/);
    expect(await (await fetch(`${base}/other`)).text()).toBe('app');
  });

  test('taken upgrades go to the taker; others to the server as plain requests when it has no upgrade listener', async () => {
    const server = createServer((_request, response) => response.end('app'));
    interceptLiveRequests(
      server,
      takers((_request, response) => response.end('taken')),
    );
    await listening(server);
    const port = (server.address() as AddressInfo).port;
    expect((await refusedUpgrade(port, { path: '/taken' }, 1000)).status).toBe(418);
    expect((await refusedUpgrade(port, { path: '/other' }, 1000)).status).toBe(200);
  });
});
