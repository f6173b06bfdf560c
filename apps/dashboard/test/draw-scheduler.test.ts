import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DrawScheduler } from '../src/charts/draw-scheduler.js';

describe('DrawScheduler', () => {
  let frames: FrameRequestCallback[];
  let now: number;

  beforeEach(() => {
    frames = [];
    now = 0;
    vi.stubGlobal('requestAnimationFrame', (callback: FrameRequestCallback) => frames.push(callback));
    vi.spyOn(performance, 'now').mockImplementation(() => now);
  });
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.restoreAllMocks();
  });

  const runFrame = () => frames.shift()?.(now);

  it('draws each requesting chart once per frame, however often it asked', () => {
    const scheduler = new DrawScheduler({
      budgetMs: 8,
      minIntervalMs: 0,
      maxShare: Number.POSITIVE_INFINITY,
    });
    const draw = vi.fn();
    for (let i = 0; i < 100; i++) scheduler.request(draw);
    expect(frames).toHaveLength(1);
    runFrame();
    expect(draw).toHaveBeenCalledTimes(1);
    expect(frames).toHaveLength(0);
  });

  it('stops at the frame budget and draws the rest first on the next frame', () => {
    const scheduler = new DrawScheduler({
      budgetMs: 8,
      minIntervalMs: 0,
      maxShare: Number.POSITIVE_INFINITY,
    });
    const drawn: string[] = [];
    const slow = (name: string) => () => {
      drawn.push(name);
      now += 5;
    };
    const [a, b, c] = [slow('a'), slow('b'), slow('c')];
    scheduler.request(a);
    scheduler.request(b);
    scheduler.request(c);
    runFrame();
    expect(drawn).toEqual(['a', 'b']);
    scheduler.request(a); // asks again: goes behind c
    runFrame();
    expect(drawn).toEqual(['a', 'b', 'c', 'a']);
  });

  it('draws one chart at most once per minimum interval, keeping the request', () => {
    const scheduler = new DrawScheduler({
      budgetMs: 8,
      minIntervalMs: 33,
      maxShare: Number.POSITIVE_INFINITY,
    });
    const draw = vi.fn();
    scheduler.request(draw);
    runFrame();
    now += 16;
    scheduler.request(draw);
    runFrame();
    expect(draw).toHaveBeenCalledTimes(1);
    now += 17;
    runFrame();
    expect(draw).toHaveBeenCalledTimes(2);
    expect(frames).toHaveLength(0);
  });

  it('draws less often when drawing is slow, so all charts stay under their share of the time', () => {
    const scheduler = new DrawScheduler({ budgetMs: 100, minIntervalMs: 33, maxShare: 0.5 });
    const charts = Array.from({ length: 4 }, () => () => {
      now += 10; // a slow machine: 10 ms a draw
    });
    for (const chart of charts) scheduler.request(chart);
    runFrame();
    // 4 charts × 10 ms / 0.5 = 80 ms between draws of one chart, not 33.
    expect(scheduler.intervalMs).toBe(80);
  });

  it('forgets a cancelled chart', () => {
    const scheduler = new DrawScheduler({
      budgetMs: 8,
      minIntervalMs: 0,
      maxShare: Number.POSITIVE_INFINITY,
    });
    const draw = vi.fn();
    scheduler.request(draw);
    scheduler.cancel(draw);
    runFrame();
    expect(draw).not.toHaveBeenCalled();
  });
});
