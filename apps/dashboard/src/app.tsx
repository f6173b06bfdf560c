import { type DashboardConfig, formatAge } from '@livedash/dashboard-config';
import { useEffect, useMemo, useState } from 'react';
import { ViewControls } from './controls/view-controls.js';
import { useConnection } from './live.js';
import { useNow } from './model/clock.js';
import { type ConfigState, loadConfig } from './model/load-config.js';
import { useView } from './model/view-store.js';
import { Panel } from './panels/panel.js';
import { AlertToasts } from './status/alert-toasts.js';
import { ConnectionBadge } from './status/connection-badge.js';

function BrandMark() {
  return (
    <span className="brand-mark" aria-hidden="true">
      <svg width="20" height="20" viewBox="0 0 32 32" aria-hidden="true">
        <path
          d="M5 18h5l3-8 4.5 13 3-8H27"
          fill="none"
          stroke="#fff"
          strokeWidth="3"
          strokeLinecap="round"
          strokeLinejoin="round"
        />
      </svg>
    </span>
  );
}

/** Says in words what the dimmed panels mean: the connection is down, or the viewer paused. */
function Banner() {
  const state = useConnection();
  const { paused } = useView();
  const down = state.status !== 'open' && state.lastMessageAt !== undefined;
  const now = useNow(down);
  if (down) {
    return (
      <div className="banner" role="alert" data-testid="banner">
        <strong>Connection lost.</strong> Values are from {formatAge(now - (state.lastMessageAt ?? now))} ago
        and marked stale; charts fill in what was missed once the connection is back.
      </div>
    );
  }
  if (paused) {
    return (
      <div className="banner" data-kind="paused">
        <strong>Paused.</strong> The screen is frozen; data keeps arriving and shows as soon as you resume.
      </div>
    );
  }
  return null;
}

function Dashboard({ config }: { config: DashboardConfig }) {
  const alertChannels = useMemo(
    () => [
      ...new Set(config.panels.filter((panel) => panel.type === 'alerts').map((panel) => panel.channel)),
    ],
    [config],
  );
  useEffect(() => {
    document.title = `${config.title} · livedash`;
  }, [config.title]);
  return (
    <>
      <header className="topbar">
        <div className="brand">
          <BrandMark />
          <div style={{ minWidth: 0 }}>
            <h1>{config.title}</h1>
            <div className="brand-sub">livedash · {location.host}</div>
          </div>
        </div>
        <div className="controls">
          <ViewControls />
          <ConnectionBadge />
        </div>
      </header>
      <Banner />
      <main className="grid" aria-label={`${config.title} panels`}>
        {config.panels.map((panel) => (
          <Panel key={panel.id} panel={panel} />
        ))}
      </main>
      <AlertToasts channels={alertChannels} />
      <footer className="footer">
        {config.panels.length} {config.panels.length === 1 ? 'panel' : 'panels'} · config from{' '}
        <a href="/api/dashboard">/api/dashboard</a> · publish with <code>POST /api/channels/:channel</code>
      </footer>
    </>
  );
}

export function App() {
  const [state, setState] = useState<ConfigState>({ status: 'loading' });
  const [attempt, setAttempt] = useState(0);
  // biome-ignore lint/correctness/useExhaustiveDependencies: a new `attempt` ("Try again") loads the config again.
  useEffect(() => {
    let current = true;
    void loadConfig().then((result) => current && setState(result));
    return () => {
      current = false;
    };
  }, [attempt]);
  if (state.status === 'ready') return <Dashboard config={state.config} />;
  return (
    <div className="loading" role={state.status === 'error' ? 'alert' : 'status'}>
      {state.status === 'loading' ? (
        'Loading dashboard…'
      ) : (
        <div style={{ textAlign: 'center' }}>
          <p>{state.message}</p>
          <button type="button" className="button" onClick={() => setAttempt((n) => n + 1)}>
            Try again
          </button>
        </div>
      )}
    </div>
  );
}
