/**
 * The `/api/dashboard` contract shared by the livedash app (which validates and serves a dashboard
 * config) and the dashboard (which renders it): the config's types, its validation with every default
 * filled, the built-in host dashboard, value formatting, and the field-path rule.
 */

export {
  DASHBOARD_NAME_PATTERN,
  DASHBOARDS_CHANNEL,
  type DashboardDocument,
  type DashboardFileError,
  type DashboardIndex,
  type DashboardProblem,
  type DashboardSummary,
  type DashboardsChange,
  describeDashboardError,
  isValidDashboardName,
  RESERVED_DASHBOARD_NAMES,
} from './catalog.js';
export {
  FIELD_PATH_MAX_LENGTH,
  isValidFieldPath,
  readField,
  readNumber,
} from './field-path.js';
export { byteUnitIndex, formatAge, formatClock, formatParts, formatValue, isByteUnit } from './format.js';
export { defaultDashboard } from './host-dashboard.js';
export {
  type AlertsPanel,
  type DashboardConfig,
  DashboardLimits,
  type GaugePanel,
  type LogPanel,
  NAMED_COLORS,
  PANEL_MAX_RATES,
  PANEL_TYPES,
  type Panel,
  type PanelColor,
  type PanelType,
  type Series,
  type StatPanel,
  type TableColumn,
  type TablePanel,
  type Threshold,
  type TimeseriesPanel,
  type ValueFormat,
} from './types.js';
export { validateDashboardConfig } from './validate.js';
