import type { HistoryEntry } from '@livedash/client';
import {
  formatValue,
  isByteUnit,
  readNumber,
  type Threshold,
  type TimeseriesPanel,
} from '@livedash/dashboard-config';
import uPlot from 'uplot';
import { axisLabels, BYTE_INCREMENTS } from './axis-ticks.js';
import { cachedSeriesValues, columns } from './chart-columns.js';
import { type ChartTheme, resolveColor } from './chart-theme.js';
import { drawScheduler, MIN_DRAW_INTERVAL_MS } from './draw-scheduler.js';
import { type ChartView, msPerPixel, mustRedraw } from './redraw-gate.js';

/** What the chart reads on each frame: the channel's recent messages, oldest first. */
export interface SeriesSource {
  getSnapshot(): readonly HistoryEntry[];
}

/**
 * One uPlot chart, fed outside React: `invalidate()` asks for a frame, and on the next animation frame
 * with budget left (see DrawScheduler) the chart draws — but only when that changes what is on screen
 * by at least a pixel (see `mustRedraw`): its time axis slid, its newest point moved, or its y-range
 * changed. It draws nothing while paused, while the page is hidden or while it is scrolled out of view;
 * the source keeps collecting, so the first frame after it comes back shows everything that arrived
 * meanwhile. While shown, it asks for a frame by itself each time its time axis is due to slide a pixel.
 *
 * @example
 * const chart = new TimeSeriesChart(div, panel, theme, historyStore, legendValues);
 * const off = historyStore.subscribe(() => chart.invalidate());
 */
export class TimeSeriesChart {
  #plot: uPlot;
  #panel: TimeseriesPanel;
  #source: SeriesSource;
  #legendValues: readonly (HTMLElement | null)[];
  #legendTexts: string[] = [];
  #windowMs = 5 * 60_000;
  #paused = false;
  #inView = true;
  #resize: ResizeObserver;
  #intersection: IntersectionObserver | undefined;
  #container: HTMLElement;
  #values: ReturnType<typeof cachedSeriesValues>;
  /** What the last frame drew, and the newest entry in it. */
  #drawn: ChartView | undefined;
  #drawnNewest: HistoryEntry | undefined;
  /** The timer that asks for a frame when the time axis is due to slide a pixel. */
  #slide: ReturnType<typeof setTimeout> | undefined;
  /** Frames drawn (for tests and the render benchmark: also `data-draws` on the container). */
  draws = 0;

