import { expect, it } from 'vitest';
import { defaultDashboard } from '../src/host-dashboard.js';
import { validateDashboardConfig } from '../src/validate.js';

it('ships a default host dashboard with gauges, charts, disks and alerts', () => {
  const types = defaultDashboard.panels.map((panel) => `${panel.type}:${panel.id}`);
  expect(types).toEqual(
    expect.arrayContaining([
      'gauge:cpu',
      'gauge:memory',
      'timeseries:cpu-chart',
      'timeseries:memory-chart',
      'timeseries:load-chart',
      'timeseries:network-chart',
      'table:disk',
      'alerts:alerts',
    ]),
  );
  // The default is served as JSON: it must survive a round trip through the validator unchanged.
  expect(validateDashboardConfig(JSON.parse(JSON.stringify(defaultDashboard)))).toEqual({
    ok: true,
    value: JSON.parse(JSON.stringify(defaultDashboard)),
  });
});
