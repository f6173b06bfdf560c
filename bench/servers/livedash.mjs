// livedash under test: the real server (built dist), publishing in-process through `hub.publish` — the
// same path HTTP publishes and sources take after parsing. Serves /ws and /sse on one port. Counts the
// TCP connections it accepts per second (for the reconnect storm).
import { subscribe } from 'node:diagnostics_channel';
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { Socket } from 'node:net';
import { pathToFileURL } from 'node:url';
import { serveWorker } from '../lib/ipc.mjs';
import { serverHandlers } from './common.mjs';

// `bench/compare.mjs` runs this against another build too: LIVEDASH_BENCH_SERVER_DIST names its
// `@livedash/server` entry, LIVEDASH_BENCH_SERVER_OPTIONS (JSON) the options that build needs besides these.
const dist =
  process.env.LIVEDASH_BENCH_SERVER_DIST ??
  new URL('../../packages/server/dist/index.js', import.meta.url).pathname;
const extraOptions = JSON.parse(process.env.LIVEDASH_BENCH_SERVER_OPTIONS ?? '{}');
const { createServer } = await import(pathToFileURL(dist).href);
let server = null;

const acceptedPerSecond = new Map();
subscribe('net.server.socket', () => {
  const second = Math.floor(Date.now() / 1000);
  acceptedPerSecond.set(second, (acceptedPerSecond.get(second) ?? 0) + 1);
});

// With LIVEDASH_BENCH_COUNT_WRITES=1, socket writes are counted, about one syscall each: the server's
// direct `fs.writeSync` to a socket's descriptor, and Node's own stream writes (write or writev) when a
// socket lags. Counted before the server is imported, so its `writeSync` import sees the counting one.
let socketWrites = 0;
if (process.env.LIVEDASH_BENCH_COUNT_WRITES === '1') {
  const writeSync = fs.writeSync;
  fs.writeSync = function countedWriteSync(...args) {
    socketWrites++;
    return writeSync.apply(this, args);
  };
  syncBuiltinESMExports();
  const writeGeneric = Socket.prototype._writeGeneric;
  Socket.prototype._writeGeneric = function countedWrite(...args) {
    socketWrites++;
    return writeGeneric.apply(this, args);
  };
}

const { handlers, stop } = serverHandlers({
  start: async ({ port = 0 } = {}) => {
    server = await createServer({
      port,
      host: '127.0.0.1',
      publishToken: 'bench',
      // Every benchmark client comes from 127.0.0.1; the per-address limits would refuse all but a few.
      maxConnectionsPerIp: 1_000_000,
      maxSseStreamsPerIp: 1_000_000,
      ...extraOptions,
    });
    return { port: server.port, startedAt: Date.now() };
  },
  send: (channel, data) => server.hub.publish(channel, data),
  subscribers: () => server?.hub.subscriptionCount ?? null,
  stop: async () => server?.close(),
});

handlers.accepted = async () => [...acceptedPerSecond.entries()].sort((a, b) => a[0] - b[0]);
handlers.publishOne = async ({ channel, data }) => server.hub.publish(channel, data);
handlers.socketWrites = async () => socketWrites;
serveWorker(handlers, stop);
