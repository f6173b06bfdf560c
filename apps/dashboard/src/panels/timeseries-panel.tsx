import type { TimeseriesPanel as TimeseriesConfig } from '@livedash/dashboard-config';
import { useCallback, useEffect, useRef, useState, useSyncExternalStore } from 'react';
import { readChartTheme, resolveColor } from '../charts/chart-theme.js';
import { TimeSeriesChart } from '../charts/time-series-chart.js';
import { type PanelRate, useChannelStore, useHistoryStore } from '../live.js';
import { viewStore } from '../model/view-store.js';
import { PanelFrame } from './panel-frame.js';

/** Points kept per chart: 15 minutes of a 1 Hz channel, with room to spare. */
export const CHART_POINTS = 1000;

/** Re-renders only when the system theme flips, so charts can re-read their colours. */
function useColorScheme(): 'light' | 'dark' {
  const subscribe = useCallback((onChange: () => void) => {
    const query = matchMedia('(prefers-color-scheme: dark)');
    query.addEventListener('change', onChange);
    return () => query.removeEventListener('change', onChange);
  }, []);
  return useSyncExternalStore(subscribe, () =>
    matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light',
  );
}

/**
 * Staleness only (`ts` while stale, -1 while live): a chart's frame must not re-render on every
 * message, and this value does not change while messages flow.
 */
function useStaleSince(channel: string, maxRate: PanelRate): number {
  // At the chart's rate: a store without it would ask the server for every message of the channel.
  const store = useChannelStore(channel, maxRate);
  return useSyncExternalStore(store.subscribe, () => {
    const snapshot = store.getSnapshot();
    return snapshot.stale ? snapshot.ts : -1;
  });
}

/**
 * A time-series chart. React renders its frame once; the uPlot chart inside is fed from the history
 * store on animation frames (`TimeSeriesChart`), never by re-rendering React per message.
 */
export function TimeseriesPanel({ panel }: { panel: TimeseriesConfig }) {
  const store = useHistoryStore(panel.channel, CHART_POINTS, panel.maxRate);
  const staleSince = useStaleSince(panel.channel, panel.maxRate);
  const scheme = useColorScheme();
  const container = useRef<HTMLDivElement>(null);
  const legend = useRef<(HTMLElement | null)[]>([]);
  const [colors, setColors] = useState<string[]>([]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: `scheme` recreates the chart with the other theme's colours.
  useEffect(() => {
    const element = container.current;
    if (!element) return;
    const theme = readChartTheme();
    setColors(
      panel.series.map((series, index) =>
        series.color ? resolveColor(series.color, theme) : theme.series[index % theme.series.length]!,
      ),
    );
    const chart = new TimeSeriesChart(element, panel, theme, store, legend.current);
    const applyView = () => {
      const view = viewStore.getSnapshot();
      chart.setWindow(view.windowMs);
      chart.setPaused(view.paused);
    };
    applyView();
    const offView = viewStore.subscribe(applyView);
    const offData = store.subscribe(() => chart.invalidate());
    // Catch up at once when the page becomes visible again: everything that arrived meanwhile is in the store.
    const onVisible = () => document.visibilityState === 'visible' && chart.invalidate();
    document.addEventListener('visibilitychange', onVisible);
    chart.invalidate();
    return () => {
      document.removeEventListener('visibilitychange', onVisible);
      offData();
      offView();
      chart.destroy();
    };
  }, [panel, store, scheme]);

  return (
    <PanelFrame panel={panel} status={{ stale: staleSince !== -1, ts: Math.max(0, staleSince) }}>
      <div className="chart-legend">
        {panel.series.map((series, index) => (
          <span key={series.field}>
            <i style={{ background: colors[index] }} />
            {series.label}
            <b
              className="num"
              data-testid={`legend-${panel.id}-${index}`}
              ref={(element) => {
                legend.current[index] = element;
              }}
            >
              —
            </b>
          </span>
        ))}
      </div>
      <div
        className="chart"
        ref={container}
        role="img"
        aria-label={`${panel.title} chart: ${panel.series.map((s) => s.label).join(', ')}`}
      />
    </PanelFrame>
  );
}
