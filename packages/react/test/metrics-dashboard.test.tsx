// @vitest-environment happy-dom
import { resetDefaultClient } from '@livedash/react';
import { cleanup, render, screen, waitFor } from '@testing-library/react';
import { StrictMode } from 'react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MetricsDashboard } from './fixtures/metrics-dashboard.js';
import { startApp, type TestServer } from './helpers/live-server.js';

let t: TestServer;

beforeEach(async () => {
  // The real host-metrics source, publishing `metrics` every 200 ms.
  t = await startApp({ metricsIntervalMs: 200 });
  // The page is served by this server (startApp sets happy-dom's URL), so the guide's component
  // needs no provider and no configuration: the hooks' shared client connects to the page's origin.
  // It uses the page's own WebSocket (happy-dom's), as a browser would: nothing is injected.
});

afterEach(async () => {
  cleanup();
  resetDefaultClient();
  await t.close();
});

function percent(label: string): number {
  return Number(screen.getByRole('meter', { name: label }).getAttribute('value'));
}

describe("the guide's MetricsDashboard", () => {
  it('renders live CPU and memory from the real server with only its imports changed', async () => {
    render(<MetricsDashboard />);
    expect(percent('CPU')).toBe(0);
    expect(percent('Memory')).toBe(0);
    // Memory in use is never 0 on a running machine: a non-zero value came from the host-metrics source.
    await waitFor(() => expect(percent('Memory')).toBeGreaterThan(0), { timeout: 10_000 });
    expect(percent('Memory')).toBeLessThanOrEqual(100);
    expect(percent('CPU')).toBeGreaterThanOrEqual(0);
    expect(percent('CPU')).toBeLessThanOrEqual(100);
    expect(t.upgrades()).toBe(1);
  });

  it('shares the one connection between several copies', async () => {
    render(
      <>
        <MetricsDashboard />
        <MetricsDashboard />
        <MetricsDashboard />
      </>,
    );
    await waitFor(
      () =>
        expect(
          screen.getAllByRole('meter', { name: 'Memory' }).every((m) => Number(m.getAttribute('value')) > 0),
        ).toBe(true),
      { timeout: 10_000 },
    );
    expect(t.upgrades()).toBe(1);
    expect(await t.openConnections()).toBe(1);
  });

  it('under StrictMode opens one connection and leaves no subscription after unmount', async () => {
    const { unmount } = render(
      <StrictMode>
        <MetricsDashboard />
      </StrictMode>,
    );
    await waitFor(() => expect(percent('Memory')).toBeGreaterThan(0), { timeout: 10_000 });
    expect(t.upgrades()).toBe(1);
    expect(t.subscriptions()).toBe(1);
    unmount();
    await waitFor(() => expect(t.subscriptions()).toBe(0));
  });
});
