// @vitest-environment happy-dom
import { useBufferedUpdates } from '@livedash/react';
import { act, cleanup, render, screen, waitFor } from '@testing-library/react';
import { Profiler } from 'react';
import { interval, map, Subject as RxSubject, take } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import './helpers/patience.js';

/** Shaped like an RxJS Subject: `subscribe(fn)` → `{ unsubscribe }`. */
class Subject<T> {
  readonly observers = new Set<(value: T) => void>();
  subscribe(next: (value: T) => void): { unsubscribe(): void } {
    this.observers.add(next);
    return { unsubscribe: () => this.observers.delete(next) };
  }
  next(value: T): void {
    for (const observer of [...this.observers]) observer(value);
  }
}

afterEach(() => {
  cleanup();
});

let largestRendered = 0;
function Ticks({
  source,
  flush,
  capacity,
}: {
  source: Subject<number>;
  flush: number | 'frame';
  capacity: number;
}) {
  const ticks = useBufferedUpdates(source, flush, capacity);
  largestRendered = Math.max(largestRendered, ticks.length);
  return <span data-testid="ticks">{`${ticks.length}:${ticks.at(0) ?? '-'}..${ticks.at(-1) ?? '-'}`}</span>;
}

const ticks$ = interval(1).pipe(
  take(300),
  map((n) => n + 1),
);
function RxTicks() {
  const ticks = useBufferedUpdates(ticks$, 20, 50);
  return <span data-testid="rx">{`${ticks.length}:${ticks.at(-1) ?? '-'}`}</span>;
}

const subject = new RxSubject<number>();
function RxSubjectTicks() {
  const values = useBufferedUpdates(subject, 'frame', 5);
  return <span data-testid="rx-subject">{values.join(',')}</span>;
}

describe('useBufferedUpdates', () => {
  it('never holds more than capacity in a burst, renders once per flush, and shows the newest', async () => {
    largestRendered = 0;
    const source = new Subject<number>();
    let commits = 0;
    render(
      <Profiler id="ticks" onRender={() => commits++}>
        <Ticks source={source} flush={50} capacity={100} />
      </Profiler>,
    );
    const before = commits;
    act(() => {
      for (let i = 1; i <= 10_000; i++) source.next(i);
    });
    await waitFor(() => expect(screen.getByTestId('ticks').textContent).toBe('100:9901..10000'));
    expect(largestRendered).toBe(100);
    expect(commits - before).toBe(1);
  });

  it("flushes on animation frames with 'frame'", async () => {
    const source = new Subject<string>();
    render(<Ticks source={source as never} flush="frame" capacity={3} />);
    act(() => {
      for (const n of [1, 2, 3, 4, 5]) source.next(String(n));
    });
    await waitFor(() => expect(screen.getByTestId('ticks').textContent).toBe('3:3..5'));
  });

  it('follows a new source and unsubscribes from the old one and on unmount', async () => {
    const first = new Subject<number>();
    const second = new Subject<number>();
    const { rerender, unmount } = render(<Ticks source={first} flush={10} capacity={10} />);
    expect(first.observers.size).toBe(1);
    rerender(<Ticks source={second} flush={10} capacity={10} />);
    expect(first.observers.size).toBe(0);
    expect(second.observers.size).toBe(1);
    act(() => second.next(42));
    await waitFor(() => expect(screen.getByTestId('ticks').textContent).toBe('1:42..42'));
    unmount();
    expect(second.observers.size).toBe(0);
  });

  it('takes RxJS observables as they are, unsubscribing on unmount', async () => {
    const { unmount } = render(<RxTicks />);
    await waitFor(() => expect(screen.getByTestId('rx').textContent).toBe('50:300'));

    render(<RxSubjectTicks />);
    expect(subject.observed).toBe(true);
    act(() => {
      for (let i = 1; i <= 1000; i++) subject.next(i);
    });
    await waitFor(() => expect(screen.getByTestId('rx-subject').textContent).toBe('996,997,998,999,1000'));
    unmount();
    cleanup();
    expect(subject.observed).toBe(false);
  });
});
