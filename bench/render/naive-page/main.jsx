// The render benchmark's baseline: the same panels as the livedash dashboard, built the real-time dashboards guide's way —
// every message goes through `setState`, so every message re-renders its panels, and each chart
// copies its arrays and calls uPlot's setData on every render. One shared socket (the guide opens one
// per hook, which would only make it slower) so the comparison is about rendering alone.

import { useEffect, useRef, useState } from 'react';
import { createRoot } from 'react-dom/client';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

const params = new URLSearchParams(location.search);
const server = params.get('server');
const channels = (params.get('channels') ?? '').split(',').filter(Boolean);
const panelKinds = (params.get('panels') ?? 'chart,gauge,stat').split(',');
const POINTS = 1000;

// The guide's DashboardWebSocket, reduced to what the page uses (connect, subscribe, on).
class DashboardWebSocket {
  listeners = new Map();
  connect(url) {
    this.ws = new WebSocket(url);
    this.ws.onopen = () => this.ws.send(JSON.stringify({ action: 'subscribe', channels }));
    this.ws.onmessage = (event) => {
      const { type, data, ts } = JSON.parse(event.data);
      window.__received = (window.__received ?? 0) + 1;
      for (const callback of this.listeners.get(type) ?? []) callback(data, ts);
    };
  }
  on(event, callback) {
    if (!this.listeners.has(event)) this.listeners.set(event, new Set());
    this.listeners.get(event).add(callback);
  }
}

const socket = new DashboardWebSocket();
socket.connect(`${server.replace(/^http/, 'ws')}/ws`);

// The guide's useRealTimeData: setState on every message.
function useRealTimeData(channel, initial) {
  const [data, setData] = useState(initial);
  useEffect(() => socket.on(channel, (next) => setData((previous) => ({ ...previous, ...next }))), [channel]);
  return data;
}

// The guide's way to chart: keep the series in state, append per message.
function useSeries(channel) {
  const [series, setSeries] = useState({ xs: [], v: [], w: [] });
  useEffect(
    () =>
      socket.on(channel, (data, ts) =>
        setSeries((previous) => ({
          xs: [...previous.xs.slice(-(POINTS - 1)), ts / 1000],
          v: [...previous.v.slice(-(POINTS - 1)), data.v],
          w: [...previous.w.slice(-(POINTS - 1)), data.w],
        })),
      ),
    [channel],
  );
  return series;
}

function Chart({ channel }) {
  const series = useSeries(channel);
  const element = useRef(null);
  const plot = useRef(null);
  useEffect(() => {
    // Sized like the livedash chart panels (two grid columns, 200 px high), so both draw the same pixels.
    plot.current = new uPlot(
      {
        width: element.current.clientWidth,
        height: 200,
        legend: { show: false },
        series: [{}, { stroke: '#2f6fdf' }, { stroke: '#0f9f8f' }],
        scales: { x: { time: true } },
      },
      [[], [], []],
      element.current,
    );
    return () => plot.current.destroy();
  }, []);
  useEffect(() => plot.current?.setData([series.xs, series.v, series.w]));
  return (
    <section className="panel" style={{ gridColumn: 'span 2' }}>
      <h2>{channel}</h2>
      <div ref={element} />
    </section>
  );
}

function Gauge({ channel }) {
  const { v } = useRealTimeData(channel, { v: 0 });
  const fraction = Math.max(0, Math.min(1, v / 100));
  return (
    <section className="panel">
      <h2>{channel} gauge</h2>
      <svg viewBox="0 0 200 120" width="200" aria-hidden="true">
        <path d="M 20 100 A 80 80 0 0 1 180 100" stroke="#e9edf3" strokeWidth="14" fill="none" />
        <path
          d="M 20 100 A 80 80 0 0 1 180 100"
          pathLength="100"
          strokeDasharray={`${fraction * 100} 200`}
          stroke="#2f6fdf"
          strokeWidth="14"
          fill="none"
        />
        <text x="100" y="95" textAnchor="middle" fontSize="28">
          {v.toFixed(1)}
        </text>
      </svg>
    </section>
  );
}

function Stat({ channel }) {
  const { w } = useRealTimeData(channel, { w: 0 });
  return (
    <section className="panel">
      <h2>{channel} stat</h2>
      <output style={{ fontSize: 36 }}>{w.toFixed(0)}</output>
    </section>
  );
}

function NaiveDashboard() {
  return (
    <main
      style={{
        display: 'grid',
        gridTemplateColumns: 'repeat(4, minmax(0, 1fr))',
        gap: 16,
        padding: 24,
        fontFamily: 'system-ui',
      }}
    >
      {channels.map((channel) => [
        panelKinds.includes('chart') && <Chart key={`${channel}-chart`} channel={channel} />,
        panelKinds.includes('gauge') && <Gauge key={`${channel}-gauge`} channel={channel} />,
        panelKinds.includes('stat') && <Stat key={`${channel}-stat`} channel={channel} />,
      ])}
    </main>
  );
}

createRoot(document.getElementById('root')).render(<NaiveDashboard />);
