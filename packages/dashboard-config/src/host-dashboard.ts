import type { DashboardConfig } from './types.js';
import { validateDashboardConfig } from './validate.js';

const hostDashboard = {
  title: 'This machine',
  panels: [
    {
      id: 'cpu',
      type: 'gauge',
      title: 'CPU',
      channel: 'metrics',
      field: 'cpu',
      unit: '%',
      decimals: 1,
      thresholds: [
        { value: 70, color: 'warning' },
        { value: 90, color: 'critical' },
      ],
    },
    {
      id: 'memory',
      type: 'gauge',
      title: 'Memory',
      channel: 'metrics',
      field: 'memory',
      unit: '%',
      decimals: 1,
      thresholds: [
        { value: 75, color: 'warning' },
        { value: 90, color: 'critical' },
      ],
    },
    { id: 'load-now', type: 'stat', title: 'Load (1 min)', channel: 'metrics', field: 'load.0', decimals: 2 },
    {
      id: 'rx-now',
      type: 'stat',
      title: 'Network in',
      channel: 'metrics',
      field: 'network.rxBytesPerSec',
      unit: 'B/s',
    },
    {
      id: 'cpu-chart',
      type: 'timeseries',
      title: 'CPU',
      channel: 'metrics',
      unit: '%',
      min: 0,
      max: 100,
      series: [{ field: 'cpu', label: 'CPU' }],
      thresholds: [{ value: 90, color: 'critical' }],
    },
    {
      id: 'memory-chart',
      type: 'timeseries',
      title: 'Memory',
      channel: 'metrics',
      unit: '%',
      min: 0,
      max: 100,
      series: [{ field: 'memory', label: 'Memory' }],
      thresholds: [{ value: 90, color: 'critical' }],
    },
    {
      id: 'load-chart',
      type: 'timeseries',
      title: 'Load average',
      channel: 'metrics',
      decimals: 2,
      series: [
        { field: 'load.0', label: '1 min' },
        { field: 'load.1', label: '5 min' },
        { field: 'load.2', label: '15 min' },
      ],
    },
    {
      id: 'network-chart',
      type: 'timeseries',
      title: 'Network',
      channel: 'metrics',
      unit: 'B/s',
      series: [
        { field: 'network.rxBytesPerSec', label: 'rx' },
        { field: 'network.txBytesPerSec', label: 'tx' },
      ],
    },
    {
      id: 'disk',
      type: 'table',
      title: 'Disk usage',
      channel: 'metrics',
      field: 'disk',
      columns: [
        { field: 'mount', label: 'Mount' },
        { field: 'used', label: 'Used', unit: 'B' },
        { field: 'size', label: 'Size', unit: 'B' },
        {
          field: 'usePercent',
          label: 'Use',
          unit: '%',
          bar: true,
          thresholds: [
            { value: 80, color: 'warning' },
            { value: 95, color: 'critical' },
          ],
        },
      ],
    },
    { id: 'alerts', type: 'alerts', title: 'Alerts', channel: 'alerts' },
  ],
};

function builtIn(json: unknown): DashboardConfig {
  const result = validateDashboardConfig(json);
  // The built-in config is code: if it does not validate, that is a bug to catch at startup, not at runtime.
  if (!result.ok) throw new Error(`built-in dashboard config is invalid:\n${result.error}`);
  return result.value;
}

/** The built-in host dashboard: CPU and memory gauges, charts for CPU, memory, load and network, disks, alerts. */
export const defaultDashboard: DashboardConfig = builtIn(hostDashboard);
