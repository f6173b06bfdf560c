// What `npm run bench` runs, in quick and full mode. Rates are total messages/s over all channels.
// Saturation phases publish a fixed number of deliveries' worth of messages (count × subscribers).
const wsKinds = ['livedash', 'socketio', 'ws', 'raw'];
const sseKinds = ['livedash-sse', 'sse-raw'];

/** The deciding fixed load: 10 messages/s to every subscriber. */
const fixed = (seconds) => ({ name: 'fixed', rate: 10, count: 10 * seconds, idleMs: 3000 });
/** Saturation: messages published 10 per event-loop turn, back to back, ~`deliveries` in all. */
const saturation = (deliveries) => ({ name: 'saturation', rate: 0, deliveries, burst: 10, idleMs: 3000 });

export const plans = {
  quick: {
    fanout: {
      type: 'fanout',
      description: 'one channel, N WebSocket subscribers, 10 msg/s then saturation',
      clients: [2000],
      channels: 1,
      kinds: wsKinds,
      phases: [fixed(3), saturation(100_000)],
    },
    sse: {
      type: 'fanout',
      description: 'one channel, N SSE streams, 10 msg/s then saturation',
      clients: [500],
      channels: 1,
      kinds: sseKinds,
      phases: [fixed(3), saturation(50_000)],
    },
    channels: {
      type: 'fanout',
      description: '300 channels with 3 WebSocket subscribers each, 3,000 msg/s spread over them',
      clients: [900],
      channels: 300,
      kinds: ['livedash', 'socketio', 'ws'],
      phases: [{ name: 'fixed', rate: 3000, count: 9000, idleMs: 2000 }],
    },
    'max-rate': {
      type: 'max-rate',
      description:
        '1,000 WebSocket subscribers on one state channel at 100 msg/s, without and with maxRate 10',
      clients: [1000],
      rate: 100,
      seconds: 3,
      maxRate: 10,
    },
    storm: {
      type: 'storm',
      description:
        '500 LiveClients, server restarted: recovery time and peak connection attempts/s, jitter on/off',
      clients: 500,
    },
  },
  full: {
    // Benchmarks of their own (see their files); run only when named: `npm run bench -- --only=render`.
    render: {
      type: 'external',
      optional: true,
      script: 'bench/render/run.mjs',
      args: ['--no-build'],
      description: 'dashboard rendering in Chromium (bench/render)',
    },
    scaling: {
      type: 'external',
      optional: true,
      script: 'bench/scaling/run.mjs',
      args: [],
      description: '1, 2 and 3 nodes on one Redis and on a 3-shard Redis Cluster (bench/scaling)',
    },
    client: {
      type: 'external',
      optional: true,
      script: 'bench/client-cost.mjs',
      args: [],
      description: 'LiveClient main-thread cost per 1,000 messages in Chromium (bench/client-cost.mjs)',
    },
    fanout: {
      type: 'fanout',
      description: 'one channel, N WebSocket subscribers, 10 msg/s then saturation',
      clients: [1000, 5000, 10000],
      channels: 1,
      kinds: wsKinds,
      phases: [fixed(10), saturation(200_000)],
    },
    sse: {
      type: 'fanout',
      description: 'one channel, N SSE streams, 10 msg/s then saturation',
      clients: [1000, 5000],
      channels: 1,
      kinds: sseKinds,
      phases: [fixed(5), saturation(100_000)],
    },
    channels: {
      type: 'fanout',
      description: '1,000 channels with 3 WebSocket subscribers each, 5,000 msg/s spread over them',
      clients: [3000],
      channels: 1000,
      kinds: wsKinds,
      phases: [{ name: 'fixed', rate: 5000, count: 30000, idleMs: 3000 }],
    },
    'max-rate': {
      type: 'max-rate',
      description:
        '5,000 (and 1,000) WebSocket subscribers on one state channel at 100 msg/s, without and with maxRate 10: server CPU/s and deliveries/s',
      // 1,000 too: a size whose every delivery the load generator reads in time, unrated as well.
      clients: [1000, 5000],
      rate: 100,
      seconds: 10,
      maxRate: 10,
    },
    storm: {
      type: 'storm',
      description:
        '5,000 LiveClients, server restarted: recovery time and peak connection attempts/s, jitter on/off',
      clients: 5000,
    },
    'storm-slow': {
      type: 'storm',
      description:
        '5,000 LiveClients, server down 10 s before it restarts (refused attempts pile up), jitter on/off',
      clients: 5000,
      downMs: 10_000,
    },
  },
};
