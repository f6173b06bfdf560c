/** Most of a frame's time charts may take, ms: the rest is left for input, layout and paint. */
export const FRAME_BUDGET_MS = 8;
/** Least time between two draws of one chart, ms: 30 redraws a second look smooth and cost half of 60. */
export const MIN_DRAW_INTERVAL_MS = 33;
/** Largest share of the page's time all charts together may take when drawing is slow (a busy CPU). */
export const MAX_CHART_SHARE = 0.35;

export interface DrawSchedulerOptions {
  budgetMs?: number;
  minIntervalMs?: number;
  maxShare?: number;
}

/**
 * One animation-frame loop for every chart on the page. Each frame it draws the charts that asked,
 * oldest request first, until the frame budget is spent; the others draw next frame. Each chart draws
 * at most every `minIntervalMs`, and less often when drawing is slow: the interval grows so that all
 * charts together stay under `maxShare` of the time (measured: an average of recent draw times). Under
 * a firehose on a busy machine the page keeps its frame rate and its controls stay responsive; charts
 * update less often instead of everything stuttering.
 *
 * @example
 * drawScheduler.request(chart.draw); // draws on a coming frame with budget left
 */
export class DrawScheduler {
  readonly #pending = new Set<() => void>();
  readonly #charts = new Set<() => void>();
  readonly #drawnAt = new WeakMap<() => void, number>();
  readonly #budgetMs: number;
  readonly #minIntervalMs: number;
  readonly #maxShare: number;
  /** Moving average of one draw's duration, ms. */
  #drawMs = 0;
  #frame = 0;

  constructor(options: DrawSchedulerOptions = {}) {
    this.#budgetMs = options.budgetMs ?? FRAME_BUDGET_MS;
    this.#minIntervalMs = options.minIntervalMs ?? MIN_DRAW_INTERVAL_MS;
    this.#maxShare = options.maxShare ?? MAX_CHART_SHARE;
  }

  /** Least time between two draws of one chart right now, ms. */
  get intervalMs(): number {
    return Math.max(this.#minIntervalMs, (this.#drawMs * this.#charts.size) / this.#maxShare);
  }

  request(draw: () => void): void {
    this.#charts.add(draw);
    this.#pending.add(draw);
    if (this.#frame === 0) this.#frame = requestAnimationFrame(this.#run);
  }

  /** Forgets a chart (when it is destroyed). */
  cancel(draw: () => void): void {
    this.#pending.delete(draw);
    this.#charts.delete(draw);
  }

  #run = (): void => {
    this.#frame = 0;
    const started = performance.now();
    const interval = this.intervalMs;
    // A Set iterates in insertion order: charts left over from the last frame go first.
    for (const draw of this.#pending) {
      // Drawn a moment ago: it waits (keeping its place) until its interval has passed.
      if (started - (this.#drawnAt.get(draw) ?? Number.NEGATIVE_INFINITY) < interval) continue;
      this.#pending.delete(draw);
      const before = performance.now();
      draw();
      const now = performance.now();
      this.#drawMs = this.#drawMs === 0 ? now - before : this.#drawMs * 0.8 + (now - before) * 0.2;
      this.#drawnAt.set(draw, now);
      if (now - started >= this.#budgetMs) break;
    }
    if (this.#pending.size > 0) this.#frame = requestAnimationFrame(this.#run);
  };
}

export const drawScheduler = new DrawScheduler();
