/** Most of a frame's time charts may take, ms: the rest is left for input, layout and paint. */
export const FRAME_BUDGET_MS = 8;
/** Least time between two draws of one chart, ms: 30 redraws a second look smooth and cost half of 60. */
export const MIN_DRAW_INTERVAL_MS = 33;

/**
 * One animation-frame loop for every chart on the page. Each frame it draws the charts that asked,
 * oldest request first, until the frame budget is spent; the others draw next frame. Under a firehose
 * the page keeps its frame rate and charts take turns, instead of every chart drawing every frame
 * until the page stutters.
 *
 * @example
 * drawScheduler.request(chart.draw); // draws on the next frame with budget left
 */
export class DrawScheduler {
  readonly #pending = new Set<() => void>();
  readonly #drawnAt = new WeakMap<() => void, number>();
  readonly #budgetMs: number;
  readonly #minIntervalMs: number;
  #frame = 0;

  constructor(budgetMs = FRAME_BUDGET_MS, minIntervalMs = MIN_DRAW_INTERVAL_MS) {
    this.#budgetMs = budgetMs;
    this.#minIntervalMs = minIntervalMs;
  }

  request(draw: () => void): void {
    this.#pending.add(draw);
    if (this.#frame === 0) this.#frame = requestAnimationFrame(this.#run);
  }

  cancel(draw: () => void): void {
    this.#pending.delete(draw);
  }

  #run = (): void => {
    this.#frame = 0;
    const started = performance.now();
    // A Set iterates in insertion order: charts left over from the last frame go first.
    for (const draw of this.#pending) {
      // Drawn a moment ago: it waits (keeping its place) until its interval has passed.
      if (started - (this.#drawnAt.get(draw) ?? Number.NEGATIVE_INFINITY) < this.#minIntervalMs) continue;
      this.#pending.delete(draw);
      draw();
      const now = performance.now();
      this.#drawnAt.set(draw, now);
      if (now - started >= this.#budgetMs) break;
    }
    if (this.#pending.size > 0) this.#frame = requestAnimationFrame(this.#run);
  };
}

export const drawScheduler = new DrawScheduler();
