import type { ConnectionSnapshot, TransportName } from '@livedash/client';
import { formatAge } from '@livedash/dashboard-config';
import { useEffect } from 'react';
import { useClient, useConnection } from '../live.js';
import { useNow } from '../model/clock.js';

const TRANSPORTS: Record<TransportName, string> = { ws: 'WebSocket', sse: 'SSE', poll: 'HTTP polling' };
const PING_EVERY_MS = 10_000;

function headline(state: ConnectionSnapshot, now: number): string {
  switch (state.status) {
    case 'open':
      return 'Live';
    case 'idle':
    case 'connecting':
      return state.attempt > 1 ? `Reconnecting… (attempt ${state.attempt})` : 'Connecting…';
    case 'reconnecting': {
      const seconds =
        state.nextRetryAt === null ? 0 : Math.max(0, Math.ceil((state.nextRetryAt - now) / 1000));
      return seconds > 0 ? `Reconnecting in ${seconds} s` : 'Reconnecting…';
    }
    case 'offline':
      return 'Offline';
    case 'failed':
      return 'Disconnected';
    case 'closed':
      return 'Closed';
    default:
      return state.status satisfies never;
  }
}

/** Where the connection runs, in words (the badge's tooltip). */
const MODES = {
  'shared-worker': 'connection shared by every tab (SharedWorker)',
  worker: 'connection in a worker',
  'in-page': 'connection in this page',
} as const;

function details(state: ConnectionSnapshot, now: number): string[] {
  const parts: string[] = [];
  if (state.transport !== null) parts.push(TRANSPORTS[state.transport]);
  if (state.status === 'open' && state.rtt !== undefined) parts.push(`${Math.round(state.rtt)} ms`);
  if (state.lastMessageAt !== undefined)
    parts.push(`last message ${formatAge(now - state.lastMessageAt)} ago`);
  if (state.status === 'reconnecting' && state.attempt > 0) parts.push(`attempt ${state.attempt + 1}`);
  if (state.status === 'offline') parts.push('waiting for the network');
  return parts;
}

/**
 * The honest status: transport in use, state, round-trip latency and how old the last message is;
 * while reconnecting, the countdown to the next attempt. Its headline is announced to screen readers
 * when it changes (the ticking details are not, or they would talk every second).
 */
export function ConnectionBadge() {
  const client = useClient();
  const state = useConnection();
  const now = useNow();
  useEffect(() => {
    if (state.status !== 'open') return;
    const measure = () => void client.ping().catch(() => undefined);
    measure();
    const timer = setInterval(measure, PING_EVERY_MS);
    return () => clearInterval(timer);
  }, [client, state.status]);
  const title = headline(state, now);
  const error = state.status !== 'open' && state.lastError ? state.lastError.message : undefined;
  return (
    <div
      className="badge"
      data-status={state.status}
      data-mode={state.mode ?? 'in-page'}
      data-testid="connection-badge"
      title={[error, MODES[state.mode ?? 'in-page']].filter(Boolean).join(' · ')}
    >
      <span className="badge-dot" aria-hidden="true" />
      <span className="badge-state">{title}</span>
      {details(state, now).map((part) => (
        <span key={part.split(' ')[0]} className="badge-detail num">
          <span className="badge-sep" aria-hidden="true">
            ·{' '}
          </span>
          {part}
        </span>
      ))}
      {state.status === 'failed' && (
        <button type="button" className="button" onClick={() => client.reconnect()}>
          Retry
        </button>
      )}
      <span className="visually-hidden" role="status">
        {state.status === 'reconnecting' ? 'Connection lost, reconnecting' : title}
      </span>
    </div>
  );
}
