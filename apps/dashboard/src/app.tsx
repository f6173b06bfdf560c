import {
  type DashboardConfig,
  type DashboardDocument,
  type DashboardIndex,
  formatAge,
} from '@livedash/dashboard-config';
import { type ReactNode, useEffect, useMemo, useState } from 'react';
import { BrandMark } from './brand-mark.js';
import { ViewControls } from './controls/view-controls.js';
import { DashboardError } from './dashboards/dashboard-error.js';
import { DashboardIndexPage } from './dashboards/index-page.js';
import { useConnection } from './live.js';
import { useNow } from './model/clock.js';
import { routeOf } from './model/route.js';
import { useDashboards } from './model/use-dashboards.js';
import { useView, viewHash, viewStore } from './model/view-store.js';
import { Panel } from './panels/panel.js';
import { type AlertFeed, AlertToasts } from './status/alert-toasts.js';
import { ConnectionBadge } from './status/connection-badge.js';

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

/** The way back to the index, carrying the view (window, pause) along. */
function IndexLink({ index }: { index: DashboardIndex }) {
  const view = useView();
  if (index.dashboards.length < 2) return null;
  return (
    <a className="button" href={`/d/${viewHash(view)}`} data-testid="index-link">
      All dashboards
    </a>
  );
}

function Dashboard({
  config,
  document,
  index,
}: {
  config: DashboardConfig;
  document: DashboardDocument;
  index: DashboardIndex;
}) {
  // One feed per channel and rate (two alerts panels on one channel at one rate toast once).
  const alertFeeds = useMemo(() => {
    const feeds = new Map<string, AlertFeed>();
    for (const panel of config.panels) {
      if (panel.type !== 'alerts') continue;
      feeds.set(`${panel.channel}|${panel.maxRate}`, { channel: panel.channel, maxRate: panel.maxRate });
    }
    return [...feeds.values()];
  }, [config]);
  useEffect(() => {
    window.document.title = `${config.title} · livedash`;
  }, [config.title]);
  const source = document.file ? document.file : `${document.name} (built in)`;
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
          <IndexLink index={index} />
          <ViewControls />
          <ConnectionBadge />
        </div>
      </header>
      {document.error && <DashboardError error={document.error} showing="last-valid" />}
      <Banner />
      <main className="grid" aria-label={`${config.title} panels`} data-dashboard={document.name}>
        {config.panels.map((panel) => (
          <Panel key={panel.id} panel={panel} />
        ))}
      </main>
      <AlertToasts feeds={alertFeeds} />
      <footer className="footer">
        {config.panels.length} {config.panels.length === 1 ? 'panel' : 'panels'} · from {source} ·{' '}
        <a href={`/api/dashboards/${encodeURIComponent(document.name)}`}>config</a> · publish with{' '}
        <code>POST /api/channels/:channel</code>
      </footer>
    </>
  );
}

/** A page with only a message: loading, a failed load, no such dashboard, a file never valid. */
function MessagePage({ role, children }: { role: 'status' | 'alert'; children: ReactNode }) {
  return (
    <div className="loading" role={role}>
      <div className="message-page">{children}</div>
    </div>
  );
}

export function App() {
  const route = useMemo(() => routeOf(location.pathname), []);
  const [attempt, setAttempt] = useState(0);
  const state = useDashboards(route, attempt);
  if (state.status === 'loading') return <MessagePage role="status">Loading dashboard…</MessagePage>;
  if (state.status === 'error') {
    return (
      <MessagePage role="alert">
        <p>{state.message}</p>
        <button type="button" className="button" onClick={() => setAttempt((n) => n + 1)}>
          Try again
        </button>
      </MessagePage>
    );
  }
  const { index, name, document } = state;
  if (name === undefined || document === undefined) return <DashboardIndexPage index={index} />;
  if (document === null) {
    return (
      <MessagePage role="alert">
        <p>
          There is no dashboard named <code>{name}</code>.
        </p>
        <a className="button" href={`/d/${viewHash(viewStore.getSnapshot())}`}>
          See all dashboards
        </a>
      </MessagePage>
    );
  }
  if (document.config === null) {
    return (
      <MessagePage role="alert">
        {document.error && <DashboardError error={document.error} showing="nothing" />}
        <a className="button" href={`/d/${viewHash(viewStore.getSnapshot())}`}>
          See all dashboards
        </a>
      </MessagePage>
    );
  }
  return <Dashboard config={document.config} document={document} index={index} />;
}
