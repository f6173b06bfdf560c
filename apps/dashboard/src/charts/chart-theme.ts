import type { PanelColor } from '@livedash/dashboard-config';

/**
 * Canvas cannot read CSS variables, so charts take the theme's colours as values, read once from the
 * stylesheet when a chart is created (and again when the system switches between light and dark).
 */
export interface ChartTheme {
  muted: string;
  grid: string;
  font: string;
  series: string[];
  named: Record<'ok' | 'info' | 'warning' | 'critical' | 'neutral', string>;
}

export function readChartTheme(element: Element = document.documentElement): ChartTheme {
  const style = getComputedStyle(element);
  const read = (name: string) => style.getPropertyValue(name).trim();
  return {
    muted: read('--muted'),
    grid: read('--grid'),
    font: read('--font') || 'system-ui, sans-serif',
    series: [1, 2, 3, 4, 5].map((n) => read(`--series-${n}`)),
    named: {
      ok: read('--ok'),
      info: read('--info'),
      warning: read('--warning'),
      critical: read('--critical'),
      neutral: read('--neutral'),
    },
  };
}

export function resolveColor(color: PanelColor, theme: ChartTheme): string {
  return color.startsWith('#') ? color : theme.named[color as keyof ChartTheme['named']];
}
