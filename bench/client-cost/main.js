// The page bench/client-cost.mjs measures, one way of receiving channel `cost` per load:
// - `?mode=subscribe`: `client.subscribe(channel, listener)` — parse, position checks, dispatch;
// - `?mode=channel`: `client.channel(channel)`, the store the React hooks read — the same plus one
//   snapshot per animation frame;
// - `?mode=raw`: a bare WebSocket and JSON.parse, the least any client can do with the same messages.
// `&client=baseline` uses the LiveClient of the baseline git ref (the same one unless --baseline).
import { LiveClient } from '@livedash/client';
import { LiveClient as BaselineLiveClient } from '@livedash/client-baseline';

const query = new URLSearchParams(location.search);
const mode = query.get('mode') ?? 'subscribe';
const Client = query.get('client') === 'baseline' ? BaselineLiveClient : LiveClient;
const channel = 'cost';
window.__received = 0;
window.__last = undefined;

if (mode === 'subscribe') {
  const client = new Client({ url: location.origin, transports: ['ws'] });
  client.subscribe(channel, (data) => {
    window.__received++;
    window.__last = data;
  });
} else if (mode === 'channel') {
  const client = new Client({ url: location.origin, transports: ['ws'] });
  const store = client.channel(channel);
  store.subscribe(() => {
    const snapshot = store.getSnapshot();
    // Messages between two frames become one snapshot; seq counts every one of them.
    window.__received = snapshot.seq;
    window.__last = snapshot.data;
  });
} else {
  const socket = new WebSocket(`${location.origin.replace(/^http/, 'ws')}/ws`);
  socket.onopen = () => socket.send(JSON.stringify({ action: 'subscribe', channels: [channel] }));
  socket.onmessage = (event) => {
    const frame = JSON.parse(event.data);
    if (frame.type !== channel) return;
    window.__received++;
    window.__last = frame.data;
  };
}