  constructor(
    container: HTMLElement,
    panel: TimeseriesPanel,
    theme: ChartTheme,
    source: SeriesSource,
    legendValues: readonly (HTMLElement | null)[],
  ) {
    this.#panel = panel;
    this.#source = source;
    this.#container = container;
    this.#legendValues = legendValues;
    this.#values = cachedSeriesValues(panel);
    const { width, height } = sizeOf(container);
    this.#plot = new uPlot(chartOptions(panel, theme, width, height), emptyData(panel), container);
    this.#resize = new ResizeObserver(() => {
      const size = sizeOf(container);
      if (size.width !== this.#plot.width || size.height !== this.#plot.height) {
        this.#plot.setSize(size);
        this.invalidate();
      }
    });
    this.#resize.observe(container);
    if (typeof IntersectionObserver === 'function') {
      this.#intersection = new IntersectionObserver((records) => {
        const record = records.at(-1);
        if (!record) return;
        this.#inView = record.isIntersecting;
        // Back in view: catch up at once with everything that arrived meanwhile.
        if (this.#inView) this.invalidate();
      });
      this.#intersection.observe(container);
    }
  }

  setWindow(windowMs: number): void {
    this.#windowMs = windowMs;
    this.invalidate();
  }

  setPaused(paused: boolean): void {
    this.#paused = paused;
    if (!paused) this.invalidate();
  }

  /** Asks for a frame (the next one with budget left); it draws only if something moved on screen. */
  invalidate(): void {
    if (this.#frozen() || !this.#inView) return;
    drawScheduler.request(this.#frame);
  }

  destroy(): void {
    clearTimeout(this.#slide);
    drawScheduler.cancel(this.#frame);
    this.#resize.disconnect();
    this.#intersection?.disconnect();
    this.#plot.destroy();
    this.#container.replaceChildren();
  }

  /** Paused with something drawn: the chart keeps it. A page opened paused still draws its first data. */
  #frozen(): boolean {
    return this.#paused && this.#drawnNewest !== undefined;
  }

  #frame = (): void => {
    if (this.#frozen() || !this.#inView || document.visibilityState === 'hidden') return;
    const entries = this.#source.getSnapshot();
    const newest = entries.at(-1);
    this.#updateLegend(newest);
    const now = Date.now();
    const { width, height } = this.#plotSize();
    const newestValues = newest ? this.#values(newest) : [];
    let addedMin = Number.NaN;
    let addedMax = Number.NaN;
    if (newest !== this.#drawnNewest) {
      // Only the entries since the last frame: walking back stops at the newest one drawn.
      for (let index = entries.length - 1; index >= 0; index--) {
        const entry = entries[index]!;
        if (entry === this.#drawnNewest) break;
        for (const value of this.#values(entry)) {
          if (value === null) continue;
          if (!(value >= addedMin)) addedMin = value;
          if (!(value <= addedMax)) addedMax = value;
        }
      }
    }
    const change = {
      now,
      windowMs: this.#windowMs,
      width,
      height,
      newestTs: newest?.ts,
      newestValues,
      addedMin,
      addedMax,
    };
    if (mustRedraw(this.#drawn, change)) this.#draw(entries, now);
    this.#scheduleSlide();
  };

  #draw(entries: readonly HistoryEntry[], now: number): void {
    const from = now - this.#windowMs;
    const data = columns(entries, this.#panel, from, this.#values);
    this.#plot.batch(() => {
      this.#plot.setData(data, false);
      this.#plot.setScale('x', { min: from / 1000, max: now / 1000 });
    });
    this.draws++;
    // Points and frames drawn, for tests and the curious (cheap: two attributes per drawn frame).
    this.#container.dataset.points = String(data[0].length);
    this.#container.dataset.draws = String(this.draws);
    let dataMin = Number.NaN;
    let dataMax = Number.NaN;
    for (let series = 1; series < data.length; series++) {
      for (const value of data[series]!) {
        if (value === null || value === undefined) continue;
        if (!(value >= dataMin)) dataMin = value;
        if (!(value <= dataMax)) dataMax = value;
      }
    }
    const newest = entries.at(-1);
    const y = this.#plot.scales.y;
    this.#drawn = {
      now,
      windowMs: this.#windowMs,
      ...this.#plotSize(),
      yMin: y?.min ?? 0,
      yMax: y?.max ?? 1,
      dataMin,
      dataMax,
      newestTs: newest?.ts,
      newestValues: newest ? this.#values(newest) : [],
    };
    this.#drawnNewest = newest;
  }

  /** Legend values follow the newest message on every frame, drawn or not (text only when it changed). */
  #updateLegend(newest: HistoryEntry | undefined): void {
    this.#panel.series.forEach((series, index) => {
      const element = this.#legendValues[index];
      if (!element) return;
      const text = formatValue(newest ? readNumber(newest.data, series.field) : null, this.#panel);
      if (this.#legendTexts[index] === text) return;
      this.#legendTexts[index] = text;
      element.textContent = text;
    });
  }

  /** The plotting area, CSS px (uPlot's bbox is in canvas pixels). */
  #plotSize(): { width: number; height: number } {
    const ratio = devicePixelRatio || 1;
    return { width: this.#plot.bbox.width / ratio, height: this.#plot.bbox.height / ratio };
  }

  /** With data on screen, asks for a frame when the time axis will have slid one pixel. */
  #scheduleSlide(): void {
    if (this.#slide !== undefined || this.#drawnNewest === undefined) return;
    const wait = msPerPixel(this.#windowMs, this.#plotSize().width, MIN_DRAW_INTERVAL_MS);
    this.#slide = setTimeout(() => {
      this.#slide = undefined;
      this.invalidate();
    }, wait);
  }
}

function sizeOf(container: HTMLElement): { width: number; height: number } {
  return {
    width: Math.max(120, Math.floor(container.clientWidth)),
    height: Math.max(120, Math.floor(container.clientHeight)),
  };
}

function emptyData(panel: TimeseriesPanel): uPlot.AlignedData {
  return [[], ...panel.series.map(() => [])];
}

function thresholdLines(thresholds: readonly Threshold[], theme: ChartTheme): uPlot.Plugin {
  return {
    hooks: {
      draw: (plot) => {
        const { ctx, bbox } = plot;
        ctx.save();
        ctx.lineWidth = Math.max(1, devicePixelRatio);
        ctx.setLineDash([4 * devicePixelRatio, 4 * devicePixelRatio]);
        for (const threshold of thresholds) {
          const y = plot.valToPos(threshold.value, 'y', true);
          if (y < bbox.top || y > bbox.top + bbox.height) continue;
          ctx.strokeStyle = resolveColor(threshold.color, theme);
          ctx.globalAlpha = 0.7;
          ctx.beginPath();
          ctx.moveTo(bbox.left, y);
          ctx.lineTo(bbox.left + bbox.width, y);
          ctx.stroke();
        }
        ctx.restore();
      },
    },
  };
}

