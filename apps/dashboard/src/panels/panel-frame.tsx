import { formatAge, type Panel } from '@livedash/dashboard-config';
import type { ReactNode, Ref } from 'react';
import { useNow } from '../model/clock.js';

export interface PanelStatus {
  /** The data shown may be out of date (connection lost or recovering). */
  stale: boolean;
  /** Publish time of the newest data shown, ms; 0 before any. */
  ts: number;
}

/**
 * The card every panel sits in: its title, and — when the data may be out of date — a visible
 * "last update N s ago" tag, with the body dimmed, so nobody mistakes an old value for a live one.
 */
export function PanelFrame({
  panel,
  status,
  meta,
  level,
  frameRef,
  children,
}: {
  panel: Panel;
  status: PanelStatus;
  meta?: ReactNode;
  /** A threshold band name (`warning`, `critical`…): colours `meta`. */
  level?: string | undefined;
  /** The card's element, for panels that watch whether they are in view. */
  frameRef?: Ref<HTMLElement>;
  children: ReactNode;
}) {
  const now = useNow(status.stale);
  const titleId = `${panel.id}-title`;
  return (
    <section
      ref={frameRef}
      className="panel"
      data-panel={panel.type}
      data-width={panel.width}
      data-stale={status.stale}
      aria-labelledby={titleId}
    >
      <header className="panel-head">
        <h2 className="panel-title" id={titleId}>
          {panel.title}
        </h2>
        {status.stale ? (
          <span className="stale-tag" data-testid="stale">
            {status.ts > 0 ? `stale · last update ${formatAge(now - status.ts)} ago` : 'stale · no data yet'}
          </span>
        ) : (
          meta && (
            <span className="panel-meta" data-level={level}>
              {meta}
            </span>
          )
        )}
      </header>
      <div className="panel-body">{children}</div>
    </section>
  );
}
