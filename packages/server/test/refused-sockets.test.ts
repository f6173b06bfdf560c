/**
 * Every refusal releases its socket: refused upgrades (400, 403, 404, 405, 429) and refused HTTP
 * requests (on /sse, the header and Host checks, 429, 503) from peers that never read and never close
 * cost the server no descriptor once `REFUSAL_LINGER_MS` has passed. The peers run in a child process,
 * so this process's descriptors (/proc/self/fd) are the server's alone.
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createServer, type LivedashServer } from '../src/index.js';
import { REFUSAL_LINGER_MS } from '../src/transports/upgrade-refusal.js';
import { until } from './helpers/wait.js';
import { expectServerServes, rawExchange } from './security-wire.js';

const PEERS = 300;

let server: LivedashServer;

beforeAll(async () => {
  // One WebSocket per address, so a second one from the child is refused 429.
  server = await createServer({ port: 0, maxConnectionsPerIp: 1 });
});

afterAll(async () => {
  await server.close();
});

const openDescriptors = () => readdirSync('/proc/self/fd').length;

/** The child: one WebSocket held open, then PEERS refused upgrades on sockets it never reads nor closes. */
const PEER_SCRIPT = `
const net = require('node:net');
const [port, count] = process.argv.slice(1).map(Number);
const key = 'dGhlIHNhbXBsZSBub25jZQ==';
const upgrade = (target, extra = '') =>
  'GET ' + target + ' HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\n' +
  'Sec-WebSocket-Key: ' + key + '\\r\\nSec-WebSocket-Version: 13\\r\\n' + extra + '\\r\\n';
const kinds = [
  upgrade('/nowhere'),                                   // 404
  upgrade('http://a:99999/ws'),                          // 400, bad target
  upgrade('/ws', 'Origin: https://evil.example\\r\\n'),  // 403
  upgrade('/ws').replace('Version: 13', 'Version: 8'),   // 400, wrong version
  upgrade('/ws'),                                        // 429: the held connection is this address's one
];
const sockets = [];
const open = (text) => new Promise((resolve) => {
  const socket = net.connect(port, '127.0.0.1', () => { socket.write(text); resolve(); });
  socket.on('error', () => {});
  sockets.push(socket);
});
(async () => {
  const held = net.connect(port, '127.0.0.1', () => held.write(upgrade('/ws')));
  held.on('error', () => {});
  await new Promise((resolve) => held.once('data', resolve));
  held.pause();
  for (let i = 0; i < count; i++) {
    await open(kinds[i % kinds.length]);
    sockets.at(-1).pause(); // never reads
  }
  process.stdout.write('sent\\n');
})();
setInterval(() => {}, 1000); // never closes; killed by the test
`;

test(`${PEERS} refused upgrades from peers that never read nor close hold no descriptor after ${REFUSAL_LINGER_MS} ms`, {
  timeout: 60_000,
}, async () => {
  const baseline = openDescriptors();
  const child = spawn(process.execPath, ['-e', PEER_SCRIPT, String(server.port), String(PEERS)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += String(chunk);
    });
    await until(() => output.includes('sent'), 'the peers to send their upgrades', 30_000);
    const sentAt = Date.now();
    // The held WebSocket and the child's stdout pipe are all that may remain.
    const allowed = baseline + 4;
    await until(
      () => openDescriptors() <= allowed,
      `descriptors back to the baseline (${baseline}; now ${openDescriptors()})`,
      REFUSAL_LINGER_MS + 4000,
    );
    console.info(
      `${PEERS} refused peers: descriptors back to ${openDescriptors()} (baseline ${baseline}) ${Date.now() - sentAt} ms after the last was sent`,
    );
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/livedash_limit_hits_total\{limit="connections_per_ip"\} [1-9]/);
    expect(metrics).toMatch(/livedash_limit_hits_total\{limit="origin"\} [1-9]/);
  } finally {
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
  }
  // Its one connection is gone with it: a new client gets in again.
  await until(() => openDescriptors() <= baseline + 2, 'the held connection to close', 5000);
  await expectServerServes(server, 'refused.after');
});

/**
 * The child for HTTP refusals: one SSE stream held open (so the next is over the per-address limit),
 * then PEERS refused requests on keep-alive connections it never reads nor closes.
 */
