import { type AlertsPanel as AlertsConfig, formatClock } from '@livedash/dashboard-config';
import { useChannelSnapshot, useHistory, useInView } from '../live.js';
import { firingCount, toAlertEvent } from '../model/alert-event.js';
import { PanelFrame } from './panel-frame.js';

/** The alert feed: firing and resolved events with their times, newest first. */
export function AlertsPanel({ panel }: { panel: AlertsConfig }) {
  const [frame, inView] = useInView<HTMLElement>();
  const snapshot = useChannelSnapshot(panel.channel, panel.maxRate, inView);
  const entries = useHistory(panel.channel, panel.limit, panel.maxRate, inView);
  const events = entries.map((entry) => ({
    key: `${entry.epoch}:${entry.seq}`,
    event: toAlertEvent(entry.data, entry.ts),
  }));
  const firing = firingCount(events.map(({ event }) => event));
  return (
    <PanelFrame
      frameRef={frame}
      panel={panel}
      status={snapshot}
      meta={firing > 0 ? `${firing} firing` : events.length > 0 ? 'all clear' : undefined}
    >
      {events.length === 0 ? (
        <div className="feed-empty">
          <svg width="28" height="28" viewBox="0 0 24 24" aria-hidden="true">
            <path
              d="M5 12.5l4.5 4.5L19 7.5"
              fill="none"
              stroke="currentColor"
              strokeWidth="2.4"
              strokeLinecap="round"
              strokeLinejoin="round"
            />
          </svg>
          <span>No alerts. Everything is within its thresholds.</span>
        </div>
      ) : (
        <ol className="feed" data-testid={`alerts-${panel.id}`} aria-label="Alerts, newest first">
          {events.reverse().map(({ key, event }) => (
            <li key={key} className="alert-row">
              <time dateTime={new Date(event.ts).toISOString()}>{formatClock(event.ts)}</time>
              <span>
                <span className="alert-pill" data-state={event.state} data-severity={event.severity}>
                  {event.state}
                </span>{' '}
                <span className="alert-name">{event.rule}</span>
              </span>
              <span className="panel-meta">{event.severity}</span>
              {event.message && <span className="alert-message">{event.message}</span>}
            </li>
          ))}
        </ol>
      )}
    </PanelFrame>
  );
}
