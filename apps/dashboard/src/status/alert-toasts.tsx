import { useEffect, useState } from 'react';
import { useClient } from '../live.js';
import { type AlertEvent, toAlertEvent } from '../model/alert-event.js';

const TOAST_MS = 8_000;
const MAX_TOASTS = 3;

/** An alerts panel's channel and the rate it subscribes at (null: every message). */
export interface AlertFeed {
  channel: string;
  maxRate: number | null;
}

/**
 * A toast for every alert that fires while the page is open (not for ones replayed from history on
 * load), dismissed after a few seconds or by its close button; announced politely to screen readers.
 */
export function AlertToasts({ feeds }: { feeds: readonly AlertFeed[] }) {
  const client = useClient();
  const [toasts, setToasts] = useState<AlertEvent[]>([]);

  useEffect(() => {
    const timers = new Set<ReturnType<typeof setTimeout>>();
    const dismissLater = (id: string) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        setToasts((current) => current.filter((toast) => toast.id !== id));
      }, TOAST_MS);
      timers.add(timer);
    };
    // At the panel's rate: an unrated subscription here would lift the channel's rate for the panel too.
    const offs = feeds.map(({ channel, maxRate }) =>
      client.subscribe(
        channel,
        (data, meta) => {
          if (meta.replayed) return;
          const event = toAlertEvent(data, meta.ts);
          if (event.state !== 'firing') {
            setToasts((current) => current.filter((toast) => toast.id !== event.id));
            return;
          }
          setToasts((current) =>
            [event, ...current.filter((toast) => toast.id !== event.id)].slice(0, MAX_TOASTS),
          );
          dismissLater(event.id);
        },
        maxRate === null ? {} : { maxRate },
      ),
    );
    return () => {
      for (const off of offs) off();
      for (const timer of timers) clearTimeout(timer);
    };
  }, [client, feeds]);

  return (
    <div className="toasts" role="status" aria-live="polite">
      {toasts.map((toast) => (
        <div key={toast.id} className="toast" data-severity={toast.severity} data-testid="toast">
          <strong>
            {toast.severity === 'critical' ? 'Critical' : toast.severity === 'info' ? 'Info' : 'Warning'}:{' '}
            {toast.rule}
          </strong>
          <button
            type="button"
            aria-label="Dismiss"
            onClick={() => setToasts((current) => current.filter((t) => t.id !== toast.id))}
          >
            ×
          </button>
          {toast.message && <p>{toast.message}</p>}
        </div>
      ))}
    </div>
  );
}
