// What `npm run bench` runs, in quick and full mode. Rates are total messages/s over all channels.
const wsKinds = ['livedash', 'socketio', 'ws', 'raw'];
const sseKinds = ['livedash-sse', 'sse-raw'];

const fixed = (seconds) => ({ name: 'fixed', rate: 10, count: 10 * seconds, idleMs: 3000 });
const saturation = (count) => ({ name: 'saturation', rate: 0, count, burst: 10, idleMs: 3000 });

export const plans = {
  quick: {
    fanout: {
      type: 'fanout',
      description: 'one channel, N WebSocket subscribers, 10 msg/s then saturation',
      clients: [5000],
      channels: 1,
      kinds: wsKinds,
      phases: [fixed(5), saturation(100)],
    },
    sse: {
      type: 'fanout',
      description: 'one channel, N SSE streams, 10 msg/s then saturation',
      clients: [1000],
      channels: 1,
      kinds: sseKinds,
      phases: [fixed(4), saturation(200)],
    },
    channels: {
      type: 'fanout',
      description: '1,000 channels with 3 WebSocket subscribers each, 1,000 msg/s spread over them',
      clients: [3000],
      channels: 1000,
      kinds: wsKinds,
      phases: [{ name: 'fixed', rate: 1000, count: 4000, idleMs: 3000 }],
    },
    storm: {
      type: 'storm',
      description: '1,000 LiveClients, server restarted: recovery time and peak connection attempts/s, jitter on/off',
      clients: 1000,
    },
  },
  full: {
    fanout: {
      type: 'fanout',
      description: 'one channel, N WebSocket subscribers, 10 msg/s then saturation',
      clients: [1000, 5000, 10000],
      channels: 1,
      kinds: wsKinds,
      phases: [fixed(15), saturation(300)],
    },
    sse: {
      type: 'fanout',
      description: 'one channel, N SSE streams, 10 msg/s then saturation',
      clients: [1000, 5000],
      channels: 1,
      kinds: sseKinds,
      phases: [fixed(10), saturation(300)],
    },
    channels: {
      type: 'fanout',
      description: '1,000 channels with 3 WebSocket subscribers each, 1,000 msg/s spread over them',
      clients: [3000],
      channels: 1000,
      kinds: wsKinds,
      phases: [{ name: 'fixed', rate: 1000, count: 15000, idleMs: 3000 }],
    },
    storm: {
      type: 'storm',
      description:
        '5,000 LiveClients, server restarted: recovery time and peak connection attempts/s, jitter on/off',
      clients: 5000,
    },
  },
};
