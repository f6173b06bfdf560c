/**
 * The page served at `/` when no dashboard build is configured: live CPU and memory from `/ws`, in
 * plain HTML and a few lines of script, so a fresh `npm start` shows something live before (or
 * without) the dashboard app.
 */
export const BUILTIN_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>livedash</title>
<link rel="icon" href="data:,">
<style>
  body { font: 16px/1.4 system-ui, sans-serif; margin: 2rem; background: #0f1419; color: #e6e6e6; }
  h1 { font-size: 1.4rem; margin: 0 0 1rem; }
  .gauges { display: flex; gap: 2rem; flex-wrap: wrap; }
  .gauge { width: 14rem; padding: 1rem; border-radius: 8px; background: #1b232c; }
  .value { font-size: 2.4rem; font-variant-numeric: tabular-nums; }
  .bar { height: 8px; border-radius: 4px; background: #2c3a47; overflow: hidden; }
  .fill { height: 100%; width: 0; background: #4fb3ff; transition: width .3s; }
  #status { margin-top: 1rem; color: #9aa5b1; font-size: .9rem; }
</style>
</head>
<body>
<h1>livedash</h1>
<div class="gauges">
  <div class="gauge"><div>CPU</div><div class="value" id="cpu">–</div><div class="bar"><div class="fill" id="cpu-bar"></div></div></div>
  <div class="gauge"><div>Memory</div><div class="value" id="memory">–</div><div class="bar"><div class="fill" id="memory-bar"></div></div></div>
</div>
<div id="status">connecting…</div>
<script>
(function () {
  var status = document.getElementById('status');
  var attempt = 0;
  function show(name, value) {
    if (typeof value !== 'number') return;
    document.getElementById(name).textContent = value.toFixed(1) + ' %';
    document.getElementById(name + '-bar').style.width = Math.max(0, Math.min(100, value)) + '%';
  }
  function connect() {
    var ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws');
    ws.onopen = function () {
      attempt = 0;
      status.textContent = 'live';
      ws.send(JSON.stringify({ action: 'subscribe', channels: ['metrics'] }));
    };
    ws.onmessage = function (event) {
      var frame = JSON.parse(event.data);
      if (frame.type === 'metrics' && frame.data) {
        show('cpu', frame.data.cpu);
        show('memory', frame.data.memory);
        status.textContent = 'live · ' + new Date(frame.ts).toLocaleTimeString();
      }
    };
    ws.onclose = function () {
      var delay = Math.min(30000, 500 * Math.pow(2, attempt++)) * (0.5 + Math.random() / 2);
      status.textContent = 'disconnected, retrying in ' + Math.round(delay / 1000) + ' s';
      setTimeout(connect, delay);
    };
  }
  connect();
})();
</script>
</body>
</html>
`;
