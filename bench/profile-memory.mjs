#!/usr/bin/env node
// Memory per idle connection, in detail: `node bench/profile-memory.mjs [livedash|ws|socketio] [N] [snapshot path]`
// starts one server process and the load generator, connects N idle subscribers, and prints the growth
// of RSS, V8 heap and external memory per connection; with a path, also writes a heap snapshot of the
// server holding them (open it in Chrome DevTools → Memory to see what each connection keeps).
import { spawnWorker } from './lib/ipc.mjs';

const kind = process.argv[2] ?? 'livedash';
const clients = Number(process.argv[3] ?? 3000);
const modules = {
  livedash: 'livedash.mjs',
  ws: 'ws-plain.mjs',
  socketio: 'socketio.mjs',
  raw: 'raw-ceiling.mjs',
};
if (!modules[kind]) throw new Error(`unknown server kind ${kind}; one of ${Object.keys(modules).join(', ')}`);

const server = spawnWorker(new URL(`./servers/${modules[kind]}`, import.meta.url).pathname, {
  name: 'server',
});
const loadgen = spawnWorker(new URL('./loadgen.mjs', import.meta.url).pathname, { name: 'loadgen' });
try {
  const { port } = await server.call('start', {});
  await server.call('channels', { channels: ['bench.memory'] });
  const before = await server.call('gc');
  await loadgen.call(
    'connect',
    { kind, base: `127.0.0.1:${port}`, clients, channels: ['bench.memory'] },
    300_000,
  );
  await new Promise((resolve) => setTimeout(resolve, 500));
  const after = await server.call('gc');
  const per = (key) => Math.round((after[key] - before[key]) / clients);
  console.log(
    `${kind}, ${clients} idle connections, per connection: RSS ${per('rss')} B, heap ${per('heapUsed')} B, external ${per('external')} B`,
  );
  if (process.argv[4])
    console.log('heap snapshot:', (await server.call('heapSnapshot', { path: process.argv[4] })).path);
  await loadgen.call('closeAll');
} finally {
  await loadgen.stop();
  await server.stop();
}
