/** An event on an alerts channel, as the server's alert engine publishes it (see docs/configuration.md). */
export interface AlertEvent {
  id: string;
  rule: string;
  state: 'firing' | 'resolved';
  severity: string;
  message: string;
  value?: number;
  threshold?: number;
  ts: number;
  node?: string;
}

/**
 * Reads an alert event from a channel message without trusting it: anything missing becomes a
 * readable default, so a hand-published alert (`livedash publish alerts '{"rule":"x"}'`) still shows.
 */
export function toAlertEvent(data: unknown, fallbackTs: number): AlertEvent {
  const record =
    typeof data === 'object' && data !== null ? (data as Record<string, unknown>) : { message: data };
  const text = (key: string, fallback: string) =>
    typeof record[key] === 'string' ? (record[key] as string) : fallback;
  const number = (key: string) => (typeof record[key] === 'number' ? (record[key] as number) : undefined);
  const rule = text('rule', text('name', 'alert'));
  const event: AlertEvent = {
    id: text('id', `${rule}:${fallbackTs}`),
    rule,
    state: record.state === 'resolved' ? 'resolved' : 'firing',
    severity: text('severity', 'warning'),
    message: text('message', typeof record.message === 'undefined' ? '' : JSON.stringify(record.message)),
    ts: number('ts') ?? fallbackTs,
  };
  const value = number('value');
  const threshold = number('threshold');
  if (value !== undefined) event.value = value;
  if (threshold !== undefined) event.threshold = threshold;
  if (typeof record.node === 'string') event.node = record.node;
  return event;
}

/** Alerts whose latest event is `firing`. */
export function firingCount(events: readonly AlertEvent[]): number {
  const latest = new Map<string, AlertEvent['state']>();
  for (const event of events) latest.set(event.id, event.state);
  let firing = 0;
  for (const state of latest.values()) if (state === 'firing') firing++;
  return firing;
}
