import { describe, expect, it } from 'vitest';
import { dashboardFileSchema, dashboardPanelSchemas } from '../schemas/dashboard-schema.js';
import { PANEL_TYPES, validateDashboardConfig } from '../src/index.js';
import { PANEL_KEYS } from '../src/validate.js';

/**
 * The zod description of a dashboard file (from which its JSON Schema is generated) and
 * `validateDashboardConfig` (what the server and the dashboard run) describe one contract.
 */

const stat = { type: 'stat', channel: 'shop', field: 'open' };

describe('the dashboard schema for editors', () => {
  it('takes exactly the keys the validator takes, for every panel type', () => {
    expect(Object.keys(dashboardPanelSchemas).sort()).toEqual([...PANEL_TYPES].sort());
    for (const type of PANEL_TYPES) {
      expect(Object.keys(dashboardPanelSchemas[type].shape).sort(), type).toEqual(
        [...PANEL_KEYS[type]].sort(),
      );
    }
  });

  it('refuses what the validator refuses for its shape and bounds', () => {
    const bad: unknown[] = [
      {},
      { panels: [{ ...stat, extra: 1 }] },
      { panels: [{ ...stat, type: 'pie' }] },
      { panels: [{ ...stat, width: 5 }] },
      { panels: [{ ...stat, decimals: 9 }] },
      { panels: [{ ...stat, channel: 'a b' }] },
      { panels: [{ ...stat, field: 'disk..use' }] },
      { panels: [{ ...stat, title: 't'.repeat(201) }] },
      { panels: [{ ...stat, thresholds: [{ value: 1, color: 'pink' }] }] },
      { panels: [{ type: 'stat', channel: 'shop' }] },
      { panels: [{ type: 'alerts', limit: 0 }] },
      { panels: [{ type: 'timeseries', channel: 'shop', series: [] }] },
      { panels: Array.from({ length: 101 }, (_, index) => ({ ...stat, id: `p${index}` })) },
      { title: 'x', panels: [], other: true },
      { panels: [{ ...stat, maxRate: 0 }] },
      { panels: [{ ...stat, maxRate: 101 }] },
      { panels: [{ ...stat, maxRate: '5' }] },
    ];
    for (const json of bad) {
      expect(validateDashboardConfig(json).ok, JSON.stringify(json).slice(0, 80)).toBe(false);
      expect(dashboardFileSchema.safeParse(json).success, JSON.stringify(json).slice(0, 80)).toBe(false);
    }
  });

  it('accepts what the validator accepts, $schema included', () => {
    const good: unknown[] = [
      { panels: [] },
      { $schema: './dashboard.schema.json', title: 'Shop', panels: [stat] },
      {
        panels: [
          { type: 'alerts' },
          { type: 'log', channel: 'events' },
          { type: 'table', channel: 'beds', field: '' },
        ],
      },
      { panels: [{ type: 'timeseries', channel: 'net', series: [{ field: 'rx', color: '#1f77b4' }] }] },
      {
        panels: [
          { ...stat, field: 'requests[code=200,method=GET]', thresholds: [{ value: 1, color: 'warning' }] },
        ],
      },
      {
        panels: [
          { ...stat, maxRate: 0.1 },
          { type: 'log', channel: 'events', maxRate: null },
        ],
      },
    ];
    for (const json of good) {
      expect(validateDashboardConfig(json).ok, JSON.stringify(json)).toBe(true);
      expect(dashboardFileSchema.safeParse(json).success, JSON.stringify(json)).toBe(true);
    }
  });
});
