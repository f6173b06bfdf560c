import { validateDashboardConfig } from '@livedash/dashboard-config';
import type { LivedashApp } from 'livedash';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Browser, openBrowser } from './helpers/browser.js';
import { publish, startServer } from './helpers/dashboard-server.js';

// Every panel type, with the values whose labels are widest: bytes a second just under a KiB
// ("0.98 KiB/s"), hundreds of MiB/s, negative decimals, seven-digit counts, long text.
const config = validateDashboardConfig({
  title: 'Labels',
  panels: [
    {
      id: 'network',
      type: 'timeseries',
      title: 'Network',
      channel: 'net',
      unit: 'B/s',
      series: [
        { field: 'rx', label: 'rx' },
        { field: 'tx', label: 'tx' },
      ],
    },
    {
      id: 'fast-network',
      type: 'timeseries',
      title: 'Backbone',
      channel: 'net',
      unit: 'B/s',
      series: [{ field: 'backbone', label: 'in' }],
    },
    {
      id: 'cpu',
      type: 'timeseries',
      title: 'CPU',
      channel: 'host',
      unit: '%',
      min: 0,
      max: 100,
      series: [{ field: 'cpu', label: 'CPU' }],
      thresholds: [{ value: 90, color: 'critical' }],
    },
    {
      id: 'freezer',
      type: 'timeseries',
      title: 'Freezer',
      channel: 'host',
      unit: '°C',
      decimals: 2,
      series: [{ field: 'freezer', label: 'air' }],
    },
    {
      id: 'requests',
      type: 'timeseries',
      title: 'Requests',
      channel: 'host',
      series: [{ field: 'requests', label: 'total' }],
    },
    {
      id: 'cpu-gauge',
      type: 'gauge',
      title: 'CPU',
      channel: 'host',
      field: 'cpu',
      unit: '%',
      decimals: 1,
      thresholds: [{ value: 90, color: 'critical' }],
    },
    {
      id: 'queue-gauge',
      type: 'gauge',
      title: 'Queue',
      channel: 'host',
      field: 'requests',
      min: 0,
      max: 10_000_000,
    },
    { id: 'rx-stat', type: 'stat', title: 'Network in', channel: 'net', field: 'backbone', unit: 'B/s' },
    { id: 'requests-stat', type: 'stat', title: 'Requests', channel: 'host', field: 'requests' },
    { id: 'label-stat', type: 'stat', title: 'Build', channel: 'host', field: 'build' },
    {
      id: 'disks',
      type: 'table',
      title: 'Disks',
      channel: 'host',
      field: 'disks',
      columns: [
        { field: 'mount', label: 'Mount' },
        { field: 'used', label: 'Used', unit: 'B' },
        { field: 'use', label: 'Use', unit: '%', bar: true },
      ],
    },
    { id: 'notes', type: 'log', title: 'Notes', channel: 'notes', field: 'text' },
    { id: 'alerts', type: 'alerts', title: 'Alerts' },
  ],
});

/** A text box drawn on a chart's canvas, in page pixels, and the panel it belongs to. */
interface Box {
  panel: string;
  text: string;
  left: number;
  right: number;
  top: number;
  bottom: number;
  bounds: { left: number; right: number; top: number; bottom: number };
}

/**
 * Records every `fillText` on a canvas with its measured box (the browser's own text metrics, under
 * the context's transform), keeping only what was drawn since the canvas was last cleared whole:
 * what is on screen now, however uPlot chose to draw it.
 */
function recordCanvasText(): void {
  const drawn = new WeakMap<
    HTMLCanvasElement,
    { text: string; x0: number; x1: number; y0: number; y1: number }[]
  >();
  (window as unknown as { __canvasText: typeof drawn }).__canvasText = drawn;
  const proto = CanvasRenderingContext2D.prototype;
  const { fillText, clearRect } = proto;
  proto.clearRect = function (x, y, w, h) {
    if (x <= 0 && y <= 0 && w >= this.canvas.width && h >= this.canvas.height) drawn.set(this.canvas, []);
    return clearRect.call(this, x, y, w, h);
  };
  proto.fillText = function (text, x, y, maxWidth) {
    const m = this.measureText(text);
    const t = this.getTransform();
    const corners = [
      [x - m.actualBoundingBoxLeft, y - m.actualBoundingBoxAscent],
      [x + m.actualBoundingBoxRight, y - m.actualBoundingBoxAscent],
      [x - m.actualBoundingBoxLeft, y + m.actualBoundingBoxDescent],
      [x + m.actualBoundingBoxRight, y + m.actualBoundingBoxDescent],
    ].map(([px, py]) => [t.a * px! + t.c * py! + t.e, t.b * px! + t.d * py! + t.f] as const);
    const xs = corners.map((c) => c[0]);
    const ys = corners.map((c) => c[1]);
    const list = drawn.get(this.canvas) ?? [];
    list.push({
      text: String(text),
      x0: Math.min(...xs),
      x1: Math.max(...xs),
      y0: Math.min(...ys),
      y1: Math.max(...ys),
    });
    drawn.set(this.canvas, list);
    return fillText.call(this, text, x, y, maxWidth);
  };
}

