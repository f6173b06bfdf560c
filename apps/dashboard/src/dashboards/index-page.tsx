import type { DashboardIndex } from '@livedash/dashboard-config';
import { useEffect } from 'react';
import { BrandMark } from '../brand-mark.js';
import { useView, viewHash } from '../model/view-store.js';
import { ConnectionBadge } from '../status/connection-badge.js';

/** Every dashboard the server has, with links (`/d/<name>`, carrying the chart window along). */
export function DashboardIndexPage({ index }: { index: DashboardIndex }) {
  const view = useView();
  const hash = viewHash(view);
  useEffect(() => {
    document.title = 'Dashboards · livedash';
  }, []);
  return (
    <>
      <header className="topbar">
        <div className="brand">
          <BrandMark />
          <div style={{ minWidth: 0 }}>
            <h1>Dashboards</h1>
            <div className="brand-sub">livedash · {location.host}</div>
          </div>
        </div>
        <div className="controls">
          <ConnectionBadge />
        </div>
      </header>
      <main className="index" aria-label="Dashboards">
        <ul className="index-list" data-testid="dashboard-index">
          {index.dashboards.map((dashboard) => (
            <li key={dashboard.name} className="index-card" data-error={dashboard.error ? 'true' : undefined}>
              <a
                href={`${dashboard.path}${hash}`}
                className="index-link"
                data-testid={`open-${dashboard.name}`}
              >
                <span className="index-title">{dashboard.title}</span>
                <span className="index-meta">
                  <code>{dashboard.path}</code> · {dashboard.panels}{' '}
                  {dashboard.panels === 1 ? 'panel' : 'panels'} ·{' '}
                  {dashboard.file ?? (dashboard.name === 'host' ? 'built in' : 'set by --dashboard')}
                </span>
                {dashboard.error && (
                  <span className="index-problem">
                    {dashboard.error.problems.length === 1
                      ? '1 problem'
                      : `${dashboard.error.problems.length} problems`}{' '}
                    in {dashboard.error.file}
                    {dashboard.panels > 0 ? ': showing the last valid version' : ': nothing to show yet'}
                  </span>
                )}
              </a>
            </li>
          ))}
        </ul>
        {index.skipped.length > 0 && (
          <section className="index-skipped" aria-label="Files not served">
            <h2>Files not served</h2>
            <ul>
              {index.skipped.map((file) => (
                <li key={file.file}>
                  <code>{file.file}</code>: {file.reason}
                </li>
              ))}
            </ul>
          </section>
        )}
      </main>
      <footer className="footer">
        {index.dashboards.length} dashboards · list from <a href="/api/dashboards">/api/dashboards</a> · a
        file added to, changed in or removed from the dashboards folder shows here by itself
      </footer>
    </>
  );
}