const HTTP_PEER_SCRIPT = `
const net = require('node:net');
const [port, count] = process.argv.slice(1).map(Number);
const get = (target, host = '127.0.0.1', extra = '') =>
  'GET ' + target + ' HTTP/1.1\\r\\nHost: ' + host + '\\r\\n' + extra + '\\r\\n';
const many = Array.from({ length: 80 }, (_, i) => 'X-Many-' + i + ': 1\\r\\n').join('');
const kinds = [
  get('/sse?channels=prices', 'evil.example'),          // 403 host_not_allowed on /sse
  get('/sse?channels=bad%20name'),                      // 400 on /sse
  get('/sse?channels=prices'),                          // 429: the held stream is this address's one
  get('/api/channels/prices', 'evil.example'),          // 403 host_not_allowed on /api
  get('/api/channels/prices', '127.0.0.1', many),       // 431 from the header-count check
];
const sockets = [];
const open = (text) => new Promise((resolve) => {
  const socket = net.connect(port, '127.0.0.1', () => { socket.write(text); resolve(); });
  socket.on('error', () => {});
  sockets.push(socket);
});
(async () => {
  const held = net.connect(port, '127.0.0.1', () => held.write(get('/sse?channels=prices')));
  held.on('error', () => {});
  await new Promise((resolve) => held.once('data', resolve));
  held.pause();
  for (let i = 0; i < count; i++) {
    await open(kinds[i % kinds.length]);
    sockets.at(-1).pause(); // never reads
  }
  process.stdout.write('sent\\n');
})();
setInterval(() => {}, 1000); // never closes; killed by the test
`;

test(`${PEERS} refused HTTP requests on keep-alive connections that are never read nor closed hold no descriptor after ${REFUSAL_LINGER_MS} ms`, {
  timeout: 60_000,
}, async () => {
  // Its own server: one SSE stream per address, so the child's second is refused 429.
  const http = await createServer({ port: 0, maxSseStreamsPerIp: 1 });
  try {
    await http.hub.publish('prices', { eur: 1 });
    const baseline = openDescriptors();
    const child = spawn(process.execPath, ['-e', HTTP_PEER_SCRIPT, String(http.port), String(PEERS)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      let output = '';
      child.stdout.on('data', (chunk) => {
        output += String(chunk);
      });
      await until(() => output.includes('sent'), 'the peers to send their requests', 30_000);
      const sentAt = Date.now();
      // Without the release each refused socket idles until the keep-alive timeout (5 s) ends it.
      // Under the 5 s keep-alive timeout (the sockets answered last would still be held), with room
      // for a loaded machine.
      await until(
        () => openDescriptors() <= baseline + 4,
        `descriptors back to the baseline (${baseline}; now ${openDescriptors()})`,
        REFUSAL_LINGER_MS + 3500,
      );
      console.info(
        `${PEERS} refused HTTP peers: descriptors back to ${openDescriptors()} (baseline ${baseline}) ${Date.now() - sentAt} ms after the last was sent`,
      );
      const metrics = await (await fetch(`${http.url}/metrics`)).text();
      expect(metrics).toMatch(/livedash_limit_hits_total\{limit="host"\} [1-9]/);
      expect(metrics).toMatch(/livedash_limit_hits_total\{limit="sse_streams_per_ip"\} [1-9]/);
      expect(metrics).toMatch(/livedash_limit_hits_total\{limit="header_count"\} [1-9]/);
    } finally {
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    await expectServerServes(http, 'refused.http.after');
  } finally {
    await http.close();
  }
});

test('a refused SSE request is answered in full with Connection: close, also to a peer that reads late', async () => {
  const http = await createServer({ port: 0 });
  try {
    const request = 'GET /sse?channels=bad%20name HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';
    const answer = await rawExchange(http.port, [request], REFUSAL_LINGER_MS + 3000);
    expect(answer.status).toBe(400);
    expect(answer.text).toMatch(/\r\nconnection: close\r\n/i);
    expect(answer.text).toMatch(/"code":"invalid_channel"/);
    // The server closed it: the peer did not, and keep-alive would have held it 5 s.
    expect(answer.closed).toBe(true);
    // A peer that waits before reading still gets the whole answer.
    const late = await new Promise<string>((resolve) => {
      const socket = connect(http.port, '127.0.0.1', () => socket.write(request));
      socket.pause();
      socket.on('error', () => {});
      let text = '';
      setTimeout(() => {
        socket.on('data', (chunk) => {
          text += String(chunk);
        });
        socket.on('close', () => resolve(text));
        socket.resume();
      }, REFUSAL_LINGER_MS / 2);
    });
    expect(late).toMatch(/^HTTP\/1\.1 400[\s\S]*"code":"invalid_channel"/);
  } finally {
    await http.close();
  }
});