/** Every label on screen: canvas text of charts and every text element of the other panels. */
async function labelBoxes(browser: Browser): Promise<Box[]> {
  return browser.page.evaluate(() => {
    const drawn = (
      window as unknown as {
        __canvasText: WeakMap<
          HTMLCanvasElement,
          { text: string; x0: number; x1: number; y0: number; y1: number }[]
        >;
      }
    ).__canvasText;
    const boxes: Box[] = [];
    for (const panel of document.querySelectorAll<HTMLElement>('section.panel')) {
      const name = panel.querySelector('h2')?.textContent ?? '?';
      const p = panel.getBoundingClientRect();
      const bounds = { left: p.left, right: p.right, top: p.top, bottom: p.bottom };
      for (const canvas of panel.querySelectorAll('canvas')) {
        const rect = canvas.getBoundingClientRect();
        const scale = rect.width / canvas.width;
        // A label must stay inside its canvas too: what is outside it is not drawn at all.
        const canvasBounds = {
          left: Math.max(bounds.left, rect.left),
          right: Math.min(bounds.right, rect.right),
          top: Math.max(bounds.top, rect.top),
          bottom: Math.min(bounds.bottom, rect.bottom),
        };
        for (const label of drawn.get(canvas) ?? []) {
          boxes.push({
            panel: name,
            text: label.text,
            left: rect.left + label.x0 * scale,
            right: rect.left + label.x1 * scale,
            top: rect.top + label.y0 * scale,
            bottom: rect.top + label.y1 * scale,
            bounds: canvasBounds,
          });
        }
      }
      // Text outside canvases: every element whose own text is not empty (SVG text included).
      for (const element of panel.querySelectorAll<Element>('*')) {
        const own = [...element.childNodes].some(
          (n) => n.nodeType === Node.TEXT_NODE && n.textContent?.trim(),
        );
        if (!own) continue;
        const range = document.createRange();
        range.selectNodeContents(element);
        const r = range.getBoundingClientRect();
        if (r.width === 0 && r.height === 0) continue;
        boxes.push({
          panel: name,
          text: element.textContent?.trim() ?? '',
          left: r.left,
          right: r.right,
          top: r.top,
          bottom: r.bottom,
          bounds,
        });
      }
    }
    return boxes;
  });
}

/**
 * Values that fit their panel but not their place: a gauge's value wider than the inside of its ring
 * (it would run over the arc), a stat's number broken across lines.
 */
async function misplacedValues(browser: Browser): Promise<string[]> {
  return browser.page.evaluate(() => {
    const problems: string[] = [];
    for (const gauge of document.querySelectorAll<SVGSVGElement>('.gauge svg')) {
      const value = gauge.querySelector('.gauge-value');
      const ring = gauge.querySelector<SVGPathElement>('path[stroke="var(--track)"]');
      if (!value || !ring) continue;
      const scale = gauge.getBoundingClientRect().width / gauge.viewBox.baseVal.width;
      const stroke = Number(ring.getAttribute('stroke-width')) * scale;
      const r = ring.getBoundingClientRect();
      const v = value.getBoundingClientRect();
      if (v.left < r.left + stroke || v.right > r.right - stroke)
        problems.push(
          `gauge "${value.textContent}" ${v.left.toFixed(1)}…${v.right.toFixed(1)} over its ring ${(r.left + stroke).toFixed(1)}…${(r.right - stroke).toFixed(1)}`,
        );
    }
    for (const stat of document.querySelectorAll<HTMLElement>('.stat-value.num')) {
      const range = document.createRange();
      range.selectNodeContents(stat);
      // A box that starts below everything before it starts a new line (the unit is smaller, so
      // its box is shorter, but on the same line it overlaps the number's).
      const rects = [...range.getClientRects()].sort((a, b) => a.top - b.top);
      let lines = 0;
      let bottom = Number.NEGATIVE_INFINITY;
      for (const rect of rects) {
        if (rect.top >= bottom - 1) lines++;
        bottom = Math.max(bottom, rect.bottom);
      }
      if (lines > 1) problems.push(`stat "${stat.textContent}" broken over ${lines} lines`);
    }
    return problems;
  });
}

