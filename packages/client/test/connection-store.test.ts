import { expect, test } from 'vitest';
import { useLiveServer } from './helpers/live.js';
import { until } from './helpers/wait.js';

const live = useLiveServer();
const client = live.client;

test('connection store: same snapshot until something changes', async () => {
  const c = client();
  const first = c.connection.getSnapshot();
  expect(c.connection.getSnapshot()).toBe(first);
  let notified = 0;
  const off = c.connection.subscribe(() => notified++);
  await until(() => c.connection.getSnapshot().status === 'open');
  expect(notified).toBeGreaterThan(0);
  const open = c.connection.getSnapshot();
  expect(c.connection.getSnapshot()).toBe(open);
  expect(Object.isFrozen(open)).toBe(true);
  off();
});
