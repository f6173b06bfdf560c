import { formatClock, formatValue, type LogPanel as LogConfig, readField } from '@livedash/dashboard-config';
import { useChannelSnapshot, useHistory, useInView } from '../live.js';
import { PanelFrame } from './panel-frame.js';

const TEXT = { unit: '', decimals: 2 };

/** The channel's recent messages as lines of text, newest first. */
export function LogPanel({ panel }: { panel: LogConfig }) {
  const [frame, inView] = useInView<HTMLElement>();
  const snapshot = useChannelSnapshot(panel.channel, panel.maxRate, inView);
  const entries = useHistory(panel.channel, panel.limit, panel.maxRate, inView);
  return (
    <PanelFrame
      frameRef={frame}
      panel={panel}
      status={snapshot}
      meta={entries.length > 0 ? `${entries.length} ${entries.length === 1 ? 'line' : 'lines'}` : undefined}
    >
      {entries.length === 0 ? (
        <p className="empty">No messages on {panel.channel} yet</p>
      ) : (
        <ol className="feed" data-testid={`log-${panel.id}`} aria-label={`${panel.title}, newest first`}>
          {[...entries].reverse().map((entry) => (
            <li key={`${entry.epoch}:${entry.seq}`}>
              <time dateTime={new Date(entry.ts).toISOString()}>{formatClock(entry.ts)}</time>
              <span className="line">{formatValue(readField(entry.data, panel.field), TEXT)}</span>
            </li>
          ))}
        </ol>
      )}
    </PanelFrame>
  );
}
