// How the load generator opens one subscriber for each kind of server. Every kind ends up calling
// `onMessage(buffer | string)` for each message and resolves `ready` once the server has subscribed it.
import { request } from 'node:http';
import WebSocket from 'ws';

const wsOptions = { perMessageDeflate: false, handshakeTimeout: 30_000 };

function openWebSocket(url, onMessage, { onText, firstMessage } = {}) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, wsOptions);
    let ready = false;
    const done = () => {
      if (ready) return;
      ready = true;
      resolve({ close: () => ws.terminate() });
    };
    ws.on('error', (error) => (ready ? undefined : reject(error)));
    ws.on('open', () => {
      if (firstMessage) ws.send(firstMessage);
      if (!onText) done();
    });
    ws.on('message', (data) => {
      if (onText?.(data, ws, done)) return;
      onMessage(data);
    });
  });
}

export const subscriberKinds = {
  /** livedash over WebSocket: subscribe (at `maxRate` when given), ready on `$subscribed`. */
  livedash: (base, channel, onMessage, { maxRate } = {}) =>
    openWebSocket(`ws://${base}/ws`, onMessage, {
      firstMessage: JSON.stringify({
        action: 'subscribe',
        channels: [channel],
        ...(maxRate === undefined ? {} : { maxRate }),
      }),
      onText: (data, _ws, done) => {
        if (data[2] === 0x74 && data[9] === 0x24) {
          // {"type":"$…": a control frame.
          if (data.includes('"$subscribed"')) done();
          return true;
        }
        return false;
      },
    }),
  /** Socket.IO speaking Engine.IO v4 directly: open `0`, connect `40`, pings `2` answered with `3`. */
  socketio: (base, channel, onMessage) =>
    openWebSocket(`ws://${base}/socket.io/?EIO=4&transport=websocket&ch=${channel}`, onMessage, {
      onText: (data, ws, done) => {
        const first = data[0];
        if (first === 0x34 && data[1] === 0x32) return false; // 42: an event
        if (first === 0x30) ws.send('40');
        else if (first === 0x34 && data[1] === 0x30) done();
        else if (first === 0x32) ws.send('3');
        return true;
      },
    }),
  ws: (base, channel, onMessage) => openWebSocket(`ws://${base}/?ch=${channel}`, onMessage),
  raw: (base, channel, onMessage) => openWebSocket(`ws://${base}/?ch=${channel}`, onMessage),
  'livedash-sse': (base, channel, onMessage) =>
    openSse(base, `/sse?channels=${channel}`, onMessage, '$subscribed'),
  'sse-raw': (base, channel, onMessage) => openSse(base, `/sse?channels=${channel}`, onMessage, null),
};

/** A minimal EventSource: splits the stream on blank lines and hands each `data:` payload on. */
function openSse(base, path, onMessage, readyMarker) {
  const [host, port] = base.split(':');
  return new Promise((resolve, reject) => {
    const req = request({
      host,
      port: Number(port),
      path,
      headers: { accept: 'text/event-stream' },
      agent: false,
    });
    let ready = false;
    const done = () => {
      if (ready) return;
      ready = true;
      resolve({ close: () => req.destroy() });
    };
    req.on('error', (error) => (ready ? undefined : reject(error)));
    req.on('response', (response) => {
      if (response.statusCode !== 200) {
        reject(new Error(`SSE ${path}: HTTP ${response.statusCode}`));
        response.resume();
        return;
      }
      response.setEncoding('utf8');
      let buffered = '';
      if (!readyMarker) done();
      response.on('data', (chunk) => {
        buffered += chunk;
        let end = buffered.indexOf('\n\n');
        while (end !== -1) {
          const event = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          for (const line of event.split('\n')) {
            if (!line.startsWith('data:')) continue;
            const payload = line.slice(line[5] === ' ' ? 6 : 5);
            if (readyMarker && payload.includes(readyMarker)) done();
            else onMessage(payload);
          }
          end = buffered.indexOf('\n\n');
        }
      });
      response.on('error', () => {});
    });
    req.end();
  });
}
