import { describe, expect, it } from 'vitest';
import { validateDashboardConfig } from '../src/validate.js';

function errorOf(json: unknown): string {
  const result = validateDashboardConfig(json);
  if (result.ok) throw new Error('expected the config to be rejected');
  return result.error;
}

describe('validateDashboardConfig', () => {
  it('fills every default for a minimal panel', () => {
    const result = validateDashboardConfig({
      panels: [{ type: 'gauge', channel: 'sensors', field: 'temp' }],
    });
    expect(result).toEqual({
      ok: true,
      value: {
        title: 'livedash',
        panels: [
          {
            id: 'panel-0',
            type: 'gauge',
            title: 'temp',
            channel: 'sensors',
            field: 'temp',
            width: 1,
            unit: '',
            decimals: 1,
            maxRate: 10,
            min: 0,
            max: 100,
            thresholds: [],
          },
        ],
      },
    });
  });

  it('accepts every panel type and turns a timeseries field into one series', () => {
    const result = validateDashboardConfig({
      title: 'Service',
      panels: [
        { type: 'timeseries', channel: 'svc', field: 'latency.p99', title: 'p99', unit: 'ms' },
        {
          type: 'timeseries',
          channel: 'svc',
          series: [
            { field: 'rps', color: '#ff8800' },
            { field: 'errors', label: 'Errors' },
          ],
        },
        { type: 'stat', channel: 'svc', field: 'rps', thresholds: [{ value: 10, color: 'ok' }] },
        {
          type: 'table',
          channel: 'svc',
          field: 'routes',
          columns: [{ field: 'path' }, { field: 'share', bar: true }],
        },
        { type: 'log', channel: 'svc.log', limit: 20 },
        { type: 'alerts' },
      ],
    });
    if (!result.ok) throw new Error(result.error);
    const [single, multi, , table, log, alerts] = result.value.panels;
    expect(single).toMatchObject({
      series: [{ field: 'latency.p99', label: 'p99', color: undefined }],
      width: 2,
    });
    expect(multi).toMatchObject({
      series: [
        { field: 'rps', label: 'rps', color: '#ff8800' },
        { field: 'errors', label: 'Errors' },
      ],
    });
    expect(table).toMatchObject({
      columns: [
        { field: 'path', bar: false },
        { field: 'share', bar: true, decimals: 1 },
      ],
    });
    expect(log).toMatchObject({ field: '', limit: 20 });
    expect(alerts).toMatchObject({ channel: 'alerts', limit: 50 });
  });

  it('names the path and the allowed values of a wrong panel type', () => {
    const error = errorOf({
      panels: [{ type: 'gauge', channel: 'a', field: 'x' }, {}, { type: 'pie', channel: 'a' }],
    });
    expect(error).toContain(
      'panels[1].type: expected one of gauge, timeseries, stat, table, log, alerts, got undefined',
    );
    expect(error).toContain(
      'panels[2].type: expected one of gauge, timeseries, stat, table, log, alerts, got "pie"',
    );
  });

  it('reports every problem, one per line, with its path', () => {
    const error = errorOf({
      title: 3,
      extra: true,
      panels: [
        { type: 'gauge', channel: 'bad channel', field: 'cpu', min: 10, max: 5, colour: 'red' },
        { type: 'stat', channel: 'm', field: 'a..b', decimals: 9 },
        { type: 'timeseries', channel: 'm', field: 'x', series: [{ field: 'y' }] },
        {
          type: 'gauge',
          channel: 'm',
          field: 'x',
          thresholds: [
            { value: 50, color: 'red' },
            { value: 40, color: 'ok' },
          ],
        },
        { type: 'log', channel: 'm', limit: 0, width: 5 },
      ],
    });
    const lines = error.split('\n');
    expect(lines).toEqual(
      expect.arrayContaining([
        '(root).extra: unknown key (allowed: $schema, title, panels)',
        '(root).title: expected a string of at most 200 characters, got 3',
        'panels[0].colour: unknown key (allowed: id, type, title, channel, width, unit, decimals, maxRate, field, min, max, thresholds)',
        'panels[0].channel: expected a channel name (letters, digits, _ . : -, up to 128), got "bad channel"',
        'panels[0].max: must be above min (10), got 5',
        'panels[1].decimals: expected an integer from 0 to 6, got 9',
        'panels[1].field: expected a field path of dot-separated names or indexes (like "disk.0.usePercent"), got "a..b"',
        'panels[2]: give either "field" (one line) or "series" (several), not both',
        'panels[3].thresholds[0].color: expected one of ok, info, warning, critical, neutral or a hex colour like "#1f77b4", got "red"',
        'panels[3].thresholds[1].value: thresholds must ascend: 40 is not above 50',
        'panels[4].width: expected an integer from 1 to 4, got 5',
        'panels[4].limit: expected an integer from 1 to 1000, got 0',
      ]),
    );
    expect(lines).toHaveLength(12);
  });

  it('rejects a missing field, duplicate ids, a non-object root and too many panels', () => {
    expect(errorOf({ panels: [{ type: 'gauge', channel: 'm' }] })).toContain('panels[0].field: required');
    expect(
      errorOf({
        panels: [
          { id: 'a', type: 'alerts' },
          { id: 'a', type: 'alerts' },
        ],
      }),
    ).toBe('panels[1].id: duplicate id "a"');
    expect(errorOf([])).toBe('(root): expected an object {title, panels}, got an array');
    expect(errorOf({ panels: Array.from({ length: 101 }, () => ({ type: 'alerts' })) })).toBe(
      'panels: expected an array of at most 100 panels, got an array',
    );
  });

  describe('maxRate', () => {
    const panels = [
      { type: 'gauge', channel: 'm', field: 'x' },
      { type: 'stat', channel: 'm', field: 'x' },
      { type: 'table', channel: 'm' },
      { type: 'timeseries', channel: 'm', field: 'x' },
      { type: 'log', channel: 'm' },
      { type: 'alerts' },
    ];

    it('defaults by panel type: numbers and charts 10 a second, logs and alert feeds every message', () => {
      const result = validateDashboardConfig({ panels });
      if (!result.ok) throw new Error(result.error);
      expect(result.value.panels.map((panel) => [panel.type, panel.maxRate])).toEqual([
        ['gauge', 10],
        ['stat', 10],
        ['table', 10],
        ['timeseries', 10],
        ['log', null],
        ['alerts', null],
      ]);
    });

    it('takes a rate from 0.1 to 100 on any panel, and null for every message', () => {
      const result = validateDashboardConfig({
        panels: panels.map((panel, index) => ({ ...panel, maxRate: [0.1, 100, 2.5, null, 5, 1][index] })),
      });
      if (!result.ok) throw new Error(result.error);
      expect(result.value.panels.map((panel) => panel.maxRate)).toEqual([0.1, 100, 2.5, null, 5, 1]);
    });

    it('refuses anything else, naming the panel, the range and null', () => {
      const bad = [0, -1, 0.05, 101, '5', true, [], {}];
      const error = errorOf({
        panels: bad.map((maxRate, index) => ({
          type: 'stat',
          id: `s${index}`,
          channel: 'm',
          field: 'x',
          maxRate,
        })),
      });
      expect(error.split('\n')).toEqual([
        'panels[0].maxRate: expected a number of messages per second from 0.1 to 100, or null for every message, got 0',
        'panels[1].maxRate: expected a number of messages per second from 0.1 to 100, or null for every message, got -1',
        'panels[2].maxRate: expected a number of messages per second from 0.1 to 100, or null for every message, got 0.05',
        'panels[3].maxRate: expected a number of messages per second from 0.1 to 100, or null for every message, got 101',
        'panels[4].maxRate: expected a number of messages per second from 0.1 to 100, or null for every message, got "5"',
        'panels[5].maxRate: expected a number of messages per second from 0.1 to 100, or null for every message, got true',
        'panels[6].maxRate: expected a number of messages per second from 0.1 to 100, or null for every message, got an array',
        'panels[7].maxRate: expected a number of messages per second from 0.1 to 100, or null for every message, got an object',
      ]);
    });
  });
});
