import type { Panel as PanelConfig } from '@livedash/dashboard-config';
import { AlertsPanel } from './alerts-panel.js';
import { GaugePanel } from './gauge-panel.js';
import { LogPanel } from './log-panel.js';
import { StatPanel } from './stat-panel.js';
import { TablePanel } from './table-panel.js';
import { TimeseriesPanel } from './timeseries-panel.js';

/** One panel of the config, by its type. */
export function Panel({ panel }: { panel: PanelConfig }) {
  switch (panel.type) {
    case 'gauge':
      return <GaugePanel panel={panel} />;
    case 'stat':
      return <StatPanel panel={panel} />;
    case 'timeseries':
      return <TimeseriesPanel panel={panel} />;
    case 'table':
      return <TablePanel panel={panel} />;
    case 'log':
      return <LogPanel panel={panel} />;
    case 'alerts':
      return <AlertsPanel panel={panel} />;
  }
}