/** Labels sticking out of their panel (or chart canvas) by more than half a pixel. */
function outside(boxes: Box[]): string[] {
  return boxes
    .filter(
      (b) =>
        b.left < b.bounds.left - 0.5 ||
        b.right > b.bounds.right + 0.5 ||
        b.top < b.bounds.top - 0.5 ||
        b.bottom > b.bounds.bottom + 0.5,
    )
    .map(
      (b) =>
        `${b.panel}: "${b.text}" at ${b.left.toFixed(1)}…${b.right.toFixed(1)} × ${b.top.toFixed(1)}…${b.bottom.toFixed(1)}, panel ${b.bounds.left.toFixed(1)}…${b.bounds.right.toFixed(1)} × ${b.bounds.top.toFixed(1)}…${b.bounds.bottom.toFixed(1)}`,
    );
}

describe('axis and value labels fit their panels', () => {
  let server: LivedashApp;

  beforeAll(async () => {
    if (!config.ok) throw new Error(config.error);
    server = await startServer({ dashboard: config.value });
    // Two minutes of history, one point every 2 s, so charts start with full axes.
    for (let i = 0; i < 12; i++) {
      await publish(server.url, 'net', {
        rx: 1390 - i * 3,
        tx: 612 + i * 7,
        backbone: 512 * 2 ** 20 + i * 2 ** 22,
      });
      await publish(server.url, 'host', {
        cpu: 99.9 - i,
        freezer: -18.25 - i / 10,
        requests: 9_876_543 + i * 1000,
        build: 'release-2026.12.05-rc.3+sha.9f3c2e1',
        disks: [
          { mount: '/var/lib/postgresql/data', used: 987 * 2 ** 30, use: 96.4 },
          { mount: '/', used: 12 * 2 ** 30, use: 41 },
        ],
      });
    }
    await publish(server.url, 'notes', {
      text: 'deploy of release-2026.12.05-rc.3 finished on all 48 hosts',
    });
  });

  afterAll(async () => {
    await server?.close();
  });

  for (const view of [
    { name: 'desktop', width: 1440, height: 1000, colorScheme: 'light' as const },
    { name: 'phone', width: 390, height: 844, colorScheme: 'dark' as const },
  ]) {
    it(`on a ${view.name} (${view.width} px), every label of every panel type is inside its panel`, async () => {
      const browser = await openBrowser(view);
      try {
        await browser.page.addInitScript(recordCanvasText);
        await browser.page.goto(server.url);
        await browser.page
          .locator('[data-testid=connection-badge][data-status=open]')
          .waitFor({ timeout: 15_000 });
        // The network chart has drawn its axis (the label text is what the issue was about).
        await expect
          .poll(
            async () => (await labelBoxes(browser)).filter((b) => b.panel === 'Network').map((b) => b.text),
            {
              timeout: 15_000,
            },
          )
          .toContainEqual(expect.stringMatching(/KiB\/s$/));
        await expect
          .poll(
            async () => (await labelBoxes(browser)).filter((b) => b.panel === 'Backbone').map((b) => b.text),
            {
              timeout: 15_000,
            },
          )
          .toContainEqual(expect.stringMatching(/MiB\/s$/));
        const boxes = await labelBoxes(browser);
        await browser.screenshot(`axis-labels-${view.name}`);
        // Each chart drew its y-axis labels (a test that measured nothing would pass too easily).
        for (const panel of ['Network', 'Backbone', 'CPU', 'Freezer', 'Requests'])
          expect(boxes.filter((b) => b.panel === panel).length, panel).toBeGreaterThan(3);
        expect(outside(boxes)).toEqual([]);
        expect(await misplacedValues(browser)).toEqual([]);
        expect(browser.errors).toEqual([]);
      } finally {
        await browser.close();
      }
    });
  }
});