function chartOptions(
  panel: TimeseriesPanel,
  theme: ChartTheme,
  width: number,
  height: number,
): uPlot.Options {
  const axis = {
    stroke: theme.muted,
    grid: { stroke: theme.grid, width: 1 },
    ticks: { show: false },
    font: `11px ${theme.font}`,
  };
  const fixed = panel.min !== undefined || panel.max !== undefined;
  return {
    width,
    height,
    legend: { show: false },
    cursor: { drag: { x: false, y: false }, points: { size: 6 } },
    plugins: panel.thresholds.length > 0 ? [thresholdLines(panel.thresholds, theme)] : [],
    scales: {
      x: { time: true },
      y: fixed
        ? { range: (_plot, dataMin, dataMax) => [panel.min ?? Math.min(0, dataMin), panel.max ?? dataMax] }
        : { range: (_plot, dataMin, dataMax) => niceRange(dataMin, dataMax) },
    },
    axes: [
      {
        ...axis,
        space: 64,
        // 24-hour wall-clock ticks (uPlot's default adds am/pm and a date row); seconds only when they matter.
        values: (_plot, ticks) =>
          ticks.map((tick, index) => clockTick(tick, ticks[index + 1] ?? ticks[index - 1] ?? tick)),
      },
      {
        ...axis,
        gap: Y_AXIS_GAP,
        // As wide as its widest label ("0.98 KiB/s", "10,000,000"), so none is cut at the panel's edge.
        size: (plot, values, axisIndex, cycle) => yAxisSize(plot, values, axisIndex, cycle, axis.font),
        // Byte axes step by round fractions of binary units (0.25, 0.5, 1, 2, 5… KiB): "0.5 KiB/s" is exactly that.
        ...(isByteUnit(panel.unit) ? { incrs: BYTE_INCREMENTS } : {}),
        values: (_plot, ticks) => axisLabels(ticks, panel.unit),
      },
    ],
    series: [
      {},
      ...panel.series.map((series, index) => {
        const stroke = series.color
          ? resolveColor(series.color, theme)
          : theme.series[index % theme.series.length]!;
        const options: uPlot.Series = {
          label: series.label,
          stroke,
          width: 2,
          spanGaps: false,
          // uPlot's default shows points only while they are sparse: a lone message is a dot, not nothing.
        };
        // A soft area under a lone line; several lines stay unfilled so none hides another.
        if (panel.series.length === 1 && /^#[0-9a-f]{6}$/i.test(stroke)) options.fill = `${stroke}1f`;
        return options;
      }),
    ],
  };
}

/** Space between a y-axis label and the plot, CSS px; the same again is left at the outer edge. */
const Y_AXIS_GAP = 6;
/** Narrowest y-axis, CSS px, so charts with short labels ("0", "50%") still line up roughly. */
const MIN_Y_AXIS = 36;

let measuring: CanvasRenderingContext2D | null | undefined;

/**
 * The y-axis width its labels need: the widest label measured in the axis font, plus the gap on both
 * sides. uPlot asks again when the labels change (up to a few times per layout); after the second
 * round it keeps the size it has, so an axis whose labels depend on its own width cannot oscillate.
 */
function yAxisSize(
  plot: uPlot,
  values: readonly (string | null)[] | null,
  axisIndex: number,
  cycle: number,
  font: string,
): number {
  const current = (plot.axes[axisIndex] as { _size?: number } | undefined)?._size;
  if (cycle > 1 && current !== undefined) return current;
  measuring ??= document.createElement('canvas').getContext('2d');
  let widest = 0;
  if (measuring) {
    measuring.font = font;
    for (const value of values ?? [])
      if (value) widest = Math.max(widest, measuring.measureText(value).width);
  }
  return Math.max(MIN_Y_AXIS, Math.ceil(widest + 2 * Y_AXIS_GAP));
}

function niceRange(min: number | null, max: number | null): uPlot.Range.MinMax {
  if (min === null || max === null) return [0, 1];
  const low = Math.min(0, min);
  return [low, max === low ? low + 1 : max + (max - low) * 0.1];
}

function clockTick(seconds: number, neighbour: number): string {
  const date = new Date(seconds * 1000);
  const pad = (n: number) => String(n).padStart(2, '0');
  const minutes = `${pad(date.getHours())}:${pad(date.getMinutes())}`;
  return Math.abs(neighbour - seconds) < 60 ? `${minutes}:${pad(date.getSeconds())}` : minutes;
}
