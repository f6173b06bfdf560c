// The page bench/client-cost.mjs measures: `?mode=liveclient` receives a channel through LiveClient
// (parse, position checks, dispatch to a subscriber); `?mode=raw` through a bare WebSocket and
// JSON.parse — the least any client can do with the same messages.
import { LiveClient } from '@livedash/client';

const mode = new URLSearchParams(location.search).get('mode') ?? 'liveclient';
const channel = 'cost';
window.__received = 0;
window.__last = undefined;

if (mode === 'liveclient') {
  const client = new LiveClient({ url: location.origin, transports: ['ws'] });
  client.subscribe(channel, (data) => {
    window.__received++;
    window.__last = data;
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
